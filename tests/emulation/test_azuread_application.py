"""azuread.Application through the plugin's provider protocol, as upstream behaves
(terraform-provider-azuread v3.9.0 application_resource.go; expected values checked on a build of
the real plugin, docs/real-engine.md)."""

from __future__ import annotations

import re
import uuid

from plugin_rpc import (
    DELETE,
    UPDATE,
    Failed,
    tenant_fixture,  # noqa: F401 - the `tenant` fixture
)

NEW_OWNERS = 25


def _bodies(tenant, method: str, path: str) -> list:
    return [b for m, p, b in tenant.entra.bodies if m == method and p == path]


def test_create_posts_the_caller_and_19_owners_adds_the_rest_after_and_removes_the_caller(tenant):
    users = []
    for index in range(NEW_OWNERS):
        user = str(uuid.uuid4())
        tenant.entra.directory.users[user] = {"id": user, "displayName": f"u{index}", "userPrincipalName": f"u{index}@x"}
        users.append(user)
    tenant.forget_requests()
    app = tenant.plugin.resource("app")
    resource_id, outs = app.create(app.checked({"displayName": "owners-25", "owners": users}))
    object_id = outs["objectId"]
    (post,) = _bodies(tenant, "POST", "/v1.0/applications")
    bound = post["owners@odata.bind"]
    assert len(bound) == 20 and bound[0].endswith(f"/v1.0/directoryObjects/{tenant.caller.object_id}")
    added = [b["@odata.id"].rsplit("/", 1)[1] for b in _bodies(tenant, "POST", f"/v1.0/applications/{object_id}/owners/$ref")]
    assert len(added) == NEW_OWNERS - 19 and set(added) | {b.rsplit("/", 1)[1] for b in bound[1:]} == set(users)
    assert ("DELETE", f"/v1.0/applications/{object_id}/owners/{tenant.caller.object_id}/$ref", 204) in tenant.requests()
    assert sorted(outs["owners"]) == sorted(users)


def test_the_caller_is_removed_even_when_owners_is_empty_and_the_state_keeps_null(tenant):
    app = tenant.plugin.resource("app")
    tenant.forget_requests()
    resource_id, outs = app.create(app.checked({"displayName": "no-owners", "owners": []}))
    assert ("DELETE", f"/v1.0/applications/{outs['objectId']}/owners/{tenant.caller.object_id}/$ref", 204) in tenant.requests()
    assert outs["owners"] is None and tenant.entra.directory.owners[outs["objectId"]] == []


def test_create_renames_to_a_temporary_name_and_back_retrying_a_replication_404(tenant):
    tenant.entra.directory.faults.replication["applications"] = 2
    tenant.forget_requests()
    resource_id, outs, _ = tenant.application("renamed-back")
    path = f"/v1.0/applications/{outs['objectId']}"
    names = [b["displayName"] for b in _bodies(tenant, "PATCH", path)]
    assert re.fullmatch(r"TERRAFORM_UPDATE_[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", names[0])
    assert names == [names[0]] * 3 + ["renamed-back"]  # the first PATCH met two 404s and was replayed
    assert [s for m, p, s in tenant.requests("PATCH") if p == path] == [404, 404, 204, 204]


def test_a_failed_rename_back_leaves_the_temporary_name_and_a_partial_create(tenant):
    tenant.entra.directory.faults.refuse.append({"method": "PATCH", "prefix": "/v1.0/applications/", "status": 403, "skip": 1,
                                                 "code": "Authorization_RequestDenied",
                                                 "message": "Insufficient privileges to complete the operation."})
    app = tenant.plugin.resource("app")
    failed = app.create(app.checked({"displayName": "left-temporary", "owners": [tenant.caller.object_id]}))
    assert isinstance(failed, Failed) and failed.init_id and failed.init_id.startswith("/applications/")
    object_id = failed.init_id.rsplit("/", 1)[1]
    assert failed.message == (
        f"creating {app.urn}: 1 error occurred:\n\t* Failed to patch application with object ID \"{object_id}\" after creating: "
        "unexpected status 403 (403 Forbidden) with error: Authorization_RequestDenied: Insufficient privileges to complete "
        "the operation.\n\n")
    assert tenant.entra.directory.applications[object_id]["displayName"].startswith("TERRAFORM_UPDATE_")


