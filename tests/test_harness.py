"""How the test harness starts (tests/conftest.py): pytest-xdist's controller imports conftest.py
before it starts its workers and never runs a test, so the import loads none of the heavy
libraries; the processes that run tests import them in pytest_configure and tune the garbage
collector there. The modules with long tests run first (LONG_TESTS_FIRST)."""

import gc
import json
import subprocess
import sys

from conftest import LONG_TESTS_FIRST, pytest_collection_modifyitems
from support.harness import ROOT

# The package itself is light (a lazy __init__, pure rules); its component, resources and the emulation are not.
HEAVY = ("pulumi", "pulumi_azuread", "mytimetable_o365.component", "mytimetable_o365.resources", "mytimetable_emulation",
         "hypothesis", "cryptography", "grpc", "jks")


def test_importing_the_harness_loads_no_heavy_library():
    script = ("import json, sys; sys.path.insert(0, 'tests'); import conftest; "
              f"print(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))")
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True)
    assert json.loads(result.stdout) == []


def test_a_process_that_runs_tests_has_the_harness_imports_and_the_tuned_collector():
    assert {"pulumi", "mytimetable_emulation.engine", "hypothesis.internal.observability"} <= set(sys.modules)
    assert gc.get_threshold() == (50_000, 20, 20)
    assert gc.get_freeze_count() > 50_000  # the SDK and the package (85,000 objects in a one-file run)


def test_the_modules_with_long_tests_are_named_as_they_are_and_run_first():
    """A module renamed or removed would silently drop out of the order: each name is a test module,
    and the sort puts their tests first, in the listed order, and keeps pytest's order otherwise."""
    assert len(set(LONG_TESTS_FIRST)) == len(LONG_TESTS_FIRST)
    assert all(any((ROOT / "tests").rglob(f"{name}.py")) for name in LONG_TESTS_FIRST)

    class Item:
        def __init__(self, module, index):
            self.module, self.index = type(sys)(module), index

    names = ["test_access", LONG_TESTS_FIRST[1], "test_settings", LONG_TESTS_FIRST[0], "test_access", LONG_TESTS_FIRST[1]]
    items = [Item(name, index) for index, name in enumerate(names)]
    pytest_collection_modifyitems(items)
    assert [(item.module.__name__, item.index) for item in items] == [
        (LONG_TESTS_FIRST[0], 3), (LONG_TESTS_FIRST[1], 1), (LONG_TESTS_FIRST[1], 5),
        ("test_access", 0), ("test_settings", 2), ("test_access", 4)]


def test_tests_has_one_conftest_since_a_second_would_shadow_it():
    """Without __init__.py files, pytest's prepend import mode imports every conftest.py as the module
    `conftest`, so a second one below tests/ replaces this one for `from conftest import ...`
    (a tests/commands/conftest.py once failed this module's import)."""
    assert sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "tests").rglob("conftest.py")) == ["tests/conftest.py"]
