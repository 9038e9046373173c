"""The one place that reads the wall clock, so tests can move time (monkeypatch `utcnow`)."""

from __future__ import annotations

import datetime as _dt


def utcnow() -> _dt.datetime:
    """Now, timezone-aware UTC, without microseconds."""
    return _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0)
