"""A deployment under the real Pulumi CLI against local Entra: first up, no-change preview, drift,
mode switches, destroy, and what the state file holds."""

from __future__ import annotations

import pytest

from conftest import (
    KEYSTORE_PASSWORD,
    SITE,
    assert_ok,
    java_opens,
    our_application,
    outputs_with_secrets,
    raw_state_files,
    requested,
    stack_needs,
    stack_yaml,
    state_resources,
    thumbprint_of_keystore,
    up,
)
from mytimetable_o365.rules.permissions import EXCHANGE_ONLINE, MICROSOFT_GRAPH

GRAPH_ROLE = (MICROSOFT_GRAPH.app_id, "ef54d2bf-783f-4e0f-bca1-3210c0444d99", "Role")
GRAPH_SCOPE = (MICROSOFT_GRAPH.app_id, "1ec239c2-d7c9-4623-a91a-a9775856bb36", "Scope")
EXCHANGE_ROLE = (EXCHANGE_ONLINE.app_id, "ef54d2bf-783f-4e0f-bca1-3210c0444d99", "Role")
USER_READ = {"id": "e1fe6dd8-ba31-4d61-89e7-88639da4683d", "type": "Scope"}


def consent_of(entra, app) -> tuple[set, set]:
    """(app role IDs granted to the app's service principal, delegated scopes granted to it)."""
    sp = entra.directory.sp_by_app_id(app["appId"])
    roles = {(entra.directory.service_principals[a["resourceId"]]["appId"], a["appRoleId"])
             for a in entra.directory.assignments.values() if a["principalId"] == sp["id"]}
    scopes = {g["scope"] for g in entra.directory.delegated_grants.values() if g["clientId"] == sp["id"]}
    return roles, scopes


def test_first_up_registers_the_app_and_writes_a_keystore_a_jvm_opens_then_preview_shows_no_change(entra, make_workspace, tmp_path):
    keystore = tmp_path / "out" / "mytimetable.jks"
    workspace = make_workspace(stack_yaml(keystore))
    deployed = up(workspace)
    assert_ok(deployed)

    app = our_application(entra)
    assert app["signInAudience"] == "AzureADMyOrg"
    assert app["web"]["redirectUris"] == [f"{SITE}/schedule?zoneview=0&ec_type=o365"]
    assert requested(app) == {GRAPH_ROLE}  # exactly Calendars.ReadWrite, no User.Read
    assert consent_of(entra, app) == ({(MICROSOFT_GRAPH.app_id, GRAPH_ROLE[1])}, set())
    assert workspace.deployer.object_id in entra.directory.owners[app["id"]]

    assert java_opens(keystore, KEYSTORE_PASSWORD, "mytimetable") == "OK"
    outputs = outputs_with_secrets(workspace)
    assert outputs["clientId"] == app["appId"] and outputs["tenantId"] == entra.directory.tenant_id
    registered = {k["customKeyIdentifier"] for k in app["keyCredentials"]}
    assert thumbprint_of_keystore(keystore, KEYSTORE_PASSWORD, "mytimetable") == outputs["certificateThumbprint"]
    assert outputs["certificateThumbprint"] in registered

    previewed = workspace.run("preview", "--expect-no-changes")
    assert_ok(previewed)
    # The program skips the interpreter's last collection at exit (component/collector.py, gc.freeze):
    # under the real language host nothing torn down on the way out complains.
    for result in (deployed, previewed):
        assert "Exception ignored" not in result.stdout + result.stderr


@pytest.mark.parametrize("drift", ["permission added", "redirect URI edited", "certificate deleted"])
def test_drift_made_in_entra_is_reported_by_preview_and_repaired_by_up(entra, make_workspace, tmp_path, drift):
    workspace = make_workspace(stack_yaml(tmp_path / "k.jks"))
    assert_ok(up(workspace))
    app = our_application(entra)
    expected_redirects = list(app["web"]["redirectUris"])
    expected_keys = {k["customKeyIdentifier"] for k in app["keyCredentials"]}
    with entra.directory.lock:
        if drift == "permission added":
            app["requiredResourceAccess"][0]["resourceAccess"].append(dict(USER_READ))
        elif drift == "redirect URI edited":
            app["web"]["redirectUris"] = ["https://evil.example/schedule"]
        else:
            app["keyCredentials"] = app["keyCredentials"][:1]

    previewed = workspace.run("preview", "--refresh", "--expect-no-changes")
    assert previewed.returncode != 0, previewed.stdout
    assert ("mytimetable-credential" if drift == "certificate deleted" else "mytimetable-app") in previewed.stdout

    assert_ok(up(workspace, "--refresh"))
    app = our_application(entra)
    assert requested(app) == {GRAPH_ROLE}
    assert app["web"]["redirectUris"] == expected_redirects
    assert {k["customKeyIdentifier"] for k in app["keyCredentials"]} == expected_keys
    assert_ok(workspace.run("preview", "--refresh", "--expect-no-changes"))


