"""`kill -9` of `pulumi up` right after each kind of Entra object was written, then the recovery the docs
give (docs/operations.md, "An interrupted deploy"): `pulumi cancel` for the lock the killed run left,
then `make up`, whose leftovers check clears the pending creates and adopts what they wrote. After it
Entra and the state hold exactly one of each object, two credentials, and nothing more."""

from __future__ import annotations

import pytest

from conftest import (
    SITE,
    assert_ok,
    assert_one_of_each,
    entra_counts,
    leftovers,
    make_up,
    our_application,
    stack_needs,
    stack_yaml,
    up_killed,
)


def _credential_written(entra):
    def when(method, path, status):
        return (method == "PATCH" and path.startswith("/v1.0/applications/") and status == 204
                and any(app["keyCredentials"] for app in entra.directory.applications.values()))
    return when


KILLED_AFTER = {
    "application": ("application", lambda e: lambda m, p, s: (m, p, s) == ("POST", "/v1.0/applications", 201)),
    "service principal": ("application", lambda e: lambda m, p, s: (m, p, s) == ("POST", "/v1.0/servicePrincipals", 201)),
    "app role assignment": ("application", lambda e: lambda m, p, s: m == "POST" and p.endswith("/appRoleAssignedTo") and s == 201),
    "delegated grant": ("delegated", lambda e: lambda m, p, s: (m, p, s) == ("POST", "/v1.0/oauth2PermissionGrants", 201)),
    "certificate credential": ("application", _credential_written),
}


@pytest.mark.parametrize("written", sorted(KILLED_AFTER))
def test_a_deploy_killed_right_after_a_write_recovers_with_cancel_and_make_up_to_exactly_one_of_each(
        entra, make_workspace, tmp_path, written):
    mode, when = KILLED_AFTER[written]
    workspace = make_workspace(stack_yaml(tmp_path / "k.jks", siteUrl=SITE, permissionMode=mode, adminConsent=True),
                               roles=stack_needs(mode))
    killed = up_killed(workspace, when(entra))
    assert killed.returncode != 0
    pending = workspace.state()["deployment"].get("pending_operations") or []
    assert any(op["type"] == "creating" for op in pending), pending

    # The killed run's lock stops `make up`, which names the command the CLI names for it.
    locked = leftovers(workspace, "--adopt")
    assert locked.returncode == 16 and f"pulumi cancel --stack {workspace.stack} --yes" in locked.stdout, locked.stdout
    assert_ok(workspace.run("cancel", "--yes"))

    checked, deployed = make_up(workspace)
    assert "cleared" in checked.stdout and "pending create" in checked.stdout, checked.stdout
    assert "ADOPT" in checked.stdout, checked.stdout  # what the killed run wrote is adopted, not written twice
    assert_ok(deployed)
    assert not workspace.state()["deployment"].get("pending_operations")
    assert_one_of_each(entra, workspace, mode)
    assert_ok(workspace.run("preview", "--expect-no-changes"))
    assert "agree" in leftovers(workspace).stdout


def test_without_the_check_an_up_after_a_killed_credential_write_registers_the_certificate_twice(entra, make_workspace, tmp_path):
    """Why `make up` runs the check: the provider writes a credential under a random keyId
    (credentials.go keyId = uuid when key_id is not set), so the CLI's own recovery (`pulumi cancel`, then
    `pulumi refresh --clear-pending-creates`, `pulumi up`) registers the same certificate again.
    Without admin consent: a consent the killed run wrote as well (the creates run in parallel) would
    fail that up on "Permission being assigned already exists" first, another case the check settles."""
    workspace = make_workspace(stack_yaml(tmp_path / "k.jks", siteUrl=SITE, adminConsent=False))
    up_killed(workspace, _credential_written(entra))
    assert_ok(workspace.run("cancel", "--yes"))
    assert_ok(workspace.run("refresh", "--clear-pending-creates", "--yes", "--skip-preview"))
    assert_ok(workspace.run("up", "--yes", "--skip-preview"))
    assert entra_counts(entra)["keyCredentials"] > 2


def test_a_create_killed_before_the_rename_back_leaves_the_temporary_name_and_make_up_adopts_it(entra, make_workspace, tmp_path):
    """The provider renames a new application to TERRAFORM_UPDATE_<uuid> and back after its POST
    (application_resource.go:1242-1262). A run killed before the rename back leaves an application no
    lookup by appName finds; the leftovers check finds it by the stack's redirect URI and adopts it, and
    the up after renames it: never a second application."""
    workspace = make_workspace(stack_yaml(tmp_path / "k.jks", siteUrl=SITE, appName="MyTimetable-e2e"))

    def rename_back(method, path, body):
        return (method == "PATCH" and path.startswith("/v1.0/applications/")
                and (body or {}).get("displayName") == "MyTimetable-e2e")

    up_killed(workspace, before=rename_back)
    (app,) = entra.directory.applications.values()
    assert app["displayName"].startswith("TERRAFORM_UPDATE_"), app["displayName"]
    assert_ok(workspace.run("cancel", "--yes"))

    checked, deployed = make_up(workspace)
    assert "ADOPT" in checked.stdout and "temporary name" in checked.stdout, checked.stdout
    assert_ok(deployed)
    assert_one_of_each(entra, workspace)
    assert our_application(entra)["displayName"] == "MyTimetable-e2e"
    assert_ok(workspace.run("preview", "--expect-no-changes"))
