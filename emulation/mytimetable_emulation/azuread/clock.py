"""Time as the upstream provider spends it, shortened for tests by one documented factor.

Every wait the upstream provider makes (go-azure-sdk's retry back-off, Retry-After, the SDK's
StateChangeConf polling, the deletion waits) and every deadline it measures (the operation's
timeout, the retry budget computed from the time left) runs on an `Operation` clock:

- `MYTIMETABLE_AZUREAD_TIME_SCALE` (default 1: upstream's real times) multiplies only the sleeps.
  A sleep of `d` seconds sleeps `d * scale` real seconds and moves the operation's clock forward by
  the whole `d`, so deadlines, retry counts and poll counts stay exactly upstream's while a test
  waits a thousandth of the time. The time requests really take is counted at its real rate, as
  upstream counts it.
- Each operation (one Create, Read, Update, Delete or Invoke) has its own clock and deadline, as
  each upstream CRUD call runs in its own `context.WithTimeout` (terraform-plugin-sdk
  helper/schema/resource.go:835-900): parallel operations do not shorten each other's time.
"""

from __future__ import annotations

import os
import threading
import time

SCALE_VARIABLE = "MYTIMETABLE_AZUREAD_TIME_SCALE"


def time_scale() -> float:
    raw = os.environ.get(SCALE_VARIABLE, "").strip()
    if not raw:
        return 1.0
    try:
        scale = float(raw)
    except ValueError:
        raise ValueError(f"{SCALE_VARIABLE} must be a number between 0 and 1, got {raw!r}") from None
    if not 0 < scale <= 1:
        raise ValueError(f"{SCALE_VARIABLE} must be a number between 0 and 1, got {raw!r}")
    return scale


class DeadlineExceeded(Exception):
    """Go's `context.DeadlineExceeded`: its text is exactly Go's."""

    def __init__(self) -> None:
        super().__init__("context deadline exceeded")


class Operation:
    """One upstream operation's context: a deadline `timeout` seconds from now on its own clock."""

    def __init__(self, timeout: float, scale: float | None = None, cancelled: threading.Event | None = None):
        self.scale = time_scale() if scale is None else scale
        self._start = time.monotonic()
        self._warp = 0.0
        self.deadline = timeout
        self.cancelled = cancelled or threading.Event()

    def now(self) -> float:
        """Seconds since the operation began, on its clock."""
        return time.monotonic() - self._start + self._warp

    def remaining(self) -> float:
        """Go's `time.Until(deadline)`."""
        return self.deadline - self.now()

    def expired(self) -> bool:
        return self.remaining() <= 0 or self.cancelled.is_set()

    def check(self) -> None:
        """Go's `ctx.Err()`: raises once the deadline has passed."""
        if self.expired():
            raise DeadlineExceeded()

    def sleep(self, seconds: float) -> None:
        """Wait `seconds` on this clock, as Go's `select { case <-ctx.Done(): ...; case <-timer.C: }`:
        if the deadline comes first, wait until it and raise DeadlineExceeded."""
        left = self.remaining()
        wait = min(seconds, max(left, 0.0))
        if wait > 0:
            self.cancelled.wait(wait * self.scale)
            self._warp += wait * (1 - self.scale)
        if seconds >= left or self.cancelled.is_set():
            raise DeadlineExceeded()
