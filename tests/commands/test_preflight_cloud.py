"""preflight finds the cloud where the azuread provider finds it: ARM_METADATA_HOSTNAME's metadata
endpoint names the sign-in authority and Microsoft Graph (go-azure-sdk environments.FromEndpoint);
options given on the command line win, and a metadata host that answers no endpoints is one line."""

from __future__ import annotations

import argparse

import pytest

from mytimetable_emulation.localentra.server import LocalEntra
from mytimetable_o365.commands.exit_codes import PreflightExit
from mytimetable_o365.commands.preflight import resolve_cloud
from mytimetable_o365.commands.preflight_base import Blocked, Context


def args(**given) -> argparse.Namespace:
    return argparse.Namespace(**{"authority": None, "graph": None, "ca_bundle": None, "timeout": 10.0, **given})


@pytest.fixture(scope="module")
def entra(tmp_path_factory):
    with LocalEntra(tmp_path_factory.mktemp("entra")) as server:
        yield server


def test_without_a_metadata_host_it_is_microsofts_public_cloud(monkeypatch):
    monkeypatch.delenv("ARM_METADATA_HOSTNAME", raising=False)
    ctx = Context(args())
    resolve_cloud(ctx)
    assert (ctx.args.authority, ctx.args.graph) == ("https://login.microsoftonline.com", "https://graph.microsoft.com")


def test_the_metadata_host_names_the_authority_and_graph_the_provider_uses(entra, monkeypatch):
    monkeypatch.setenv("ARM_METADATA_HOSTNAME", entra.host)
    ctx = Context(args(ca_bundle=str(entra.ca_path)))
    resolve_cloud(ctx)
    assert (ctx.args.authority, ctx.args.graph) == (f"{entra.base}/login", entra.base)
    given = Context(args(ca_bundle=str(entra.ca_path), graph="https://graph.example"))
    resolve_cloud(given)
    assert (given.args.authority, given.args.graph) == (f"{entra.base}/login", "https://graph.example")


@pytest.mark.parametrize("host", ["127.0.0.1:9", "{entra}/not-metadata?"])
def test_a_metadata_host_without_endpoints_stops_preflight_in_one_line(entra, monkeypatch, host):
    monkeypatch.setenv("ARM_METADATA_HOSTNAME", host.format(entra=entra.host))
    with pytest.raises(Blocked) as blocked:
        resolve_cloud(Context(args(ca_bundle=str(entra.ca_path), timeout=5.0)))
    assert blocked.value.code == PreflightExit.NO_CREDENTIALS
    assert str(blocked.value).startswith("ARM_METADATA_HOSTNAME ") and "\n" not in str(blocked.value)
