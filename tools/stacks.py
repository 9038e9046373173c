"""`make stacks [CHANGED_SINCE=<git ref>]`: the workflows' stack matrix, as a JSON list on one line.

Every `Pulumi.<stack>.yaml` in the current folder whose middle is a stack name by the project's one
rule (components/mytimetable_o365/rules/stack_names.py, stacks_from_files: the Pulumi CLI's rule, and
not "." or ".."), so that only plain names reach a job. With --changed-since REF (a pull request's
base): the stacks whose file changed between REF and HEAD, or all of them when any other file
changed too, since code affects every stack.

Runs on a runner's own python3 before any virtualenv exists: the rule is imported from the checkout's
components/ folder, whose package loads nothing on import (a lazy __init__) and whose rules/stack_names.py
and rules/config_values.py import the standard library only.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import pathlib
import subprocess
import sys

COMPONENTS = pathlib.Path(__file__).resolve().parent.parent / "components"


def _rule():
    sys.path.insert(0, str(COMPONENTS))
    try:
        return importlib.import_module("mytimetable_o365.rules.stack_names")
    finally:
        sys.path.remove(str(COMPONENTS))


def changed_files(ref: str) -> list[str]:
    """The files that differ between `ref` and HEAD (three dots: since they parted)."""
    result = subprocess.run(["git", "diff", "--name-only", "--end-of-options", f"{ref}...HEAD"],
                            capture_output=True, text=True, check=False)
    if result.returncode != 0:
        sys.exit(f"make stacks: git diff against {ref!r} failed: {result.stderr.strip()}")
    return [line for line in result.stdout.splitlines() if line]


def stacks_to_run(files: list[str], changed: list[str] | None) -> list[str]:
    rule = _rule()
    every = list(rule.stacks_from_files(files))
    if changed is None or any(rule.stacks_from_files([name]) == () for name in changed):
        return every
    return [stack for stack in every if stack in set(rule.stacks_from_files(changed))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make stacks", description=__doc__.split("\n\n")[0])
    parser.add_argument("--changed-since", metavar="REF", help="only the stacks a change since REF affects")
    args = parser.parse_args(argv)
    changed = changed_files(args.changed_since) if args.changed_since else None
    print(json.dumps(stacks_to_run(sorted(os.listdir(".")), changed)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
