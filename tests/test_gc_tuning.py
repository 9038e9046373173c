"""The interpreter's garbage collector belongs to whoever runs the program: the component leaves it
alone, and the project's own program opts in to mytimetable_o365.gc_tuning (fewer collections
during the run, none at exit), which respects a collector its caller tuned."""

import gc
import subprocess
import sys

import pytest

from mytimetable_emulation.engine import evaluate
from mytimetable_o365 import gc_tuning
from mytimetable_o365.component.config import load_settings
from mytimetable_o365.component.integration import IntegrationArgs, MyTimetableO365Integration
from mytimetable_o365.gc_tuning import GC_YOUNG_THRESHOLD, tune_for_a_pulumi_program
from support.harness import ROOT, integrations, minimal_config


@pytest.fixture
def collector():
    """The test process's collector settings (conftest tunes them), restored afterwards."""
    threshold, enabled = gc.get_threshold(), gc.isenabled()
    skipped = dict(gc_tuning._final_collection)
    yield
    gc.set_threshold(*threshold)
    gc.enable() if enabled else gc.disable()
    gc_tuning._final_collection.update(skipped)


def program(threshold, enabled: bool, seen: list, tune: bool = True):
    """A program that sets the collector as it likes, opts in to the tuning (or not), then declares
    an integration."""

    def run():
        gc.set_threshold(*threshold)
        gc.enable() if enabled else gc.disable()
        if tune:
            tune_for_a_pulumi_program()
        MyTimetableO365Integration("mytimetable", IntegrationArgs(load_settings())).export_outputs()
        seen.append((gc.get_threshold(), gc.isenabled()))

    return run


@pytest.mark.parametrize("threshold, enabled", [((700, 10, 10), True), ((2000, 5, 5), False)])
def test_declaring_integrations_leaves_the_host_s_collector_as_it_was(collector, tmp_path, monkeypatch, threshold,
                                                                     enabled):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setitem(gc_tuning._final_collection, "skipped", False)
    registered: list = []
    monkeypatch.setattr(gc_tuning.atexit, "register", registered.append)
    seen: list = []
    evaluate(program(threshold, enabled, seen, tune=False), config=minimal_config(), preview=True)
    assert seen == [(threshold, enabled)] and registered == []


def test_the_project_s_own_program_opts_in(collector, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    gc.set_threshold(700, 10, 10)
    evaluate(str(ROOT / "__main__.py"), config=minimal_config(), preview=True)
    assert gc.get_threshold()[0] == GC_YOUNG_THRESHOLD


@pytest.mark.parametrize("threshold, enabled, expected", [
    ((700, 10, 10), True, ((GC_YOUNG_THRESHOLD, 10, 10), True)),  # CPython 3.11 and 3.12's default
    ((2000, 10, 0), True, ((GC_YOUNG_THRESHOLD, 10, 0), True)),  # the older generations stay as they were
    ((GC_YOUNG_THRESHOLD - 1, 3, 4), True, ((GC_YOUNG_THRESHOLD, 3, 4), True)),
    ((GC_YOUNG_THRESHOLD, 10, 10), True, ((GC_YOUNG_THRESHOLD, 10, 10), True)),
    ((200_000, 5, 5), True, ((200_000, 5, 5), True)),  # never lowered
    ((700, 10, 10), False, ((700, 10, 10), False)),  # a disabled collector is left alone
])
def test_the_tuning_raises_the_young_threshold_and_respects_a_tuned_collector(
        collector, tmp_path, monkeypatch, threshold, enabled, expected):
    monkeypatch.chdir(tmp_path)
    seen: list = []
    evaluate(program(threshold, enabled, seen), config=minimal_config(), preview=True)
    assert seen == [expected]


def with_the_collector(enabled: bool, program):
    """`program`, run after enabling or disabling the collector and opting in to the tuning."""

    def run():
        gc.enable() if enabled else gc.disable()
        tune_for_a_pulumi_program()
        program()

    return run


@pytest.mark.parametrize("enabled, count, registered", [
    (True, 1, [gc.freeze]),
    (True, 3, [gc.freeze]),  # once per process, however many integrations
    (False, 2, []),  # a disabled collector is left alone
])
def test_the_tuning_registers_gc_freeze_at_exit_once_unless_the_collector_is_disabled(
        collector, tmp_path, monkeypatch, enabled, count, registered):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setitem(gc_tuning._final_collection, "skipped", False)
    seen: list = []
    monkeypatch.setattr(gc_tuning.atexit, "register", seen.append)
    evaluate(with_the_collector(enabled, integrations(count)), config=minimal_config(), preview=True)
    assert seen == registered


# A fresh process declares an integration under the offline engine ({tune}: having opted in to the
# tuning), then leaves an object in a reference cycle whose finalizer writes to stdout: only the
# interpreter's collections at exit can run it. {opt_out} is the documented way to keep them.
EXIT_SCRIPT = """
import atexit, gc, os, sys
sys.path.insert(0, {components!r})
os.chdir({work!r})
from mytimetable_o365.component.config import load_settings
from mytimetable_o365.component.integration import IntegrationArgs, MyTimetableO365Integration
from mytimetable_emulation.engine import evaluate

from mytimetable_o365.gc_tuning import tune_for_a_pulumi_program

def program():
    {tune}
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


@pytest.mark.parametrize("tune, opt_out, finalized", [
    ("tune_for_a_pulumi_program()", "", False),
    ("tune_for_a_pulumi_program()", "atexit.unregister(gc.freeze)", True),
    ("pass", "", True),  # the component alone changes nothing at exit
])
def test_a_tuned_program_skips_the_collections_at_exit_unless_it_opts_out(tmp_path, tune, opt_out, finalized):
    script = EXIT_SCRIPT.format(components=str(ROOT / "components"), work=str(tmp_path), opt_out=opt_out, tune=tune,
                                config=minimal_config())
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert ("finalized at exit" in result.stdout) is finalized
    if tune != "pass":  # untuned, the SDK's event loop may complain as the final collection tears it down
        assert result.stderr == ""  # nothing torn down out of order at exit complains