def test_read_reports_what_the_portal_changed(tenant):
    resource_id, outs, news = tenant.application("portal-drift", web={"redirectUris": ["https://mt.example/a"]})
    graph_app = tenant.entra.directory.applications[outs["objectId"]]
    graph_app.update(spa={"redirectUris": ["https://spa.example/"]}, publicClient={"redirectUris": ["myapp://auth"]},
                     identifierUris=["api://x"], isFallbackPublicClient=True, groupMembershipClaims="SecurityGroup",
                     notes="portal", info={**graph_app["info"], "marketingUrl": "https://m.example/"})
    graph_app["web"]["implicitGrantSettings"] = {"enableAccessTokenIssuance": True, "enableIdTokenIssuance": False}
    graph_app["web"]["redirectUris"].append("https://other.example/")
    app = tenant.plugin.resource("app", app_name(outs))
    _, read, _ = app.read(resource_id, outs, news)
    assert read["singlePageApplication"] == {"redirectUris": ["https://spa.example/"]}
    assert read["publicClient"] == {"redirectUris": ["myapp://auth"]}
    assert read["identifierUris"] == ["api://x"] and read["fallbackPublicClientEnabled"] is True
    assert read["groupMembershipClaims"] == ["SecurityGroup"] and read["notes"] == "portal"
    assert read["marketingUrl"] == "https://m.example/"
    assert read["web"]["implicitGrant"] == {"accessTokenIssuanceEnabled": True, "idTokenIssuanceEnabled": False}
    assert read["web"]["redirectUris"] == ["https://mt.example/a", "https://other.example/"]

    diff = app.diff(resource_id, read, news)
    assert diff.changes == diff.DIFF_SOME and not diff.replaces
    assert {k: v.kind for k, v in diff.detailedDiff.items()} == {
        "singlePageApplication": DELETE, "publicClient": DELETE, "identifierUris": DELETE, "fallbackPublicClientEnabled": DELETE,
        "groupMembershipClaims": DELETE, "notes": DELETE, "marketingUrl": DELETE, "web.implicitGrant": DELETE,
        "web.redirectUris[1]": DELETE}

    tenant.entra.bodies.clear()
    updated = app.update(resource_id, read, news)
    (patch,) = _bodies(tenant, "PATCH", f"/v1.0/applications/{outs['objectId']}")
    assert patch["spa"] == {"redirectUris": []} and patch["publicClient"] == {"redirectUris": []}
    assert patch["isFallbackPublicClient"] is False and patch["groupMembershipClaims"] is None and patch["notes"] is None
    assert patch["info"]["marketingUrl"] is None and patch["identifierUris"] == []
    assert patch["web"]["implicitGrantSettings"] == {"enableAccessTokenIssuance": False, "enableIdTokenIssuance": False}
    assert updated["web"]["redirectUris"] == ["https://mt.example/a"] and updated["identifierUris"] == []


def app_name(outs: dict) -> str:
    return "drifted-" + outs["objectId"][:6]


def test_an_update_patches_the_full_property_set_and_only_changed_lists(tenant):
    resource_id, outs, news = tenant.application("full-patch")
    app = tenant.plugin.resource("app")
    tenant.entra.bodies.clear()
    app.update(resource_id, outs, app.checked({**_inputs(news), "displayName": "full-patch-2"}))
    (patch,) = _bodies(tenant, "PATCH", f"/v1.0/applications/{outs['objectId']}")
    assert set(patch) == {"@odata.type", "api", "description", "displayName", "groupMembershipClaims", "info",
                          "isDeviceOnlyAuthSupported", "isFallbackPublicClient", "notes", "publicClient",
                          "serviceManagementReference", "signInAudience", "spa", "tags", "web"}
    assert "oauth2PermissionScopes" not in patch["api"]


