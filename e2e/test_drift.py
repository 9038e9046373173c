"""Drift the provider reads, made in Entra directly (as a portal edit would), is reported by
`pulumi preview --refresh` (the nightly drift job's command) and repaired by `pulumi up --refresh`.

terraform-provider-azuread v3.9.0 reads every attribute of the application (application_resource.go
:1627-1724) and of the service principal (service_principal_resource.go:651-687), and its update
PATCHes the full set back (application_resource.go:1487-1544, service_principal_resource.go:548-563):
an SPA or public-client redirect URI, an implicit grant, an identifier URI or the fallback public
client flag the program never declares is sent back empty or false, and a disabled service principal
is enabled again (account_enabled defaults to true, service_principal_resource.go:79-84)."""

from __future__ import annotations

import pytest

from conftest import assert_ok, our_application, stack_yaml, up


def _spa(app, sp):
    app["spa"] = {"redirectUris": ["https://evil.example/spa"]}


def _public_client(app, sp):
    app["publicClient"] = {"redirectUris": ["http://localhost:8400/"]}


def _implicit_grant(app, sp):
    app["web"]["implicitGrantSettings"] = {"enableAccessTokenIssuance": True, "enableIdTokenIssuance": True}


def _identifier_uri(app, sp):
    app["identifierUris"] = ["api://mytimetable-drifted"]


def _fallback_public_client(app, sp):
    app["isFallbackPublicClient"] = True


def _disabled_service_principal(app, sp):
    sp["accountEnabled"] = False


DRIFT = {
    "SPA redirect URI": (_spa, "mytimetable-app", lambda app, sp: not (app.get("spa") or {}).get("redirectUris")),
    "public-client redirect URI": (_public_client, "mytimetable-app",
                                   lambda app, sp: not (app.get("publicClient") or {}).get("redirectUris")),
    "implicit grant": (_implicit_grant, "mytimetable-app",
                       lambda app, sp: not any((app["web"].get("implicitGrantSettings") or {}).values())),
    "identifier URI": (_identifier_uri, "mytimetable-app", lambda app, sp: not app.get("identifierUris")),
    "fallback public client": (_fallback_public_client, "mytimetable-app", lambda app, sp: not app.get("isFallbackPublicClient")),
    "disabled service principal": (_disabled_service_principal, "mytimetable-sp", lambda app, sp: sp["accountEnabled"] is True),
}


@pytest.mark.parametrize("drift", sorted(DRIFT))
def test_drift_the_provider_reads_is_reported_by_preview_refresh_and_repaired_by_up_refresh(entra, make_workspace, tmp_path, drift):
    make_drift, resource, repaired = DRIFT[drift]
    workspace = make_workspace(stack_yaml(tmp_path / "k.jks"))
    assert_ok(up(workspace))
    app = our_application(entra)
    sp = entra.directory.sp_by_app_id(app["appId"])
    with entra.directory.lock:
        make_drift(app, sp)
    assert not repaired(app, sp)

    previewed = workspace.run("preview", "--refresh", "--expect-no-changes", "--diff")
    assert previewed.returncode != 0, previewed.stdout[-3000:]
    assert resource in previewed.stdout

    assert_ok(up(workspace, "--refresh"))
    app = our_application(entra)
    assert repaired(app, entra.directory.sp_by_app_id(app["appId"])), (app, entra.directory.sp_by_app_id(app["appId"]))
    assert_ok(workspace.run("preview", "--refresh", "--expect-no-changes"))
