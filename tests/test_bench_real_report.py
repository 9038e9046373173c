"""tools/bench_real.py's report (what `make bench` prints for the real-engine case) from measured
samples, and its reading of the plugin wrappers' log."""

import importlib.util
import sys

from support.harness import ROOT

_spec = importlib.util.spec_from_file_location("bench_real", ROOT / "tools" / "bench_real.py")
bench_real = importlib.util.module_from_spec(_spec)
sys.modules.setdefault("bench_real", bench_real)  # its dataclasses look their module up there
_spec.loader.exec_module(bench_real)


def measured(preview_ratios, state_per_integration):
    """Two cycles at N=1 and N=50; each command of the floor takes 2 s of wall and 1 s of CPU; the
    project takes `preview_ratios` of that on its previews and 1.5x on everything else."""
    results = bench_real.Results()
    for size in (1, 50):
        for command, _ in bench_real.COMMANDS:
            for ratio in (preview_ratios if command == "preview" else (1.5, 1.5)):
                results.add((size, "floor", command), bench_real.Sample(2.0, 1.0, 100 * 1024, 300 * 1024))
                results.add((size, "project", command), bench_real.Sample(2.0 * ratio, ratio, 200 * 1024, 400 * 1024))
        for when in ("first", "second"):
            results.state[(size, "floor", when)] = [1000 + 20_000 * size] * 2
            results.state[(size, "project", when)] = [3000 + state_per_integration * size] * 2
    return results


def test_the_report_gives_each_commands_spread_of_paired_ratios_and_judges_the_goals(capsys):
    bench_real.report(measured((1.02, 1.10), 29_000), [1, 50], 2)
    out = capsys.readouterr().out
    assert "preview, N=1                2.12     2.00   1.02 1.06 1.10   1.02 1.06 1.10   200/100    2.00  400/300" in out
    assert "per integration 29000 / 20000 = 1.45x" in out
    assert "state per integration    <= 1.50x: met (1.45x)" in out
    assert "preview, N=1             <= 1.05x: NOT met (1.06x)" in out
    assert "up, N=50                 <= 1.60x: met (1.50x)" in out
    assert "destroy, N=50            <= 1.50x: met (1.50x)" in out


def test_a_state_over_the_goal_is_not_met(capsys):
    bench_real.report(measured((1.0, 1.0), 31_000), [1, 50], 2)
    assert "state per integration    <= 1.50x: NOT met (1.55x)" in capsys.readouterr().out


def test_the_plugin_log_pairs_each_start_with_its_port_and_skips_what_time_adds_on_a_signal():
    log = "\n".join([
        "start dynamic 100.50", "start azuread 100.20", "port azuread 100.60", "port dynamic 100.80",
        "Command terminated by signal 2", "exit azuread 1.50 0.20 0.05 60000", "exit dynamic 1.00 0.25 0.05 52000",
    ])
    starts = bench_real._plugin_starts(log, 100.0)
    assert [round(s["start"], 2) for s in starts["dynamic"]] == [0.5]
    assert round(starts["dynamic"][0]["port"], 2) == 0.3 and round(starts["azuread"][0]["port"], 2) == 0.4
    assert starts["dynamic"][0]["cpu"] == 0.30 and starts["dynamic"][0]["rss"] == 52000
