"""Entra's replication delay, throttling and a one-off server error, injected into local Entra while
the real engine deploys: the run succeeds with exactly one object of each kind in Entra and in state."""

from __future__ import annotations

import pytest

from conftest import assert_ok, our_application, stack_needs, stack_yaml, state_resources, up
from mytimetable_emulation.azuread.resources import POLLS

ONE_OF_EACH = {
    "azuread:index/application:Application": 1,
    "azuread:index/servicePrincipal:ServicePrincipal": 1,
    "azuread:index/applicationCertificate:ApplicationCertificate": 2,
}


# Each collection's new object answers 404 to as many reads as the provider's own consistency
# polling makes, so the provider fails the create AFTER the write (a partial failure with the new
# ID); the component's error hook asks the engine to retry.
@pytest.mark.parametrize("collection,mode", [
    ("servicePrincipals", "application"),
    ("keyCredentials", "application"),
    ("appRoleAssignments", "application"),
    ("oauth2PermissionGrants", "delegated"),
])
def test_a_create_that_fails_after_its_write_is_retried_without_a_duplicate_or_an_orphan(entra, make_workspace, tmp_path,
                                                                                           collection, mode):
    workspace = make_workspace(stack_yaml(tmp_path / "k.jks", permissionMode=mode, adminConsent=True), roles=stack_needs(mode))
    entra.directory.faults.replication[collection] = POLLS
    result = up(workspace)
    assert_ok(result)
    assert "retrying create due to on-error hook request" in result.stdout, result.stdout[-3000:]
    assert collection not in entra.directory.faults.replication  # the fault was consumed

    objects = entra.directory.project_objects()
    assert len(objects["applications"]) == 1 and len(objects["servicePrincipals"]) == 1
    assert len(objects["keyCredentials"]) == 2
    assert len(objects["appRoleAssignments"]) == (1 if mode == "application" else 0)
    assert len(objects["oauth2PermissionGrants"]) == (1 if mode == "delegated" else 0)
    for token, count in ONE_OF_EACH.items():
        assert len(state_resources(workspace, token)) == count, token
    assert_ok(workspace.run("preview", "--expect-no-changes"))


def test_throttling_and_a_one_off_server_error_are_waited_out(entra, make_workspace, tmp_path):
    workspace = make_workspace(stack_yaml(tmp_path / "k.jks"))
    entra.directory.faults.throttle.append(["POST", "/v1.0/applications", 1, 1])
    entra.directory.faults.fail_once.append(["POST", "/v1.0/servicePrincipals", 503])
    assert_ok(up(workspace))
    statuses = [(m, p, s) for m, p, s in entra.requests if m == "POST" and p in ("/v1.0/applications", "/v1.0/servicePrincipals")]
    assert ("POST", "/v1.0/applications", 429) in statuses and ("POST", "/v1.0/servicePrincipals", 503) in statuses
    assert len(entra.directory.project_objects()["applications"]) == 1
    our_application(entra)
