"""`mytimetable-o365 --help` and each command's `--help` load none of the heavy libraries.

The command modules defer what imports the Pulumi SDK (plan, preflight, the keystore file helpers),
so that the help a user asks for first answers without loading it (commands/cli.py).
"""

import json
import subprocess
import sys

import pytest

from conftest import ROOT

HEAVY = ("pulumi", "pulumi_azuread", "cryptography", "jks", "requests", "msal", "yaml", "grpc")

SCRIPT = """
import contextlib, io, json, sys
sys.path.insert(0, {components!r})
from mytimetable_o365.commands.cli import main
with contextlib.redirect_stdout(io.StringIO()) as out:
    try:
        main({argv!r})
    except SystemExit as exit:
        code = exit.code
print(json.dumps({{"code": code, "help": out.getvalue()[:200], "heavy": sorted(m for m in {heavy!r} if m in sys.modules)}}))
"""


@pytest.mark.parametrize("argv", [["--help"], ["keystore", "--help"], ["verify", "--help"], ["plan", "--help"],
                                  ["preflight", "--help"]])
def test_help_loads_no_heavy_library(argv):
    script = SCRIPT.format(components=str(ROOT / "components"), argv=argv, heavy=HEAVY)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["code"] == 0
    assert report["help"].startswith("usage: mytimetable-o365")
    assert report["heavy"] == []
