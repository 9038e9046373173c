"""The oldest Pulumi CLI the program supports, in one place, and how to compare `pulumi version`. Pure.

Why 3.244.0 (pulumi/pulumi CHANGELOG):
- resource hooks (the keystore file is written by an after-hook) exist from 3.182;
- a failing after-hook fails the deployment from 3.238 (before, a failed keystore write passed silently);
- error hooks fire for failed creates and updates only from 3.244 (pulumi/pulumi#23347; the
  replication-delay retry depends on them).
`make up`/`make preview` and `mytimetable-o365 preflight --only cli` read this floor.
"""

from __future__ import annotations

import re

PULUMI_CLI_FLOOR = "3.244.0"

# `pulumi version` prints e.g. "v3.250.0", or "v3.250.0-alpha.x" / "v3.250.1-dev.0" for builds.
_VERSION = re.compile(r"^\s*v?(\d+)\.(\d+)\.(\d+)(?:[-+][0-9A-Za-z.+-]*)?\s*$")


def parse_version(text: str) -> tuple[int, int, int] | None:
    """(major, minor, patch) from `pulumi version` output, or None when it is not a version."""
    lines = [line for line in (text or "").splitlines() if line.strip()]
    match = _VERSION.match(lines[0]) if lines else None
    return tuple(int(part) for part in match.groups()) if match else None  # type: ignore[return-value]


def meets_floor(text: str, floor: str = PULUMI_CLI_FLOOR) -> bool | None:
    """Whether the version in `text` is at or above `floor`; None when `text` is not a version.
    A pre-release of the floor itself (3.244.0-alpha) counts as the floor: it carries its fixes."""
    version = parse_version(text)
    return None if version is None else version >= parse_version(floor)
