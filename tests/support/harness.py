"""What the tests share besides fixtures: the repository's root, stack configs, programs of several
integrations, a brought-your-own certificate, a movable clock, short-lived JVMs, and the console
script run in this process. Fixtures and pytest hooks are in tests/conftest.py."""

from __future__ import annotations

import datetime as _dt
import os
import pathlib
import subprocess

import yaml

from mytimetable_o365.rules.config_values import NAMESPACE

ROOT = pathlib.Path(__file__).resolve().parents[2]
NS = NAMESPACE  # the stack config keys' namespace
# The moment the tests' frozen clock starts at (conftest.py frozen_clock) and settings are judged at.
NOW = _dt.datetime(2026, 11, 24, 9, 0, tzinfo=_dt.timezone.utc)


def stack_config(stack: str = "prod") -> dict:
    return yaml.safe_load((ROOT / f"Pulumi.{stack}.yaml").read_text())["config"]


def minimal_config(**overrides) -> dict:
    config = {f"{NS}:siteUrl": "https://mytimetable.example.edu"}
    for key, value in overrides.items():
        config[f"{NS}:{key}"] = value
    return config



class Clock:
    def __init__(self, now: _dt.datetime):
        self.now = now

    def __call__(self) -> _dt.datetime:
        return self.now

    def advance(self, **delta) -> None:
        self.now = self.now + _dt.timedelta(**delta)


# Short-lived JVMs: the C1 compiler only and the serial GC start fastest and use one core (javac
# of the two test programs: 1.16 s of CPU by default, 0.70 s with these).
FAST_JVM = ["-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xshare:auto"]
FAST_JVM_TOOL = [f"-J{flag}" for flag in FAST_JVM]  # the same for keytool and javac



def integrations(count: int):
    """A program with `count` integrations, each with its own output prefix, app name and keystore file."""

    from mytimetable_o365.component.config import load_settings
    from mytimetable_o365.component.integration import IntegrationArgs, MyTimetableO365Integration

    def program():
        base = load_settings()
        for i in range(count):
            settings = base._replace(app_name=f"{base.app_name}-{i}",
                                     keystore=base.keystore._replace(path=f"keystore-{i}.jks"))
            MyTimetableO365Integration(f"mytimetable{i}", IntegrationArgs(settings, output_prefix=f"i{i}")).export_outputs()

    return program


def own_certificate(days: int = 365, key_size: int = 2048, start: _dt.datetime | None = None):
    """A brought-your-own certificate and key, as an administrator would hand them over."""
    from mytimetable_o365.rules.certificate import generate_certificate

    start = start or _dt.datetime(2026, 11, 1, tzinfo=_dt.timezone.utc)
    return generate_certificate("MyTimetable-own", key_size, days, start)


def cli(*args, cwd=None) -> subprocess.CompletedProcess:
    """The console script in this process (as a subprocess would see it, without its start-up cost)."""
    import contextlib
    import io

    from mytimetable_o365.commands.cli import main

    out, err = io.StringIO(), io.StringIO()
    here = os.getcwd()
    try:
        if cwd is not None:
            os.chdir(cwd)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main(list(args))
            except SystemExit as exit_:
                code = exit_.code if isinstance(exit_.code, int) else 2
    finally:
        os.chdir(here)
    return subprocess.CompletedProcess(args, code, out.getvalue(), err.getvalue())


def cli_that_must_end(*args, within: float = 60.0) -> subprocess.CompletedProcess:
    """cli() in a thread of its own, failing the test when it has not ended `within` seconds (a
    generous bound, never a measurement): a command that hangs fails instead of holding the suite."""
    import threading

    import pytest

    done: dict = {}
    worker = threading.Thread(target=lambda: done.update(result=cli(*args)), daemon=True)
    worker.start()
    worker.join(within)
    if worker.is_alive():
        pytest.fail(f"mytimetable-o365 {' '.join(args[:1])} had not ended after {within:g} s")
    return done["result"]