def _inputs(news: dict) -> dict:
    return {k: v for k, v in news.items() if not k.startswith("__")}


def test_the_duplicate_name_check_compares_case_sensitively(tenant):
    tenant.application("MyTimetable-case")
    app = tenant.plugin.resource("app")
    other_case = app.create(app.checked({"displayName": "mytimetable-CASE", "preventDuplicateNames": True,
                                         "owners": [tenant.caller.object_id]}))
    assert not isinstance(other_case, Failed)
    same = tenant.plugin.resource("app")
    failed = same.create(same.checked({"displayName": "MyTimetable-case", "preventDuplicateNames": True,
                                       "owners": [tenant.caller.object_id]}))
    assert isinstance(failed, Failed) and failed.init_id is None
    assert failed.message.startswith(f"diffing {same.urn}: 1 error occurred:\n\t* An existing \"azuread_application\" with "
                                     "name \"MyTimetable-case\" (ID: ")


def test_a_quote_in_the_name_reaches_graph_unescaped_and_graph_refuses_the_filter(tenant):
    app = tenant.plugin.resource("app")
    failed = app.create(app.checked({"displayName": "O'Brien", "preventDuplicateNames": True}), preview=True)
    assert isinstance(failed, Failed)
    assert failed.message == (
        f"diffing {app.urn}: 1 error occurred:\n\t* could not check for existing application(s): unable to list Applications "
        "with filter \"displayName eq 'O'Brien'\": unexpected status 400 (400 Bad Request) with error: BadRequest: Invalid "
        "filter clause: Syntax error at position 18 in 'displayName eq 'O'Brien''.\n\n")


def test_a_rename_to_a_taken_name_passes_the_plan_and_fails_the_update(tenant):
    taken, _, _ = tenant.application("taken-name")
    resource_id, outs, news = tenant.application("free-name", preventDuplicateNames=True)
    app = tenant.plugin.resource("app")
    renamed = app.checked({**_inputs(news), "displayName": "taken-name"})
    diff = app.diff(resource_id, outs, renamed)
    assert not isinstance(diff, Failed) and diff.changes == diff.DIFF_SOME
    assert {k: v.kind for k, v in diff.detailedDiff.items()} == {"displayName": UPDATE}
    failed = app.update(resource_id, outs, renamed)
    assert isinstance(failed, Failed) and failed.init_id == resource_id
    assert f"[id] An existing \"azuread_application\" with name \"taken-name\" (ID: \"{taken.rsplit('/', 1)[1]}\")" in failed.message


def test_delete_waits_for_five_404s_and_a_second_delete_fails_on_graph_s_404(tenant):
    resource_id, outs, _ = tenant.application("deleted")
    app = tenant.plugin.resource("app")
    tenant.forget_requests()
    assert app.delete(resource_id, outs) is None
    path = f"/v1.0/applications/{outs['objectId']}"
    assert tenant.requests() == [("DELETE", path, 204)] + [("GET", path, 404)] * 5
    failed = app.delete(resource_id, outs)
    error = (f"unexpected status 404 (404 Not Found) with error: Request_ResourceNotFound: Resource '{outs['objectId']}' "
             "does not exist or one of its queried reference-property objects are not present.")
    assert failed.message == (f"deleting {app.urn}: 1 error occurred:\n\t* [id] deleting Application (Application: "
                              f"\"{outs['objectId']}\"): {error}: {error}\n\n")
    assert app.read(resource_id, outs, {}) == ("", {}, {})  # gone: no ID, no properties


def test_an_import_id_that_is_not_an_application_id_reads_as_not_found_without_a_call(tenant):
    app = tenant.plugin.resource("app")
    tenant.forget_requests()
    for bad in ("bogus", "0b8c2e9a-6c1e-4d0a-9f1e-2b3c4d5e6f70", "/applications/x/y", "/servicePrincipals/x"):
        assert app.read(bad) == ("", {}, {}), bad
    assert tenant.requests() == []
