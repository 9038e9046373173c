"""terraform-plugin-sdk's StateChangeConf.WaitForStateContext, the loop every consistency wait of the
upstream provider runs (pulumi's fork v2.0.0-20260318212141-5525259d096b, helper/retry/state.go:57-274,
cited `state.go:<line>`), and the provider's two helpers on it
(internal/helpers/consistency/consistency.go:17-46).

The exact rules, because tests count polls:
- the first refresh is immediate; the wait then starts at 100 ms, doubles after a refresh that left
  the target count at 0, keeps its value while the target has been seen, and is clamped to
  [MinTimeout, 10 s] (state.go:106-111,185-201);
- a refresh error stops the wait with that error (state.go:120-123);
- a nil result counts a "not found"; more than NotFoundChecks (20) in a row ends the wait with
  `couldn't find resource (21 retries)`, and a nil result does NOT reset the target count
  (state.go:136-147);
- a state in Pending resets the target count; ContinuousTargetOccurence sightings of a Target state
  end the wait (state.go:149-176);
- the operation's deadline ends it with `context deadline exceeded` (state.go:212-214).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .clock import DeadlineExceeded, Operation

NOT_FOUND_CHECKS = 20


class WaitError(Exception):
    """Why a wait ended without its target; the text is the SDK's."""


def wait_for_state(op: Operation, refresh: Callable[[], tuple[Any, str]], *, pending: tuple[str, ...],
                   target: tuple[str, ...], min_timeout: float, continuous_target: int = 1) -> Any:
    """Returns the result that reached the target; raises WaitError or the refresh's own error."""
    not_found = 0
    seen = 0
    wait = 0.0
    while True:
        try:
            op.sleep(wait)
        except DeadlineExceeded:
            raise WaitError("context deadline exceeded") from None
        if wait == 0:
            wait = 0.1
        result, state = refresh()
        if result is None:
            not_found += 1
            if not_found > NOT_FOUND_CHECKS:
                raise WaitError(f"couldn't find resource ({not_found} retries)")
        else:
            not_found = 0
            if state in target:
                seen += 1
                if seen == continuous_target:
                    return result
            elif state in pending:
                seen = 0
            else:
                raise WaitError(f"unexpected state '{state}', wanted target '{', '.join(target)}'. last error: %!s(<nil>)")
        if seen == 0:
            wait *= 2
        wait = min(max(wait, min_timeout), 10.0)


def wait_for_deletion(op: Operation, exists: Callable[[], bool]) -> None:
    """consistency.WaitForDeletion (consistency.go:17-46): 5 consecutive "gone" answers, 5 s apart at
    least; an error of `exists` stops it as `retrieving resource: <err>`."""

    def refresh() -> tuple[Any, str]:
        try:
            present = exists()
        except Exception as error:  # noqa: BLE001 - any Graph error stops the wait, as upstream's
            raise WaitError(f"retrieving resource: {error}") from None
        return "stub", ("Waiting" if present else "Deleted")

    wait_for_state(op, refresh, pending=("Waiting",), target=("Deleted",), min_timeout=5.0, continuous_target=5)
