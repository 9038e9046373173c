"""`mytimetable-o365 drift --stack NAME` (`make drift STACK=NAME`; the nightly drift workflow): does
Entra still hold what the stack declares?

It runs `pulumi preview --refresh --expect-no-changes --diff` for the stack, prints its output, and
turns its exit code into a DriftExit: the Pulumi CLI exits 7 when --expect-no-changes meets a change
(pulumi/pulumi v3.276.0, pkg/cmd/pulumi/cmd/exit_codes.go: ExitNoChanges for
backenderr.NoChangesExpectedError), and anything else but 0 is a preview that did not get as far as
an answer (state backend unreachable, stack locked or missing, credentials refused). In GitHub
Actions (GITHUB_STEP_SUMMARY set) the verdict and the preview's output also go into the job
summary, and drift is raised as an error annotation.
"""

from __future__ import annotations

import os
import subprocess
import sys

from ..rules.stack_names import stack_name_problem
from .exit_codes import DriftExit
from .outputs import UsageError

PULUMI_CHANGES_EXPECTED_NONE = 7  # the CLI's ExitNoChanges
PREVIEW_TIMEOUT_SECONDS = 1800


def verdict(pulumi_exit: int) -> DriftExit:
    """The drift check's exit code for the preview's. Pure."""
    if pulumi_exit == 0:
        return DriftExit.NO_DRIFT
    if pulumi_exit == PULUMI_CHANGES_EXPECTED_NONE:
        return DriftExit.DRIFT
    return DriftExit.PREVIEW_FAILED


def summary(stack: str, code: DriftExit, pulumi_exit: int, output: str) -> str:
    """The job summary's Markdown for this check. Pure."""
    title = {DriftExit.NO_DRIFT: f"No drift in {stack}",
             DriftExit.DRIFT: f"Drift in {stack}: Entra differs from the stack; the next deploy (`make up`) repairs it",
             DriftExit.PREVIEW_FAILED: f"Drift check of {stack} failed: `pulumi preview` exited {pulumi_exit}"}[code]
    fence = "~~~~" if "```" in output else "```"
    return f"### {title}\n{fence}\n{output.rstrip()}\n{fence}\n"


def run_drift(args) -> int:
    problem = stack_name_problem(args.stack)
    if problem:
        raise UsageError(f"drift: stack {args.stack!r}: {problem}")
    command = [args.pulumi, "preview", "--stack", args.stack, "--refresh", "--expect-no-changes", "--diff",
               "--non-interactive"]
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=PREVIEW_TIMEOUT_SECONDS)
    except FileNotFoundError:
        raise UsageError(f"drift: no Pulumi CLI at {args.pulumi!r} (--pulumi)") from None
    except subprocess.TimeoutExpired:
        print(f"drift: `pulumi preview` gave no answer within {PREVIEW_TIMEOUT_SECONDS} s", file=sys.stderr)
        return DriftExit.PREVIEW_FAILED
    output = result.stdout + result.stderr
    sys.stdout.write(result.stdout)
    sys.stderr.write(result.stderr)
    code = verdict(result.returncode)
    said = {DriftExit.NO_DRIFT: f"drift: no drift in stack {args.stack}",
            DriftExit.DRIFT: f"drift: Entra differs from stack {args.stack} (the diff above); the next deploy repairs it",
            DriftExit.PREVIEW_FAILED: f"drift: `pulumi preview` failed (exit {result.returncode}); no verdict on drift"}[code]
    print(said, file=sys.stderr if code else sys.stdout)
    summary_file = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary_file:
        with open(summary_file, "a", encoding="utf-8") as handle:
            handle.write(summary(args.stack, code, result.returncode, output))
    if code == DriftExit.DRIFT and os.environ.get("GITHUB_ACTIONS") == "true":
        print(f"::error title=Drift in {args.stack}::Entra differs from the stack; see the job summary")
    return code
