"""azuread.AppRoleAssignment and ServicePrincipalDelegatedPermissionGrant through the plugin's provider
protocol: upstream's orphans included (app_role_assignment_resource.go:105-207,
service_principal_delegated_permission_grant_resource.go:101-228; issues #763, #1759, #1834, PR #1896)."""

from __future__ import annotations

from plugin_rpc import (
    UPDATE_REPLACE,
    Failed,
    tenant_fixture,  # noqa: F401 - the `tenant` fixture
)

CALENDARS_READ_WRITE = "ef54d2bf-783f-4e0f-bca1-3210c0444d99"
CALENDARS_READ = "798ee544-9d2d-430c-a058-570e29e34338"


def _principal(tenant, name: str) -> str:
    app = tenant.application(name)[1]
    return tenant.service_principal(app["clientId"])[1]["objectId"]


def _assignment(tenant, principal: str, role: str = CALENDARS_READ_WRITE):
    resource = tenant.plugin.resource("assignment")
    news = resource.checked({"appRoleId": role, "principalObjectId": principal, "resourceObjectId": tenant.graph_sp["id"]})
    return resource, news


def _grant(tenant, principal: str, scopes=("User.Read", "Calendars.ReadWrite")):
    resource = tenant.plugin.resource("grant")
    news = resource.checked({"claimValues": list(scopes), "resourceServicePrincipalObjectId": tenant.graph_sp["id"],
                             "servicePrincipalObjectId": principal})
    return resource, news


def test_an_assignment_whose_first_read_404s_is_lost_with_expected_non_nil_error(tenant):
    principal = _principal(tenant, "consent-orphan")
    tenant.entra.directory.faults.replication["appRoleAssignments"] = 1
    resource, news = _assignment(tenant, principal)
    failed = resource.create(news)
    assert isinstance(failed, Failed) and failed.init_id is None
    assert failed.message == f"expected non-nil error with nil state during Create of {resource.urn}"
    assert [a for a in tenant.entra.directory.assignments.values() if a["principalId"] == principal]  # it exists in Entra
    again = _assignment(tenant, principal)[0].create(news)
    assert again.message == ("1 error occurred:\n\t* Could not create app role assignment: unexpected status 400 (400 Bad "
                             "Request) with error: Request_BadRequest: Permission being assigned already exists on the "
                             "object\n\n")


def test_a_post_that_landed_and_was_answered_503_is_replayed_into_already_exists(tenant):
    principal = _principal(tenant, "consent-replayed")
    resource, news = _assignment(tenant, principal)
    tenant.entra.directory.faults.after_write.append(
        ["POST", f"/v1.0/servicePrincipals/{tenant.graph_sp['id']}/appRoleAssignedTo", 503, 1])
    tenant.forget_requests()
    failed = resource.create(news)
    assert isinstance(failed, Failed) and failed.init_id is None and "Permission being assigned already exists" in failed.message
    assert [s for m, p, s in tenant.requests("POST")] == [503, 400]


def test_a_principal_not_yet_replicated_is_retried_on_404_and_on_400_not_a_valid_reference(tenant):
    for mode in ("404", "400"):
        principal = _principal(tenant, f"consent-lag-{mode}")
        tenant.entra.directory.faults.reference_errors["appRoleAssignedTo.principal"] = mode
        tenant.entra.directory.faults.lagging[principal] = 2
        resource, news = _assignment(tenant, principal)
        tenant.forget_requests()
        resource_id, outs = resource.create(news)
        assert [s for m, p, s in tenant.requests("POST")] == [int(mode), int(mode), 201], mode
        assert resource_id.startswith(f"/servicePrincipals/{tenant.graph_sp['id']}/appRoleAssignedTo/")
        assert outs["principalType"] == "ServicePrincipal" and outs["resourceDisplayName"] == "Microsoft Graph"
    tenant.entra.directory.faults.reference_errors["appRoleAssignedTo.principal"] = "404"


def test_every_argument_of_an_assignment_forces_a_replacement_and_delete_fails_when_gone(tenant):
    principal = _principal(tenant, "consent-replace")
    resource, news = _assignment(tenant, principal)
    resource_id, outs = resource.create(news)
    diff = resource.diff(resource_id, outs, resource.checked({**{k: v for k, v in news.items() if k != "__defaults"},
                                                               "appRoleId": CALENDARS_READ}))
    assert list(diff.replaces) == ["appRoleId"] and {k: v.kind for k, v in diff.detailedDiff.items()} == {"appRoleId": UPDATE_REPLACE}
    assert resource.delete(resource_id, outs) is None
    failed = resource.delete(resource_id, outs)
    assert isinstance(failed, Failed) and failed.message.startswith(
        f"deleting {resource.urn}: 1 error occurred:\n\t* [id] Deleting Service Principal Id App Role Assigned To (Service "
        f"Principal: \"{tenant.graph_sp['id']}\"\nApp Role Assignment: ")


def test_a_grant_sends_the_scopes_in_set_order_and_is_lost_when_its_first_read_404s(tenant):
    principal = _principal(tenant, "grant-orphan")
    resource, news = _grant(tenant, principal, ("Calendars.ReadWrite", "User.Read", "Calendars.Read.Shared"))
    tenant.entra.directory.faults.replication["oauth2PermissionGrants"] = 1
    tenant.entra.bodies.clear()
    failed = resource.create(news)
    assert isinstance(failed, Failed) and failed.message == f"expected non-nil error with nil state during Create of {resource.urn}"
    (post,) = [b for m, p, b in tenant.entra.bodies if m == "POST"]
    # the SDK's set order: crc32 of "<value>;" compared as DECIMAL STRINGS ("1499149720" < "476556539" <
    # "775271018"), neither the configuration's order, nor the numbers', nor the names'
    assert post["scope"] == "Calendars.Read.Shared User.Read Calendars.ReadWrite" and post["consentType"] == "AllPrincipals"
    again = _grant(tenant, principal)[0].create(news)
    assert again.message == ("1 error occurred:\n\t* Could not create delegated permission grant: unexpected status 409 (409 "
                             "Conflict) with error: Request_MultipleObjectsWithSameKeyValue: Permission entry already "
                             "exists.\n\n")


def test_a_grant_updates_its_scopes_in_place_and_delete_fails_when_gone(tenant):
    principal = _principal(tenant, "grant-update")
    resource, news = _grant(tenant, principal)
    resource_id, outs = resource.create(news)
    assert outs["claimValues"] == ["Calendars.ReadWrite", "User.Read"] and outs["userObjectId"] == ""
    fewer = resource.checked({**{k: v for k, v in news.items() if k != "__defaults"}, "claimValues": ["User.Read"]})
    diff = resource.diff(resource_id, outs, fewer)
    assert not diff.replaces and {k: v.kind for k, v in diff.detailedDiff.items()} == {"claimValues[0]": 2}
    assert resource.update(resource_id, outs, fewer)["claimValues"] == ["User.Read"]
    assert resource.delete(resource_id, outs) is None
    assert "[id] Deleting O Auth 2 Permission Grant (O Auth 2 Permission Grant:" in resource.delete(resource_id, outs).message
