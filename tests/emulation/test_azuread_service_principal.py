"""azuread.ServicePrincipal through the plugin's provider protocol, as upstream behaves
(service_principal_resource.go of terraform-provider-azuread v3.9.0)."""

from __future__ import annotations

import re

from plugin_rpc import (
    UPDATE,
    Failed,
    tenant_fixture,  # noqa: F401 - the `tenant` fixture
)


def _app(tenant, name: str) -> dict:
    return tenant.application(name)[1]


def test_create_writes_a_temporary_description_and_patches_it_away(tenant):
    client_id = _app(tenant, "sp-description")["clientId"]
    tenant.entra.bodies.clear()
    resource_id, outs = tenant.service_principal(client_id)
    (post,) = [b for m, p, b in tenant.entra.bodies if m == "POST" and p == "/v1.0/servicePrincipals"]
    assert re.fullmatch(r"TERRAFORM_UPDATE_[0-9a-f-]{36}", post["description"])
    assert post["accountEnabled"] is True and post["samlSingleSignOnSettings"] == {}
    (patch,) = [b for m, p, b in tenant.entra.bodies if m == "PATCH"]
    assert patch == {"@odata.type": "#microsoft.graph.servicePrincipal", "description": None}
    assert outs["description"] == "" and tenant.entra.directory.service_principals[outs["objectId"]]["description"] is None


def test_a_replication_404_on_that_patch_fails_at_once_and_leaves_the_temporary_description(tenant):
    client_id = _app(tenant, "sp-replicating")["clientId"]
    tenant.entra.directory.faults.replication["servicePrincipals"] = 1
    sp = tenant.plugin.resource("sp")
    failed = sp.create(sp.checked({"clientId": client_id, "owners": [tenant.caller.object_id]}))
    assert isinstance(failed, Failed) and failed.init_id and failed.init_id.startswith("/servicePrincipals/")
    assert "Timed out whilst waiting for new service principal to be replicated in Azure AD: unexpected status 404" in failed.message
    object_id = failed.init_id.rsplit("/", 1)[1]
    assert [s for m, p, s in tenant.requests("PATCH") if p.endswith(object_id)] == [404]  # no retry
    assert tenant.entra.directory.service_principals[object_id]["description"].startswith("TERRAFORM_UPDATE_")
    assert failed.init_properties["tags"] == [] and failed.init_properties["objectId"] is None


def test_a_second_service_principal_for_an_app_fails_with_graph_s_lookup_first(tenant):
    client_id = _app(tenant, "sp-twice")["clientId"]
    first, _ = tenant.service_principal(client_id)
    sp = tenant.plugin.resource("sp")
    failed = sp.create(sp.checked({"clientId": client_id}))
    assert isinstance(failed, Failed) and failed.init_id is None
    assert failed.message == (f"1 error occurred:\n\t* [id] A resource with the ID \"{first.rsplit('/', 1)[1]}\" already exists: "
                              "To be managed via Terraform, this resource needs to be imported into the State. Please see "
                              "the resource documentation for \"azuread_service_principal\" for more information.\n\n")


def test_use_existing_adopts_by_patching_every_property_and_destroy_still_deletes(tenant):
    client_id = _app(tenant, "sp-adopted")["clientId"]
    existing = tenant.entra.directory.add_service_principal({"appId": client_id, "displayName": "sp-adopted"})
    existing.update(description="kept by hand", notes="n", tags=["keep"], appRoleAssignmentRequired=True)
    tenant.entra.directory.owners[existing["id"]] = [tenant.caller.object_id]
    tenant.forget_requests()
    resource_id, outs = tenant.service_principal(client_id, useExisting=True)
    assert resource_id == f"/servicePrincipals/{existing['id']}"
    # the lookup, Update's PATCH and its owners reconciliation (owners is configured: a change on adoption), then Read
    assert [(m, p.rsplit("/", 1)[-1]) for m, p, s in tenant.requests()] == [
        ("GET", "servicePrincipals"), ("PATCH", existing["id"]), ("GET", "owners"), ("GET", existing["id"]), ("GET", "owners")]
    assert existing["description"] is None and existing["notes"] is None and existing["tags"] == []
    assert existing["appRoleAssignmentRequired"] is False
    sp = tenant.plugin.resource("sp")
    tenant.forget_requests()
    assert sp.delete(resource_id, outs) is None
    assert tenant.requests() == [("DELETE", f"/v1.0/servicePrincipals/{existing['id']}", 204)]  # no wait either
    assert existing["id"] not in tenant.entra.directory.service_principals


def test_a_disabled_service_principal_shows_as_drift_and_an_update_enables_it(tenant):
    client_id = _app(tenant, "sp-disabled")["clientId"]
    resource_id, outs = tenant.service_principal(client_id)
    tenant.entra.directory.service_principals[outs["objectId"]]["accountEnabled"] = False
    sp = tenant.plugin.resource("sp")
    news = sp.checked({"clientId": client_id, "owners": [tenant.caller.object_id]})
    _, read, _ = sp.read(resource_id, outs, news)
    assert read["accountEnabled"] is False
    diff = sp.diff(resource_id, read, news)
    assert {k: v.kind for k, v in diff.detailedDiff.items()} == {"accountEnabled": UPDATE} and list(diff.stables) == ["clientId"]
    assert sp.update(resource_id, read, news)["accountEnabled"] is True
    assert tenant.entra.directory.service_principals[outs["objectId"]]["accountEnabled"] is True


def test_delete_without_use_existing_fails_on_404_and_waits_for_five_404s(tenant):
    client_id = _app(tenant, "sp-deleted")["clientId"]
    resource_id, outs = tenant.service_principal(client_id)
    sp = tenant.plugin.resource("sp")
    tenant.forget_requests()
    assert sp.delete(resource_id, outs) is None
    path = f"/v1.0/servicePrincipals/{outs['objectId']}"
    assert tenant.requests() == [("DELETE", path, 204)] + [("GET", path, 404)] * 5
    failed = sp.delete(resource_id, outs)
    assert isinstance(failed, Failed) and "[id] Deleting Service Principal (Service Principal:" in failed.message


def test_the_app_not_yet_replicated_is_retried_on_400_and_on_403(tenant):
    for mode in ("400", "403"):
        app = _app(tenant, f"sp-behind-{mode}")
        tenant.entra.directory.faults.lagging[app["objectId"]] = 2
        tenant.entra.directory.faults.reference_errors["servicePrincipals.appId"] = mode
        tenant.forget_requests()
        resource_id, _ = tenant.service_principal(app["clientId"])
        statuses = [s for m, p, s in tenant.requests("POST") if p == "/v1.0/servicePrincipals"]
        assert statuses == [int(mode), int(mode), 201], mode
    tenant.entra.directory.faults.reference_errors["servicePrincipals.appId"] = "400"
