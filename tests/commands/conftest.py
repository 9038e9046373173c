"""Fixtures of the commands' tests against hostile servers (tests/support/hostile_server.py); each
imports what it uses inside itself, as tests/conftest.py's do."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="module")
def tls(tmp_path_factory):
    """A test CA and a server certificate signed by it, shared by a module's hostile servers."""
    from mytimetable_emulation.localentra.server import make_ca_and_server_certificate

    return make_ca_and_server_certificate(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def recorder(tmp_path, tls):
    """Another origin, trusted like the first: where a followed redirect would land."""
    from support.hostile_server import HostileServer

    with HostileServer(tmp_path, tls=tls) as server:
        yield server
