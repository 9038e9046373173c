"""Shared test harness: the engine emulator (mytimetable_o365.offline.engine), stack configs, a movable clock."""

from __future__ import annotations

import datetime as _dt
import pathlib
import shutil
import subprocess

import pytest
import yaml

from mytimetable_o365 import clock
from mytimetable_o365.offline.engine import evaluate

ROOT = pathlib.Path(__file__).resolve().parent.parent
NS = "mytimetable-o365"


def stack_config(stack: str = "prod") -> dict:
    return yaml.safe_load((ROOT / f"Pulumi.{stack}.yaml").read_text())["config"]


def minimal_config(**overrides) -> dict:
    config = {f"{NS}:siteUrl": "https://mytimetable.example.edu"}
    for key, value in overrides.items():
        config[f"{NS}:{key}"] = value
    return config


@pytest.fixture
def deploy(tmp_path, monkeypatch):
    """Evaluate the whole __main__.py under the emulated engine, from a scratch working directory."""
    monkeypatch.chdir(tmp_path)

    def run(config: dict, prior=None, stack: str = "prod", preview: bool = False):
        return evaluate(str(ROOT / "__main__.py"), config=config, stack=stack, prior=prior, preview=preview)

    return run


class Clock:
    def __init__(self, now: _dt.datetime):
        self.now = now

    def __call__(self) -> _dt.datetime:
        return self.now

    def advance(self, **delta) -> None:
        self.now = self.now + _dt.timedelta(**delta)


@pytest.fixture
def frozen_clock(monkeypatch):
    fake = Clock(_dt.datetime(2026, 11, 24, 9, 0, tzinfo=_dt.timezone.utc))
    monkeypatch.setattr(clock, "utcnow", fake)
    return fake


@pytest.fixture(scope="session")
def java_signer(tmp_path_factory):
    """A small Java program (compiled here) that loads the keystore and signs with the key under the alias."""
    if not shutil.which("javac"):
        pytest.fail("javac is missing: run `make jdk` (Debian default-jdk-headless)")
    folder = tmp_path_factory.mktemp("java")
    source = folder / "SignWithKeystore.java"
    source.write_text((ROOT / "tests" / "java" / "SignWithKeystore.java").read_text())
    subprocess.run(["javac", "-d", str(folder), str(source)], check=True, capture_output=True)
    return folder


def own_certificate(days: int = 365, key_size: int = 2048, start: _dt.datetime | None = None):
    """A brought-your-own certificate and key, as an administrator would hand them over."""
    from mytimetable_o365.rules.certificate import generate_certificate

    start = start or _dt.datetime(2026, 11, 1, tzinfo=_dt.timezone.utc)
    return generate_certificate("MyTimetable-own", key_size, days, start)


@pytest.fixture(scope="module")
def running_standin(tmp_path_factory):
    """The local stand-in for Entra's token endpoint and Graph (tests/entra_standin.py), per module."""
    from entra_standin import EntraStandIn

    with EntraStandIn(tmp_path_factory.mktemp("tls")) as server:
        yield server
