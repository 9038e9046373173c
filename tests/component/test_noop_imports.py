"""A no-op run loads no crypto: the program and providers import cryptography/pyjks only to do key work.

Nor `_strptime`, whose first use costs about 4 ms (rules.certificate.parse_rfc3339 reads dates without it)."""

import json
import pickle
import subprocess
import sys

from support.harness import ROOT, stack_config

SCRIPT = """
import json, pickle, sys
sys.path.insert(0, {root!r})
from mytimetable_emulation.engine import evaluate
prior = pickle.load(open({state!r}, "rb"))
deployment = evaluate({main!r}, config=json.load(open({config!r})), stack="prod", prior=prior)
print(json.dumps({{"changes": deployment.changes(), "heavy": sorted(m for m in ("cryptography", "jks", "_strptime") if m in sys.modules)}}))
"""


def test_a_no_op_evaluation_imports_neither_cryptography_nor_pyjks(deploy, tmp_path):
    first = deploy(stack_config("prod"))
    state, config = tmp_path / "state.pickle", tmp_path / "config.json"
    state.write_bytes(pickle.dumps(first))
    config.write_text(json.dumps(stack_config("prod")))
    script = SCRIPT.format(root=str(ROOT), state=str(state), main=str(ROOT / "__main__.py"), config=str(config))
    result = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, check=True)
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report == {"changes": [], "heavy": []}
