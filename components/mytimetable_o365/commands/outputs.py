"""Stack outputs as `pulumi stack output --json --show-secrets` prints them: the commands' input."""

from __future__ import annotations

import json
import sys


class UsageError(Exception):
    """Bad arguments or input files; reported on stderr with exit code 2."""


def read_outputs(source: str) -> dict:
    """The outputs from a file, or from standard input for `-`."""
    try:
        text = sys.stdin.read() if source == "-" else open(source, encoding="utf-8").read()
        outputs = json.loads(text)
    except OSError as exc:
        raise UsageError(f"--outputs: cannot read {source} ({exc.strerror})") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise UsageError(f"--outputs: not JSON from `pulumi stack output --json --show-secrets` ({exc})") from None
    if not isinstance(outputs, dict):
        raise UsageError("--outputs: expected a JSON object of stack outputs")
    return outputs
