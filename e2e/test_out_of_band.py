"""Objects deleted outside Pulumi (in the portal), then `destroy`, `make up` or a mode switch, as
docs/operations.md ("Deleted outside Pulumi") says to run them. The provider fails every delete of an
object already gone and every read of a certificate whose application is gone
(terraform-provider-azuread v3.9.0: application_resource.go:1737, app_role_assignment_resource.go:202,
service_principal_resource.go:702, application_certificate_resource.go:231-234, 270-273); a refresh
drops the rest, and the commands the leftovers check prints are run here exactly as printed."""

from __future__ import annotations

import pytest
import yaml

from conftest import (
    ROOT,
    SECRET,
    SITE,
    TIME_SCALE,
    assert_ok,
    assert_one_of_each,
    entra_counts,
    leftovers,
    make_up,
    our_application,
    portal,
    printed_commands,
    run_printed,
    stack_needs,
    stack_yaml,
    up,
)
from mytimetable_emulation.realengine.workspace import Workspace

NOTHING = {"applications": 0, "servicePrincipals": 0, "appRoleAssignments": 0, "oauth2PermissionGrants": 0, "keyCredentials": 0}
BOTH_MODES = sorted(set(stack_needs("application")) | set(stack_needs("delegated")))


def deployed(entra, make_workspace, tmp_path, **settings):
    workspace = make_workspace(stack_yaml(tmp_path / "k.jks", siteUrl=SITE, adminConsent=True, **settings), roles=BOTH_MODES)
    assert_ok(up(workspace))
    app = our_application(entra)
    return workspace, app, entra.directory.sp_by_app_id(app["appId"])


def test_destroy_after_the_service_principal_was_deleted_fails_without_refresh_and_succeeds_with_it(entra, make_workspace, tmp_path):
    workspace, _, sp = deployed(entra, make_workspace, tmp_path)
    portal(entra)("DELETE", f"/v1.0/servicePrincipals/{sp['id']}")  # its consent goes with it
    refused = workspace.run("destroy", "--yes", "--skip-preview")
    assert refused.returncode != 0 and "404" in refused.stdout, refused.stdout[-3000:]
    assert_ok(workspace.run("destroy", "--refresh", "--yes", "--skip-preview"))
    assert entra_counts(entra) == NOTHING


def test_make_up_after_the_service_principal_was_deleted_stops_at_the_refresh_it_prints_and_then_restores_it(
        entra, make_workspace, tmp_path):
    workspace, _, sp = deployed(entra, make_workspace, tmp_path)
    portal(entra)("DELETE", f"/v1.0/servicePrincipals/{sp['id']}")
    checked = leftovers(workspace, "--adopt")
    assert checked.returncode == 16 and "no longer in Entra" in checked.stdout, checked.stdout
    commands = printed_commands(checked.stdout)
    assert commands[:2] == [f"pulumi refresh --yes --stack {workspace.stack}", f"make up STACK={workspace.stack}"]
    for command in dict.fromkeys(commands):
        assert_ok(run_printed(workspace, command))
    assert_one_of_each(entra, workspace)
    assert entra.directory.sp_by_app_id(our_application(entra)["appId"])["id"] != sp["id"]


def test_a_mode_switch_after_consent_was_revoked_needs_the_refresh_the_check_prints(entra, make_workspace, tmp_path):
    workspace, _, sp = deployed(entra, make_workspace, tmp_path)
    (assignment,) = [a for a in entra.directory.assignments.values() if a["principalId"] == sp["id"]]
    portal(entra)("DELETE", f"/v1.0/servicePrincipals/{assignment['resourceId']}/appRoleAssignedTo/{assignment['id']}")
    stack_file = workspace.project / f"Pulumi.{workspace.stack}.yaml"
    document = yaml.safe_load(stack_file.read_text())
    document["config"]["mytimetable-o365:permissionMode"] = "delegated"
    stack_file.write_text(yaml.safe_dump(document))

    refused = up(workspace)  # the provider deletes the assignment Entra no longer has: 404
    assert refused.returncode != 0 and "404" in refused.stdout, refused.stdout[-3000:]
    checked = leftovers(workspace, "--adopt")
    assert checked.returncode == 16, checked.stdout
    for command in dict.fromkeys(printed_commands(checked.stdout)):
        assert_ok(run_printed(workspace, command))
    assert_one_of_each(entra, workspace, "delegated")
    assert_ok(workspace.run("preview", "--expect-no-changes"))


