"""Entra's faults against the azuread provider as it really is (pulumi-azuread 6.11.1 =
terraform-provider-azuread v3.9.0, through pulumi-terraform-bridge), and how the program survives them.

Where upstream recovers by itself (retries of 429/5xx before a write, a service principal whose
patch after create answers 404 and is retried as an update by the component's error hook), one `up`
is green. Where upstream loses what it wrote (a consent whose first read answers 404, a credential
whose wait fails, a POST answered 5xx after it was handled), the up fails or leaves a second object,
and the next `make up` (the leftovers check, then up) ends green with one object in Entra and in state,
or stops naming the command that removes the second one."""

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
    portal,
    printed_commands,
    stack_needs,
    stack_yaml,
    state_counts,
    up,
)

# The read right after the create answers 404; upstream's Read then clears the ID and returns no
# error (app_role_assignment_resource.go:155-175, service_principal_delegated_permission_grant_resource.go
# :159-198), and the bridge fails the create without recording it (pkg/tfbridge/provider.go:1363-1367).
ORPHANED = {
    "application": ("appRoleAssignments", "Permission being assigned already exists on the object"),
    "delegated": ("oauth2PermissionGrants", "Permission entry already exists."),
}


@pytest.mark.parametrize("mode", sorted(ORPHANED))
def test_a_consent_orphaned_by_a_404_on_its_first_read_is_adopted_by_the_next_make_up(entra, make_workspace, tmp_path, mode):
    collection, already_exists = ORPHANED[mode]
    workspace = make_workspace(stack_yaml(tmp_path / "k.jks", siteUrl=SITE, permissionMode=mode, adminConsent=True),
                               roles=stack_needs(mode))
    entra.directory.faults.replication[collection] = 1
    failed = up(workspace)
    assert failed.returncode != 0
    assert "expected non-nil error with nil state during Create of" in failed.stdout, failed.stdout[-4000:]
    assert entra_counts(entra)[collection] == 1 and state_counts(workspace)[collection] == 0

    again = up(workspace)  # the provider alone never gets past it
    assert again.returncode != 0 and already_exists in again.stdout, again.stdout[-4000:]

    checked, deployed = make_up(workspace)
    assert "ADOPT" in checked.stdout, checked.stdout
    assert_ok(deployed)
    assert_one_of_each(entra, workspace, mode)
    assert_ok(workspace.run("preview", "--expect-no-changes"))


def test_a_certificate_whose_wait_fails_stays_on_the_application_and_is_adopted_by_the_next_make_up(entra, make_workspace, tmp_path):
    """The provider records the credential only after seeing it 5 times and gives up after 21 polls
    without it (application_certificate_resource.go:180-216): the PATCH has landed, nothing is recorded."""
    workspace = make_workspace(stack_yaml(tmp_path / "k.jks", siteUrl=SITE))
    # Hidden from exactly the 21 reads of the wait. Longer, and the other slot's create (serialised on
    # the application's lock, :147-148) would PATCH back a list without it, which removes it.
    entra.directory.faults.replication["keyCredentials"] = 21
    failed = up(workspace)
    assert failed.returncode != 0 and "couldn't find resource (21 retries)" in failed.stdout, failed.stdout[-4000:]
    entra.directory.faults.lagging.clear()  # Entra has replicated it by the next run
    assert entra_counts(entra)["keyCredentials"] > state_counts(workspace)["keyCredentials"]

    checked, deployed = make_up(workspace)
    assert "ADOPT" in checked.stdout, checked.stdout
    assert_ok(deployed)
    assert_one_of_each(entra, workspace)
    assert_ok(workspace.run("preview", "--expect-no-changes"))


