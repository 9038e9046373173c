"""The oldest Pulumi CLI the program supports, in one place, and how to compare `pulumi version`. Pure.

Why 3.274.0:
- resource hooks (the keystore file is written by an after-hook) exist from 3.182;
- a failing after-hook fails the deployment from 3.238 (before, a failed keystore write passed silently);
- error hooks fire for failed creates and updates from 3.244 (pulumi/pulumi#23347);
- a create that failed AFTER its write (a partial failure, as the azuread provider reports Entra's
  replication delay) is retried by an error hook as an update of the object it made, not as a
  second create that would orphan or duplicate it (pulumi/pulumi#24683, fixed by #24684). Read in
  the engine's source (pkg/resource/deploy/step.go, `partial`): absent from pkg v3.260.0, present
  in v3.274.0, the oldest later version the Go module proxy serves here, so the fix's own
  release may be a little older. The real-engine tests prove the retry on v3.276.0.
`make up`/`make preview` and `mytimetable-o365 preflight --only cli` read this floor.
"""

from __future__ import annotations

import re

PULUMI_CLI_FLOOR = "3.274.0"

# `pulumi version` prints e.g. "v3.250.0", or "v3.250.0-alpha.x" / "v3.250.1-dev.0" for builds.
_VERSION = re.compile(r"^\s*v?(\d+)\.(\d+)\.(\d+)(?:[-+][0-9A-Za-z.+-]*)?\s*$")


def parse_version(text: str) -> tuple[int, int, int] | None:
    """(major, minor, patch) from `pulumi version` output, or None when it is not a version."""
    lines = [line for line in (text or "").splitlines() if line.strip()]
    match = _VERSION.match(lines[0]) if lines else None
    return tuple(int(part) for part in match.groups()) if match else None  # type: ignore[return-value]


def meets_floor(text: str, floor: str = PULUMI_CLI_FLOOR) -> bool | None:
    """Whether the version in `text` is at or above `floor`; None when `text` is not a version.
    A pre-release of the floor itself (3.274.0-alpha) counts as the floor: it carries its fixes."""
    version, least = parse_version(text), parse_version(floor)
    return None if version is None or least is None else version >= least
