"""How the test harness starts (tests/conftest.py): pytest-xdist's controller imports conftest.py
before it starts its workers and never runs a test, so the import loads none of the heavy
libraries; the processes that run tests import them in pytest_configure and tune the garbage
collector there."""

import gc
import json
import subprocess
import sys

from conftest import ROOT

HEAVY = ("pulumi", "pulumi_azuread", "mytimetable_o365", "hypothesis", "cryptography", "grpc", "jks")


def test_importing_the_harness_loads_no_heavy_library():
    script = ("import json, sys; sys.path.insert(0, 'tests'); import conftest; "
              f"print(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))")
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True)
    assert json.loads(result.stdout) == []


def test_a_process_that_runs_tests_has_the_harness_imports_and_the_tuned_collector():
    assert {"pulumi", "mytimetable_o365.offline.engine", "hypothesis.internal.observability"} <= set(sys.modules)
    assert gc.get_threshold() == (50_000, 20, 20)
    assert gc.get_freeze_count() > 50_000  # the SDK and the package (85,000 objects in a one-file run)
