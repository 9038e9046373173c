"""`preflight` with ARM_METADATA_HOSTNAME naming a server whose endpoints answer is JSON of the wrong
shape (`authentication` no object, a text where an object is, a list where a text is): one line naming
the metadata host and exit NO_CREDENTIALS, never a traceback. The run is in a thread with a generous
bound (cli_that_must_end): a hang fails the test instead of holding the suite."""

from __future__ import annotations

import os

import pytest

from mytimetable_o365.commands.exit_codes import PreflightExit
from support.harness import cli_that_must_end
from support.hostile_server import HostileServer

GOOD_LOGIN = {"loginEndpoint": "https://login.example"}


@pytest.fixture(autouse=True)
def no_credentials_of_the_caller(monkeypatch):
    for name in list(os.environ):
        if name.startswith(("ARM_", "ACTIONS_ID_TOKEN", "REQUESTS_CA")):
            monkeypatch.delenv(name)


@pytest.mark.parametrize("answer", [
    {"authentication": ["x"], "microsoftGraphResourceId": "https://g"},
    {"authentication": "x", "microsoftGraphResourceId": "https://g"},
    {"authentication": 5, "microsoftGraphResourceId": "https://g"},
    {"authentication": {"loginEndpoint": ["https://l"]}, "microsoftGraphResourceId": "https://g"},
    {"authentication": {"loginEndpoint": {"x": 1}}, "microsoftGraphResourceId": "https://g"},
    {"authentication": GOOD_LOGIN, "microsoftGraphResourceId": ["https://g"]},
    {"authentication": GOOD_LOGIN, "microsoftGraphResourceId": {"url": "https://g"}},
    {"authentication": GOOD_LOGIN, "microsoftGraphResourceId": 7},
    {"authentication": GOOD_LOGIN},
    {},
])
def test_endpoints_of_the_wrong_shape_stop_preflight_in_one_line_naming_the_metadata_host(tmp_path, tls, monkeypatch, answer):
    with HostileServer(tmp_path, lambda handler, *_: handler.send_json(200, answer), tls=tls) as server:
        host = server.url.removeprefix("https://")
        monkeypatch.setenv("ARM_METADATA_HOSTNAME", host)
        monkeypatch.setenv("ARM_CLIENT_ID", "9e8d7c6b-5a49-4838-a727-161504f3e2d1")
        monkeypatch.setenv("ARM_TENANT_ID", "5f1c7a2e-8d3b-4c6a-9e0f-1a2b3c4d5e6f")
        monkeypatch.setenv("ARM_CLIENT_SECRET", "s3cr3t-value-never-printed")
        result = cli_that_must_end("preflight", "--stack", "prod", "--project-dir", str(tmp_path), "--only", "token",
                                   "--ca-bundle", str(server.ca), "--timeout", "5")
        paths = [path for _, path, _, _ in server.requests]
    printed = result.stdout + result.stderr
    assert "Traceback" not in printed and "s3cr3t-value-never-printed" not in printed
    assert paths == ["/metadata/endpoints?api-version=2022-09-01"]
    assert result.returncode == PreflightExit.NO_CREDENTIALS
    (failed,) = [line for line in printed.splitlines() if line.startswith("FAIL")]
    assert f"ARM_METADATA_HOSTNAME {host}: no endpoints of its cloud" in failed
    assert "name no loginEndpoint" in failed
