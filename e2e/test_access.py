"""The deploying identity under the real engine: the least-privilege pipeline of the one table
(rules.access) deploys both modes; without any one of its permissions the deployment fails at the
step that needs it, with Graph's refusal; a person deploys with the directory roles the table names."""

from __future__ import annotations

import pytest

from conftest import SECRET, assert_ok, our_application, stack_needs, stack_yaml, up

MODES = {"application": stack_needs("application"), "delegated": stack_needs("delegated")}
# Which resource fails without which permission (the step that needs it, rules.access).
FAILS_AT = {
    "Application.ReadWrite.OwnedBy": "azuread:index:Application mytimetable-app **creating failed**",
    "Application.Read.All": "mytimetable-consent-graph-calendars-readwrite **creating failed**",
    "AppRoleAssignment.ReadWrite.All": "mytimetable-consent-graph-calendars-readwrite **creating failed**",
    "DelegatedPermissionGrant.ReadWrite.All": "mytimetable-consent-graph-calendars-readwrite-all-users **creating failed**",
}


@pytest.mark.parametrize("mode", sorted(MODES))
def test_the_least_privilege_pipeline_deploys_each_mode_and_stays_owner(entra, make_workspace, tmp_path, mode):
    workspace = make_workspace(stack_yaml(tmp_path / "k.jks", permissionMode=mode, adminConsent=True), roles=MODES[mode])
    assert_ok(up(workspace))
    app = our_application(entra)
    sp = entra.directory.sp_by_app_id(app["appId"])
    assert workspace.deployer.object_id in entra.directory.owners[app["id"]]
    assert workspace.deployer.object_id in entra.directory.owners[sp["id"]]
    assert_ok(workspace.run("preview", "--expect-no-changes"))


@pytest.mark.parametrize("mode,dropped", [(mode, p) for mode, needs in sorted(MODES.items()) for p in needs])
def test_without_one_permission_the_deployment_fails_at_its_own_step(entra, make_workspace, tmp_path, mode, dropped):
    roles = [p for p in MODES[mode] if p != dropped]
    workspace = make_workspace(stack_yaml(tmp_path / "k.jks", permissionMode=mode, adminConsent=True), roles=roles)
    result = up(workspace)
    assert result.returncode != 0
    assert FAILS_AT[dropped] in result.stdout, result.stdout[-4000:]
    assert "unexpected status 403 (403 Forbidden) with error: Authorization_RequestDenied" in result.stdout


@pytest.mark.parametrize("roles,mode,succeeds", [
    (("Cloud Application Administrator",), "delegated", True),
    (("Cloud Application Administrator",), "application", False),  # Graph app roles need Privileged Role Administrator
    (("Cloud Application Administrator", "Privileged Role Administrator"), "application", True),
    (("Privileged Role Administrator",), "application", False),  # cannot register the application
])
def test_a_person_deploys_with_the_directory_roles_the_table_names(entra, make_workspace, tmp_path, roles, mode, succeeds):
    person = entra.directory.add_deployer("admin", SECRET, directory_roles=roles, kind="user")
    workspace = make_workspace(stack_yaml(tmp_path / "k.jks", permissionMode=mode, adminConsent=True), deployer=person)
    result = up(workspace)
    if succeeds:
        assert_ok(result)
        assert person.object_id in entra.directory.owners[our_application(entra)["id"]]
    else:
        assert result.returncode != 0
        assert "Authorization_RequestDenied" in result.stdout, result.stdout[-3000:]


def test_configured_owners_need_directory_read_beside_owned_by(entra, make_workspace, tmp_path):
    colleague = entra.directory.add_deployer("colleague", "x", roles=())
    config = stack_yaml(tmp_path / "k.jks", owners=[colleague.object_id])
    workspace = make_workspace(config, roles=[p for p in stack_needs() if p != "Directory.Read.All"])
    if "Directory.Read.All" in stack_needs():
        pytest.fail("the plain stack should not need Directory.Read.All")
    refused = up(workspace)
    assert refused.returncode != 0 and "Authorization_RequestDenied" in refused.stdout
    entra.directory.set_roles(workspace.deployer, [*stack_needs(), "Directory.Read.All"])
    assert_ok(up(workspace))
    assert colleague.object_id in entra.directory.owners[our_application(entra)["id"]]


@pytest.mark.parametrize("listed", [False, True])
def test_with_deployer_is_owner_false_the_provider_removes_the_deployer_and_nothing_is_left_to_change(entra, make_workspace,
                                                                                                      tmp_path, listed):
    """Upstream removes the caller unless `owners` lists it, also when the list is empty
    (application_resource.go:1186-1187, 1294-1300; service_principal_resource.go:519-525), and reads the
    owners back (:1716-1724): a person deploying with directory roles ends with exactly `owners`, and the
    next preview has no owners diff."""
    person = entra.directory.add_deployer("admin", SECRET, kind="user",
                                          directory_roles=("Cloud Application Administrator", "Privileged Role Administrator"))
    colleague = entra.directory.add_deployer("colleague", "x", roles=())
    owners = [colleague.object_id] if listed else []
    workspace = make_workspace(stack_yaml(tmp_path / "k.jks", deployerIsOwner=False, owners=owners), deployer=person)
    assert_ok(up(workspace))
    app = our_application(entra)
    sp = entra.directory.sp_by_app_id(app["appId"])
    assert entra.directory.owners[app["id"]] == owners and entra.directory.owners[sp["id"]] == owners
    assert_ok(workspace.run("preview", "--expect-no-changes"))