def test_a_service_principal_whose_patch_after_create_answers_404_is_finished_by_the_error_hook(entra, make_workspace, tmp_path):
    """Upstream records the ID, then fails on the PATCH with no 404 retry (service_principal_resource.go
    :498-510): a partial create, which the component's error hook retries; the engine makes it an update."""
    workspace = make_workspace(stack_yaml(tmp_path / "k.jks"))
    entra.directory.faults.replication["servicePrincipals"] = 1
    result = up(workspace)
    assert_ok(result)
    assert "retrying create due to on-error hook request" in result.stdout, result.stdout[-3000:]
    assert_one_of_each(entra, workspace)
    sp = entra.directory.sp_by_app_id(our_application(entra)["appId"])
    assert not str(sp.get("description") or "").startswith("TERRAFORM_UPDATE_")
    assert_ok(workspace.run("preview", "--expect-no-changes"))


def test_throttling_and_a_one_off_server_error_before_the_write_are_waited_out(entra, make_workspace, tmp_path):
    """go-azure-sdk retries 429 (after Retry-After) and 5xx (sdk/client/client.go:447-486)."""
    workspace = make_workspace(stack_yaml(tmp_path / "k.jks"))
    entra.directory.faults.throttle.append(["POST", "/v1.0/applications", 1, 1])
    entra.directory.faults.fail_once.append(["POST", "/v1.0/servicePrincipals", 503])
    assert_ok(up(workspace))
    statuses = [(m, p, s) for m, p, s in entra.requests if m == "POST" and p in ("/v1.0/applications", "/v1.0/servicePrincipals")]
    assert ("POST", "/v1.0/applications", 429) in statuses and ("POST", "/v1.0/servicePrincipals", 503) in statuses
    assert_one_of_each(entra, workspace)


def test_a_post_answered_5xx_after_it_was_handled_leaves_a_second_application_the_check_names_with_its_delete(
        entra, make_workspace, tmp_path):
    """go-azure-sdk replays the POST; the first application stays, under the same name, and
    prevent_duplicate_names is checked only before the first try (application_resource.go:951-964)."""
    workspace = make_workspace(stack_yaml(tmp_path / "k.jks", siteUrl=SITE))
    entra.directory.faults.after_write.append(["POST", "/v1.0/applications", 503, 1])
    assert_ok(up(workspace))
    assert entra_counts(entra)["applications"] == 2 and state_counts(workspace)["applications"] == 1
    assert_ok(workspace.run("preview", "--expect-no-changes"))  # the engine alone never notices

    recorded = workspace.state()["deployment"]["resources"]
    kept = next(r["id"] for r in recorded if r["type"] == "azuread:index/application:Application").rsplit("/", 1)[-1]
    (second,) = [a for a in entra.directory.applications if a != kept]
    for checked in (leftovers(workspace), leftovers(workspace, "--adopt")):
        assert checked.returncode == 16 and second in checked.stdout, checked.stdout
        assert printed_commands(checked.stdout) == [f"az ad app delete --id {second}"]
    portal(entra)("DELETE", f"/v1.0/applications/{second}")  # what the printed command does
    checked, deployed = make_up(workspace)
    assert "agree" in checked.stdout and deployed.returncode == 0
    assert_one_of_each(entra, workspace)


@pytest.mark.parametrize("collection", ["applications", "servicePrincipals"])
def test_a_create_whose_connection_is_reset_after_it_landed_is_adopted_by_the_next_make_up(entra, make_workspace, tmp_path,
                                                                                          collection):
    """A POST without an answer is never retried (sdk/client/client.go:471-482, "HTTP response was nil;
    connection may have been reset") and nothing is recorded, though Graph created the object."""
    workspace = make_workspace(stack_yaml(tmp_path / "k.jks", siteUrl=SITE))
    entra.directory.faults.reset_after_write.append(["POST", f"/v1.0/{collection}", 1])
    failed = up(workspace)
    assert failed.returncode != 0 and "connection may have been reset" in failed.stdout, failed.stdout[-4000:]
    assert entra_counts(entra)[collection] == 1 and state_counts(workspace)[collection] == 0

    checked, deployed = make_up(workspace)
    assert "ADOPT" in checked.stdout, checked.stdout
    assert_ok(deployed)
    assert_one_of_each(entra, workspace)
    assert_ok(workspace.run("preview", "--expect-no-changes"))
