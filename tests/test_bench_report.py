"""tools/bench.py's report (what `make bench` prints from its measurements), with and without
instruction counts: the figures it derives and the targets' verdicts."""

import importlib.util

import pytest

from support.harness import ROOT

_spec = importlib.util.spec_from_file_location("bench", ROOT / "tools" / "bench.py")
bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench)

CASES = ["floor", "first", "noop", "multi1", "multi10", "multi50", "sdk1", "sdk50", "plan"]


def measured(per_integration_units: float):
    """Two rounds on a machine whose floor takes 0.3 s: each paired case at a fixed ratio."""
    ratios = {"first": 1.4, "noop": 1.05, "multi1": 1.05, "multi10": 1.05 + 9 * per_integration_units,
              "multi50": 1.05 + 49 * per_integration_units, "sdk1": 1.02, "sdk50": 1.02 + 49 * 0.03, "plan": 1.3}
    times = {"floor": [0.3] * 8 * len(ratios)}
    times.update({case: [0.3 * r] * 4 for case, r in ratios.items()})
    adjacent = {case: [r, r] for case, r in ratios.items()}
    return times, adjacent, {case: 60 * 1024 for case in CASES}


COUNTS = {"floor": 1000e6, "first": 1800e6, "noop": 1090e6, "multi1": 1090e6, "multi10": 1700e6, "multi50": 5000e6,
          "sdk1": 1050e6, "sdk50": 4000e6}


@pytest.mark.parametrize("counts", [{}, COUNTS], ids=["times only", "with instructions"])
@pytest.mark.parametrize("units, verdict", [(0.04, "met (12.00 ms paired"), (0.08, "NOT met (24.00 ms paired"),
                                            (0.0666, "met (19.98 ms paired"), (0.0668, "NOT met (20.04 ms paired")])
def test_the_report_derives_the_per_integration_figures_and_judges_the_targets(capsys, counts, units, verdict):
    times, adjacent, rss = measured(units)
    bench.report(CASES, times, adjacent, rss, counts)
    out = capsys.readouterr().out
    assert f"per extra integration (no-op)    <= 20 ms: {verdict}" in out
    assert "per extra group on a no-op, SDK floor (the same registrations, none of the project's code): 9.0 ms paired" in out
    assert "first run (__main__.py, prod)    <= 1.50x: met (1.40x paired, 1.40x mins" in out
    assert "no-op (prior = first run)        <= 1.10x: met (1.05x paired" in out
    if counts:
        assert "per extra integration 79.8 M, per extra SDK-floor group 60.2 M (1.33x)" in out
        assert "1.090x instructions" in out
    else:
        assert "instructions" not in out
