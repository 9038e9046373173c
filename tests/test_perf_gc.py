"""Issue 18: a program that declares integrations collects garbage less often (component/collector.py,
GC_YOUNG_THRESHOLD) and skips the interpreter's collections at exit (gc.freeze at exit), and a
program that tuned the collector itself keeps its choice."""

import gc
import subprocess
import sys

import pytest

from mytimetable_o365.component.config import load_settings
from mytimetable_o365.component import collector as collector_module
from mytimetable_o365.component.collector import GC_YOUNG_THRESHOLD
from mytimetable_o365.component.integration import IntegrationArgs, MyTimetableO365Integration
from mytimetable_o365.offline.engine import evaluate
from conftest import ROOT, integrations, minimal_config


@pytest.fixture
def collector():
    """The test process's collector settings (conftest tunes them), restored afterwards."""
    threshold, enabled = gc.get_threshold(), gc.isenabled()
    skipped = dict(collector_module._final_collection)
    yield
    gc.set_threshold(*threshold)
    gc.enable() if enabled else gc.disable()
    collector_module._final_collection.update(skipped)


def program(threshold, enabled: bool, seen: list):
    """A program that sets the collector as it likes, then declares an integration."""

    def run():
        gc.set_threshold(*threshold)
        gc.enable() if enabled else gc.disable()
        MyTimetableO365Integration("mytimetable", IntegrationArgs(load_settings())).export_outputs()
        seen.append((gc.get_threshold(), gc.isenabled()))

    return run


@pytest.mark.parametrize("threshold, enabled, expected", [
    ((700, 10, 10), True, ((GC_YOUNG_THRESHOLD, 10, 10), True)),  # CPython 3.11 and 3.12's default
    ((2000, 10, 0), True, ((GC_YOUNG_THRESHOLD, 10, 0), True)),  # the older generations stay as they were
    ((GC_YOUNG_THRESHOLD - 1, 3, 4), True, ((GC_YOUNG_THRESHOLD, 3, 4), True)),
    ((GC_YOUNG_THRESHOLD, 10, 10), True, ((GC_YOUNG_THRESHOLD, 10, 10), True)),
    ((200_000, 5, 5), True, ((200_000, 5, 5), True)),  # never lowered
    ((700, 10, 10), False, ((700, 10, 10), False)),  # a disabled collector is left alone
])
def test_declaring_an_integration_raises_the_young_threshold_and_respects_a_tuned_collector(
        collector, tmp_path, monkeypatch, threshold, enabled, expected):
    monkeypatch.chdir(tmp_path)
    seen: list = []
    evaluate(program(threshold, enabled, seen), config=minimal_config(), preview=True)
    assert seen == [expected]


def with_the_collector(enabled: bool, program):
    """`program`, run after enabling or disabling the collector."""

    def run():
        gc.enable() if enabled else gc.disable()
        program()

    return run


@pytest.mark.parametrize("enabled, count, registered", [
    (True, 1, [gc.freeze]),
    (True, 3, [gc.freeze]),  # once per process, however many integrations
    (False, 2, []),  # a disabled collector is left alone
])
def test_declaring_integrations_registers_gc_freeze_at_exit_once_unless_the_collector_is_disabled(
        collector, tmp_path, monkeypatch, enabled, count, registered):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setitem(collector_module._final_collection, "skipped", False)
    seen: list = []
    monkeypatch.setattr(collector_module.atexit, "register", seen.append)
    evaluate(with_the_collector(enabled, integrations(count)), config=minimal_config(), preview=True)
    assert seen == registered


# A fresh process declares an integration under the offline engine, then leaves an object in a
# reference cycle whose finalizer writes to stdout: only the interpreter's collections at exit
# can run it. {opt_out} is the documented way to keep them.
EXIT_SCRIPT = """
import atexit, gc, os, sys
sys.path.insert(0, {components!r})
os.chdir({work!r})
from mytimetable_o365.component.config import load_settings
from mytimetable_o365.component.integration import IntegrationArgs, MyTimetableO365Integration
from mytimetable_o365.offline.engine import evaluate

def program():
    MyTimetableO365Integration("mytimetable", IntegrationArgs(load_settings())).export_outputs()
    {opt_out}

evaluate(program, config={config!r}, preview=True)

class Cycle:
    def __del__(self):
        os.write(1, b"finalized at exit")

cycle = Cycle()
cycle.itself = cycle
del cycle
"""


@pytest.mark.parametrize("opt_out, finalized", [
    ("", False),
    ("atexit.unregister(gc.freeze)", True),
])
def test_a_program_with_an_integration_skips_the_collections_at_exit_unless_it_opts_out(tmp_path, opt_out, finalized):
    script = EXIT_SCRIPT.format(components=str(ROOT / "components"), work=str(tmp_path), opt_out=opt_out,
                                config=minimal_config())
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert ("finalized at exit" in result.stdout) is finalized
    assert result.stderr == ""  # nothing torn down out of order at exit complains
