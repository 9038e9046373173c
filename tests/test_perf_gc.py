"""Issue 18: a program that declares integrations collects garbage less often (component/integration.py,
GC_YOUNG_THRESHOLD), and a program that tuned the collector itself keeps its choice."""

import gc

import pytest

from mytimetable_o365.component.config import load_settings
from mytimetable_o365.component.integration import GC_YOUNG_THRESHOLD, IntegrationArgs, MyTimetableO365Integration
from mytimetable_o365.offline.engine import evaluate
from conftest import minimal_config


@pytest.fixture
def collector():
    """The test process's collector settings (conftest tunes them), restored afterwards."""
    threshold, enabled = gc.get_threshold(), gc.isenabled()
    yield
    gc.set_threshold(*threshold)
    gc.enable() if enabled else gc.disable()


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