@pytest.mark.parametrize("then", ["destroy", "make up"])
def test_after_the_application_was_deleted_refresh_fails_and_the_printed_state_deletes_let_destroy_or_make_up_run(
        entra, make_workspace, tmp_path, then):
    workspace, app, sp = deployed(entra, make_workspace, tmp_path)
    admin = portal(entra)
    admin("DELETE", f"/v1.0/servicePrincipals/{sp['id']}")  # what deleting an app does to its service principal
    admin("DELETE", f"/v1.0/applications/{app['id']}")
    refreshed = workspace.run("refresh", "--yes", "--skip-preview")
    assert refreshed.returncode != 0 and "mytimetable-credential" in refreshed.stdout, refreshed.stdout[-3000:]

    checked = leftovers(workspace, "--adopt")
    assert checked.returncode == 16 and "231-234" in checked.stdout, checked.stdout
    commands = list(dict.fromkeys(printed_commands(checked.stdout)))
    assert sum(" state delete " in c for c in commands) == 2 and commands[-1] == f"make up STACK={workspace.stack}"
    for command in commands[:-1]:
        assert_ok(run_printed(workspace, command))
    if then == "destroy":
        assert_ok(workspace.run("destroy", "--yes", "--skip-preview"))
        assert entra_counts(entra) == NOTHING
        assert [r["type"] for r in workspace.state()["deployment"].get("resources", [])] == []
    else:
        assert_ok(run_printed(workspace, commands[-1]))
        assert_one_of_each(entra, workspace)
        assert our_application(entra)["id"] != app["id"]
        assert_ok(workspace.run("preview", "--expect-no-changes"))


def test_a_certificate_credential_deleted_in_the_portal_stops_make_up_at_a_refresh_and_does_not_stop_destroy(
        entra, make_workspace, tmp_path):
    workspace, app, _ = deployed(entra, make_workspace, tmp_path)
    kept = app["keyCredentials"][1:]
    portal(entra)("PATCH", f"/v1.0/applications/{app['id']}", {"keyCredentials": kept})
    checked = leftovers(workspace, "--adopt")
    assert checked.returncode == 16 and "mytimetable-credential" in checked.stdout, checked.stdout
    assert printed_commands(checked.stdout)[:1] == [f"pulumi refresh --yes --stack {workspace.stack}"]
    assert_ok(workspace.run("destroy", "--yes", "--skip-preview"))  # the provider writes the list without it
    assert entra_counts(entra) == NOTHING


def test_a_lost_state_is_rebuilt_by_make_up_from_what_entra_holds_and_the_old_certificates_are_named(
        entra, make_workspace, tmp_path):
    """The backend lost the stack (`pulumi stack rm --force`, a deleted state folder): make up adopts the
    application, its service principal and consent under a new integration; the certificates' keys were
    in the lost state, so new ones are registered and the old registrations are named, with their deletes."""
    workspace, app, _ = deployed(entra, make_workspace, tmp_path)
    old_keys = {k["keyId"] for k in app["keyCredentials"]}
    assert_ok(workspace.run("stack", "rm", "--force", "--yes", "--preserve-config"))
    workspace.create(workspace.project.joinpath(f"Pulumi.{workspace.stack}.yaml").read_text())  # a new, empty stack

    checked, deployed_again = make_up(workspace)
    assert checked.stdout.count("ADOPT") == 3, checked.stdout
    assert_ok(deployed_again)
    assert our_application(entra)["id"] == app["id"]
    after = leftovers(workspace)
    assert after.returncode == 0 and after.stdout.count("NOTE  leftovers: the application holds a certificate") == 2
    commands = printed_commands(after.stdout)
    assert sorted(c.split("--key-id ")[1].split()[0] for c in commands) == sorted(old_keys)


def test_a_second_stack_of_the_same_app_name_and_identity_never_takes_the_first_one_s_application(entra, make_workspace, tmp_path):
    """Two stacks, one deploying identity, one explicit appName, two sites: the second's `make up`
    must not adopt the first's application (which it would then rewrite, and destroy with itself).
    The leftovers check tells them apart by the redirect URI and stops the second stack."""
    first, app, _ = deployed(entra, make_workspace, tmp_path, appName="MyTimetable")
    before = entra.directory.applications[app["id"]]["web"]["redirectUris"]
    second = Workspace(ROOT, tmp_path / "second", entra, first.deployer, SECRET, extra_env=TIME_SCALE)
    second.create(stack_yaml(tmp_path / "k2.jks", siteUrl="https://rooster.hogeschool-e2e.nl", adminConsent=True,
                             appName="MyTimetable"))
    checked = leftovers(second, "--adopt")
    assert checked.returncode == 16 and "without this stack's redirect URI" in checked.stdout, checked.stdout
    assert "appName" in checked.stdout and "ADOPT" not in checked.stdout, checked.stdout
    assert "az ad app delete" not in checked.stdout
    assert second.state()["deployment"].get("resources") in (None, []) or not [
        r for r in second.state()["deployment"]["resources"] if r["type"].startswith("azuread:")]
    assert [a["id"] for a in entra.directory.applications.values()] == [app["id"]]
    assert entra.directory.applications[app["id"]]["web"]["redirectUris"] == before
    assert_ok(first.run("preview", "--expect-no-changes"))