def test_switching_modes_and_the_legacy_exchange_permission_leaves_exactly_each_modes_permissions(entra, make_workspace, tmp_path):
    keystore = tmp_path / "k.jks"
    roles = sorted(set(stack_needs("application", True)) | set(stack_needs("delegated")))
    workspace = make_workspace(stack_yaml(keystore), roles=roles)
    stack_file = workspace.project / f"Pulumi.{workspace.stack}.yaml"
    steps = [
        ({}, {GRAPH_ROLE}, ({(MICROSOFT_GRAPH.app_id, GRAPH_ROLE[1])}, set())),
        ({"permissionMode": "delegated", "adminConsent": True}, {GRAPH_SCOPE}, (set(), {"Calendars.ReadWrite"})),
        ({"permissionMode": "application", "legacyExchangePermission": True}, {GRAPH_ROLE, EXCHANGE_ROLE},
         ({(MICROSOFT_GRAPH.app_id, GRAPH_ROLE[1]), (EXCHANGE_ONLINE.app_id, EXCHANGE_ROLE[1])}, set())),
        ({"legacyExchangePermission": False}, {GRAPH_ROLE}, ({(MICROSOFT_GRAPH.app_id, GRAPH_ROLE[1])}, set())),
    ]
    for settings, permissions, consent in steps:
        _rewrite_settings(stack_file, settings)
        assert_ok(up(workspace))
        app = our_application(entra)
        assert requested(app) == permissions, settings
        assert consent_of(entra, app) == consent, settings
        assert_ok(workspace.run("preview", "--expect-no-changes"))


def _rewrite_settings(stack_file, settings) -> None:
    """Change stack settings in the stack file, keeping its secure values."""
    import yaml

    document = yaml.safe_load(stack_file.read_text())
    for key, value in settings.items():
        document["config"][f"mytimetable-o365:{key}"] = value
    stack_file.write_text(yaml.safe_dump(document))


def test_destroy_removes_every_entra_object_and_leaves_the_keystore_file(entra, make_workspace, tmp_path):
    keystore = tmp_path / "k.jks"
    workspace = make_workspace(stack_yaml(keystore, permissionMode="delegated", adminConsent=True),
                               roles=stack_needs("delegated"))
    assert_ok(up(workspace))
    assert entra.directory.project_objects()["oauth2PermissionGrants"]
    assert_ok(workspace.run("destroy", "--yes", "--skip-preview"))
    assert entra.directory.project_objects() == {"applications": [], "servicePrincipals": [], "appRoleAssignments": [],
                                                 "oauth2PermissionGrants": [], "keyCredentials": []}
    assert keystore.exists()  # README: destroy leaves the file; it holds a key Entra no longer accepts


def test_the_state_file_holds_no_keystore_password_private_key_or_keystore_bytes_in_plain_text(entra, make_workspace, tmp_path):
    workspace = make_workspace(stack_yaml(tmp_path / "k.jks"))
    assert_ok(up(workspace))
    outputs = outputs_with_secrets(workspace)
    files = raw_state_files(workspace)
    assert files
    text = "".join(p.read_text(errors="replace") for p in files)
    assert outputs["keystorePassword"] not in text
    assert outputs["keystore"][:64] not in text
    assert "PRIVATE KEY" not in text
    assert len(state_resources(workspace, "azuread:index/application:Application")) == 1


@pytest.mark.parametrize("bad", [{"siteUrl": "http://mytimetable.school.example"}, {"permissionMode": "both"}])
def test_a_config_error_stops_preview_with_the_key_named_and_no_python_traceback(entra, make_workspace, tmp_path, bad):
    """load_settings raises InvalidStackConfigError, a pulumi RunError: the language host's executor
    logs it by its text alone (pulumi-language-python-exec), never "unhandled exception"."""
    workspace = make_workspace(stack_yaml(tmp_path / "k.jks", **bad))
    result = workspace.run("preview")
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "invalid stack config, nothing was declared" in output and f"mytimetable-o365:{next(iter(bad))}" in output, output[-3000:]
    assert "Traceback" not in output and "unhandled exception" not in output, output[-3000:]
    assert entra.directory.applications == {}
