"""Test-only: pin the provider process's clock. Loaded by the interpreter at start-up when this
directory is on PYTHONPATH (see provider_host.DynamicProviderHost(fake_utcnow=...)).

PROVIDER_HOST_FAKE_UTCNOW   ISO-8601 instant, e.g. 2026-12-20T09:00:00+00:00
PROVIDER_HOST_CLOCK_MODULE  module whose `utcnow` the providers call, e.g. mytimetable_o365.clock
"""
import os

_now = os.environ.get("PROVIDER_HOST_FAKE_UTCNOW")
_module = os.environ.get("PROVIDER_HOST_CLOCK_MODULE")
if _now and _module:
    import datetime as _dt
    import importlib

    _fixed = _dt.datetime.fromisoformat(_now)
    importlib.import_module(_module).utcnow = lambda: _fixed
