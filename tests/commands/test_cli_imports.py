"""`mytimetable-o365 --help`, each command's `--help`, a plan with no project, a keystore export and
the CLI check before a deploy load none of the heavy libraries.

`plan` defers what imports the Pulumi SDK and `preflight` what imports yaml, so that the help a
user asks for first answers without loading them (commands/cli.py); the keystore file helpers and
the rules import no Pulumi SDK at all.
"""

import json
import subprocess
import sys

import pytest

from support.harness import ROOT, minimal_config

HEAVY = ("pulumi", "pulumi_azuread", "cryptography", "jks", "requests", "msal", "yaml", "grpc")

SCRIPT = """
import contextlib, io, json, sys
sys.path.insert(0, {components!r})
from mytimetable_o365.commands.cli import main
with contextlib.redirect_stdout(io.StringIO()) as out:
    try:
        code = main({argv!r})
    except SystemExit as exit:
        code = exit.code
print(json.dumps({{"code": code, "help": out.getvalue()[:200], "heavy": sorted(m for m in {heavy!r} if m in sys.modules)}}))
"""


@pytest.mark.parametrize("argv", [["--help"], ["keystore", "--help"], ["verify", "--help"], ["plan", "--help"],
                                  ["preflight", "--help"]])
def test_help_loads_no_heavy_library(argv):
    report = run_cli(argv)
    assert report["code"] == 0
    assert report["help"].startswith("usage: mytimetable-o365")
    assert report["heavy"] == []


@pytest.mark.parametrize("argv", [["plan"], ["plan", "--stack", "prod"]])
def test_a_plan_with_no_project_to_plan_stops_before_loading_the_pulumi_sdk(argv, tmp_path):
    report = run_cli(argv, cwd=tmp_path)
    assert report["code"] == 2
    assert "no mytimetable-o365 project here" in report["errors"]
    assert set(report["heavy"]) <= {"yaml"}  # it reads each Pulumi.yaml on the way up for the project's name


def test_writing_the_keystore_from_the_outputs_loads_no_heavy_library(deploy, tmp_path):
    """`mytimetable-o365 keystore` (what `make keystore` runs after each deploy) reads JSON and writes
    a file: its refusal type is a plain exception, not pulumi's RunError (resources/keystore_file.py)."""
    outputs = tmp_path / "outputs.json"
    outputs.write_text(json.dumps(deploy(minimal_config()).outputs))
    report = run_cli(["keystore", "--outputs", str(outputs), "--out", str(tmp_path / "delivered.jks")], cwd=tmp_path)
    assert report["code"] == 0, report["errors"]
    assert (tmp_path / "delivered.jks").read_bytes()[:4] == bytes.fromhex("feedfeed")
    assert report["heavy"] == []


def test_the_cli_check_make_runs_before_each_deploy_loads_no_pulumi_sdk(tmp_path):
    """`make up` and `make preview` run `preflight --only cli` first: the config rules it imports
    are pure (InvalidConfigError is no pulumi RunError; component/config.py makes it one)."""
    pulumi = tmp_path / "pulumi"
    pulumi.write_text("#!/bin/sh\necho v3.276.0\n")
    pulumi.chmod(0o755)
    report = run_cli(["preflight", "--only", "cli", "--pulumi", str(pulumi)], cwd=tmp_path)
    assert report["code"] == 0, report["errors"]
    assert set(report["heavy"]) <= {"yaml"}


def run_cli(argv: list, cwd=None) -> dict:
    script = SCRIPT.format(components=str(ROOT / "components"), argv=argv, heavy=HEAVY)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True, cwd=cwd)
    return {**json.loads(result.stdout.strip().splitlines()[-1]), "errors": result.stderr}
