"""The drift check: a preview's exit code becomes a verdict (no drift, drift, no answer), said on the
console and, in GitHub Actions, in the job summary. The Pulumi CLI here is a stand-in script that
prints a diff and exits with the code the real CLI uses (7 for --expect-no-changes meeting a
change); the real CLI's part is proven by e2e/test_workflows_run.py."""

import stat
import subprocess
import sys

import pytest

from mytimetable_o365.commands.drift import summary, verdict
from mytimetable_o365.commands.exit_codes import DriftExit


def stand_in_pulumi(tmp_path, exit_code: int, said: str = "~ mytimetable-app update [diff: ~web]") -> str:
    script = tmp_path / "pulumi"
    script.write_text(f"#!/bin/sh\necho \"$@\" > {tmp_path / 'args'}\necho '{said}'\nexit {exit_code}\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return str(script)


def drift(tmp_path, pulumi: str, *extra: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "mytimetable_o365", "drift", "--stack", "prod", "--pulumi", pulumi, *extra],
                          capture_output=True, text=True, cwd=tmp_path, env=env, timeout=60)


@pytest.mark.parametrize("pulumi_exit, expected", [(0, DriftExit.NO_DRIFT), (7, DriftExit.DRIFT), (1, DriftExit.PREVIEW_FAILED),
                                                   (6, DriftExit.PREVIEW_FAILED), (255, DriftExit.PREVIEW_FAILED)])
def test_only_the_clis_no_changes_expected_exit_is_drift_and_every_other_failure_is_no_answer(pulumi_exit, expected):
    assert verdict(pulumi_exit) == expected


def test_drift_is_reported_with_the_diff_in_the_job_summary_and_an_error_annotation(tmp_path, monkeypatch):
    summary_file = tmp_path / "summary.md"
    env = {"PATH": "/usr/bin:/bin", "GITHUB_STEP_SUMMARY": str(summary_file), "GITHUB_ACTIONS": "true"}
    result = drift(tmp_path, stand_in_pulumi(tmp_path, 7), env=env)
    assert result.returncode == DriftExit.DRIFT, result.stderr
    assert "::error title=Drift in prod::" in result.stdout
    assert "mytimetable-app update [diff: ~web]" in result.stdout
    written = summary_file.read_text()
    assert written.startswith("### Drift in prod") and "mytimetable-app update" in written
    assert (tmp_path / "args").read_text().split() == ["preview", "--stack", "prod", "--refresh", "--expect-no-changes",
                                                       "--diff", "--non-interactive"]


def test_no_drift_says_so_and_a_failed_preview_is_not_called_drift(tmp_path):
    summary_file = tmp_path / "summary.md"
    env = {"PATH": "/usr/bin:/bin", "GITHUB_STEP_SUMMARY": str(summary_file)}
    assert drift(tmp_path, stand_in_pulumi(tmp_path, 0), env=env).returncode == DriftExit.NO_DRIFT
    failed = drift(tmp_path, stand_in_pulumi(tmp_path, 1, "error: the stack is currently locked"), env=env)
    assert failed.returncode == DriftExit.PREVIEW_FAILED
    assert "no verdict on drift" in failed.stderr and "::error" not in failed.stdout
    headings = [line for line in summary_file.read_text().splitlines() if line.startswith("### ")]
    assert headings == ["### No drift in prod", "### Drift check of prod failed: `pulumi preview` exited 1"]


@pytest.mark.parametrize("stack", ["a b", "..", "x;rm -rf ~", ""])
def test_a_stack_name_that_is_no_stack_name_is_refused_before_the_cli_runs(tmp_path, stack):
    pulumi = stand_in_pulumi(tmp_path, 0)
    result = subprocess.run([sys.executable, "-m", "mytimetable_o365", "drift", "--stack", stack, "--pulumi", pulumi],
                            capture_output=True, text=True, cwd=tmp_path, timeout=60)
    assert result.returncode == DriftExit.USAGE and "drift: stack" in result.stderr
    assert not (tmp_path / "args").exists()


def test_a_missing_cli_is_a_usage_error_without_a_traceback(tmp_path):
    result = drift(tmp_path, str(tmp_path / "no-such-pulumi"))
    assert result.returncode == DriftExit.USAGE and "no Pulumi CLI" in result.stderr and "Traceback" not in result.stderr


def test_a_diff_holding_a_code_fence_does_not_break_the_summary():
    text = summary("prod", DriftExit.DRIFT, 7, "before ``` after")
    assert text.splitlines()[1] == "~~~~" and text.rstrip().endswith("~~~~")
