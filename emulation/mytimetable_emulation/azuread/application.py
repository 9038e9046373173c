"""azuread.Application as upstream implements it: terraform-provider-azuread v3.9.0 (df2a07a33712)
internal/services/applications/application_resource.go (cited `:<line>`) and applications.go
(cited `applications.go:<line>`). The body builders and flatteners are in application_body.py.

Upstream behaviour kept on purpose, bugs included:
- the duplicate-name filter is `displayName eq '%s'` without escaping a quote, and the re-check of
  the results is case-sensitive (applications.go:295-314);
- Create sends the caller and at most 19 configured owners in the POST, adds the rest after, and
  removes the caller unless `owners` lists it, also when `owners` is empty (:1179-1213,1287-1300);
- after the POST it renames the application to TERRAFORM_UPDATE_<uuid> and back, retrying 404, 409
  and 400 "unless disabled first" (:1242-1262); a failure there leaves the temporary name;
- Update always re-checks duplicate names, PATCHes the full property set, and reconciles owners only
  when `owners` changed (:1314-1599);
- Delete accepts only 200/204 (a 404 fails) and then waits for five consecutive 404s (:1729-1755).
"""

from __future__ import annotations

import json

from . import application_body as body
from .application_flatten import flatten_into
from .application_schema import APPLICATION
from .ids import APPLICATION as APPLICATION_ID
from .polling import WaitError, wait_for_deletion
from .sdk import CREATE, DELETE, READ, UPDATE, GraphError, Response, marshal
from .sdkv2 import Diags, Meta, ResourceData, error_diag, import_as_duplicate
from .uuids import generate_uuid

NAME = "azuread_application"
ODATA_TYPE = "#microsoft.graph.application"
TIMEOUTS = {"create": 600.0, "read": 300.0, "update": 600.0, "delete": 300.0}  # :49-54
SCHEMA_VERSION = 2  # :67-79
BLOCK = APPLICATION


def update_retry(response: Response, odata) -> bool:
    """applicationUpdateRetryFunc (applications.go:28-39): 404, 409, and 400 "... unless disabled first"."""
    if response.status in (404, 409):
        return True
    if response.status == 400 and odata is not None:
        return odata.match("Permission (scope or role) cannot be deleted or updated unless disabled first")
    return False


class ListError(Exception):
    pass


def find_by_name(meta: Meta, d: ResourceData, display_name: str) -> list[dict]:
    """applicationFindByName (applications.go:295-314): the filter is NOT quote-escaped; matches are
    kept only when the display name is equal case-sensitively."""
    filter_text = f"displayName eq '{display_name}'"
    try:
        apps = meta.graph.list_paged(d.op, "/applications", {"$filter": filter_text})
    except GraphError as error:
        raise ListError(f"unable to list Applications with filter {json.dumps(filter_text, ensure_ascii=False)}: {error}") from None
    return [app for app in apps if app.get("displayName") == display_name]


def object_id(d: ResourceData) -> str:
    try:
        return APPLICATION_ID.parse(d.id)[0]
    except ValueError as error:
        raise error_diag(error, "Parsing ID", "id") from None


def owner_ref(meta: Meta, owner: str) -> str:
    return f"{meta.graph.base}/v1.0/directoryObjects/{owner}"


def owners_at_create(meta: Meta, d: ResourceData) -> tuple[list[str], list[str], bool]:
    """(the `owners@odata.bind` of the create: the caller first and at most 19 configured owners; the
    configured owners to add after the create; whether to remove the caller afterwards: unless
    `owners` lists it, also when `owners` is empty). The same code in both resources upstream:
    application_resource.go:1179-1213, service_principal_resource.go:435-468."""
    caller = meta.object_id
    first20 = [owner_ref(meta, caller)]
    extra: list[str] = []
    remove_caller = True
    owners, ok = d.get_ok("owners")
    if ok:
        count = 0
        for owner in body.ordered_by_block(d.block, "owners", owners):
            if owner.lower() == caller.lower():
                remove_caller = False
                continue
            if count < 19:
                first20.append(owner_ref(meta, owner))
            else:
                extra.append(owner)
            count += 1
    return first20, extra, remove_caller


def create(meta: Meta, d: ResourceData) -> None:
    display_name = d.get("displayName")
    if d.get("preventDuplicateNames"):  # :951-964, at apply time too
        try:
            found = find_by_name(meta, d, display_name)
        except ListError as error:
            raise error_diag(error, "Could not check for existing application(s)", "name") from None
        if found:
            if not found[0].get("id"):
                raise error_diag("API returned application with nil object ID during duplicate name check", "Bad API response")
            raise import_as_duplicate(NAME, found[0]["id"], display_name)

    properties = body.create_properties(d)
    caller = meta.object_id
    first20, extra, remove_caller = owners_at_create(meta, d)  # :1179-1213
    properties["owners@odata.bind"] = first20

    try:  # :1216-1224, no RetryFunc
        response = meta.graph.execute(d.op, "POST", "/applications", valid=CREATE, body=marshal(ODATA_TYPE, properties))
    except GraphError as error:
        raise error_diag(error, "Could not create application") from None
    app = response.model if isinstance(response.model, dict) else None
    if app is None or not app.get("id"):
        raise error_diag("Bad API response", "Object ID returned for application is nil/empty")
    app_id = app["id"]
    d.id = APPLICATION_ID.id(app_id)  # :1226-1228: from here a failure is a partial create

    temporary = f"TERRAFORM_UPDATE_{generate_uuid()}"  # :1242-1262
    for name in (temporary, display_name):
        try:
            meta.graph.execute(d.op, "PATCH", f"/applications/{app_id}", valid=UPDATE,
                               body=marshal(ODATA_TYPE, {"displayName": name}), retry=update_retry)
        except GraphError as error:
            if error.not_found():
                raise error_diag(error, "Timed out whilst waiting for new application to be replicated in Azure AD") from None
            raise error_diag(error, f"Failed to patch application with object ID {json.dumps(app_id)} after creating") from None

    post_response = d.values.get("oauth2PostResponseRequired")
    if post_response is not None:  # :1264-1274, GetOkExists: only when configured
        try:
            meta.graph.execute(d.op, "PATCH", f"/applications/{app_id}", version="beta", valid=UPDATE,
                               body=marshal(ODATA_TYPE, {"oauth2RequirePostResponse": bool(post_response)}), retry=update_retry)
        except GraphError as error:
            raise error_diag(error, f"Failed to set `oauth2_post_response_required` for {APPLICATION_ID.string(app_id)}") from None

    if body.mapped_claims_withheld(d):  # :1129-1135, 1276-1285
        api = body.expand_api(d.get("api"))
        api["acceptMappedClaims"] = True
        try:
            meta.graph.execute(d.op, "PATCH", f"/applications/{app_id}", valid=UPDATE,
                               body=marshal(ODATA_TYPE, {"api": api}), retry=update_retry)
        except GraphError as error:
            raise error_diag(error, "Failed to patch application after creating to set `api.0.mapped_claims_enabled` property",
                             "api.0.mapped_claims_enabled") from None

    for owner in extra:  # :1287-1292
        try:
            meta.graph.execute(d.op, "POST", f"/applications/{app_id}/owners/$ref", valid=CREATE,
                               body=marshal(None, {"@odata.id": owner_ref(meta, owner)}))
        except GraphError as error:
            raise error_diag(error, f"Could not add owners to application with object ID: {json.dumps(app_id)}") from None

    if remove_caller:  # :1294-1300, also when `owners` is empty
        try:
            meta.graph.execute(d.op, "DELETE", f"/applications/{app_id}/owners/{caller}/$ref", valid=DELETE)
        except GraphError as error:
            raise error_diag(error, f"Could not remove initial owner from application with object ID: {json.dumps(app_id)}") from None

    read(meta, d)  # :1311


def read(meta: Meta, d: ResourceData) -> None:
    app_id = object_id(d)
    try:  # :1611-1625
        response = meta.graph.execute(d.op, "GET", f"/applications/{app_id}", valid=READ)
    except GraphError as error:
        if error.not_found():
            d.id = ""  # gone: removed from state, no error
            return
        raise error_diag(error, f"Retrieving {APPLICATION_ID.string(app_id)}", "id") from None
    app = response.model
    if not isinstance(app, dict):
        raise error_diag("model was nil", f"retrieving {APPLICATION_ID.string(app_id)}: model was nil")
    flatten_into(d, app)  # :1627-1686

    try:  # :1688-1702, the beta read; a 404 here is an error, not a removal
        beta = meta.graph.execute(d.op, "GET", f"/applications/{app_id}", version="beta", valid=READ,
                                  query={"$select": "oauth2RequirePostResponse"})
    except GraphError as error:
        raise error_diag(error, f"Retrieving additional properties for {APPLICATION_ID.string(app_id)}") from None
    if not isinstance(beta.model, dict):
        raise error_diag("model was nil", f"Retrieving {APPLICATION_ID.string(app_id)}")
    d.set("oauth2PostResponseRequired", bool(beta.model.get("oauth2RequirePostResponse")))
    d.set("logoImage", d.get("logoImage") or "")  # :1704-1708
    d.set("preventDuplicateNames", bool(d.get("preventDuplicateNames")))  # :1710-1714

    try:  # :1716-1724
        owners = meta.graph.list_paged(d.op, f"/applications/{app_id}/owners")
    except GraphError as error:
        raise error_diag(error, f"Could not retrieve owners for {APPLICATION_ID.string(app_id)}", "owners") from None
    d.set("owners", [o.get("id") or "" for o in owners])


def update(meta: Meta, d: ResourceData) -> None:
    app_id = object_id(d)
    with meta.locks.get(NAME, app_id):  # :1327-1328
        _update(meta, d, app_id)


def _update(meta: Meta, d: ResourceData, app_id: str) -> None:
    display_name = d.get("displayName")
    if d.get("preventDuplicateNames"):  # :1332-1349, on every update
        try:
            found = find_by_name(meta, d, display_name)
        except ListError as error:
            raise error_diag(error, "Could not check for existing application(s)", "display_name") from None
        for existing in found:
            if not existing.get("id"):
                raise error_diag("API returned application with nil object ID during duplicate name check", "Bad API response")
            if existing["id"] != app_id:
                raise import_as_duplicate(NAME, existing["id"], display_name)

    properties = body.update_properties(d)  # :1480-1540
    try:
        meta.graph.execute(d.op, "PATCH", f"/applications/{app_id}", valid=UPDATE, body=marshal(ODATA_TYPE, properties))
    except GraphError as error:
        raise error_diag(error, f"Could not update application with object ID: {json.dumps(app_id)}") from None

    if d.has_change("oauth2PostResponseRequired"):  # :1546-1554
        try:
            meta.graph.execute(d.op, "PATCH", f"/applications/{app_id}", version="beta", valid=UPDATE,
                               body=marshal(ODATA_TYPE, {"oauth2RequirePostResponse": bool(d.get("oauth2PostResponseRequired"))}))
        except GraphError as error:
            raise error_diag(error, f"Failed to set `oauth2_post_response_required` for {APPLICATION_ID.string(app_id)}") from None

    if d.has_change("owners"):  # :1556-1587
        reconcile_owners(meta, d, "applications", app_id, f"application with object ID: {json.dumps(app_id)}",
                         f"application with object ID: {json.dumps(app_id)}")
    read(meta, d)


def reconcile_owners(meta: Meta, d: ResourceData, collection: str, target: str, list_what: str, add_what: str) -> None:
    """Owners on update: add desired - existing, then remove existing - desired (exact string
    comparison, internal/helpers/tf/slices.go:9-21); removals fail with the "add" text, as upstream."""
    try:
        existing = [o.get("id") or "" for o in meta.graph.list_paged(d.op, f"/{collection}/{target}/owners")]
    except GraphError as error:
        raise error_diag(error, f"Could not retrieve owners for {list_what}") from None
    desired = body.ordered_by_block(d.block, "owners", d.get("owners"))
    for owner in [o for o in desired if o not in existing]:
        try:
            meta.graph.execute(d.op, "POST", f"/{collection}/{target}/owners/$ref", valid=CREATE,
                               body=marshal(None, {"@odata.id": owner_ref(meta, owner)}))
        except GraphError as error:
            raise error_diag(error, f"Could not add owners to {add_what}") from None
    for owner in [o for o in existing if o not in desired]:
        try:
            meta.graph.execute(d.op, "DELETE", f"/{collection}/{target}/owners/{owner}/$ref", valid=DELETE)
        except GraphError as error:
            raise error_diag(error, f"Could not add owners to {add_what}") from None


def delete(meta: Meta, d: ResourceData) -> None:
    app_id = object_id(d)
    try:  # :1737-1739: 200/204 only; the error text twice
        meta.graph.execute(d.op, "DELETE", f"/applications/{app_id}", valid=DELETE)
    except GraphError as error:
        raise error_diag(error, f"deleting {APPLICATION_ID.string(app_id)}: {error}", "id") from None

    def exists() -> bool:
        try:
            meta.graph.execute(d.op, "GET", f"/applications/{app_id}", valid=READ)
        except GraphError as error:
            if error.not_found():
                return False
            raise
        return True

    try:  # :1741-1752
        wait_for_deletion(d.op, exists)
    except WaitError as error:
        raise error_diag(error, f"Waiting for deletion of application with object ID {json.dumps(app_id)}") from None


def customize_diff(meta: Meta, d: ResourceData, old_name: str, has_id: bool) -> None:
    """applicationResourceCustomizeDiff's duplicate-name check (:689-707), in its own 5-minute context.
    Bug kept: it compares `diff.Id()` (`/applications/<id>`) with the bare object ID, so it only ever
    refuses a NEW application; an existing one renamed to a taken name passes the plan."""
    new_name = d.values.get("displayName")
    if not d.get("preventDuplicateNames") or not isinstance(new_name, str) or not new_name or new_name == body.UNKNOWN:
        return
    if old_name and old_name == new_name:
        return
    try:
        found = find_by_name(meta, d, new_name)
    except ListError as error:
        raise Diags(body.plain_error(f"could not check for existing application(s): {error}")) from None
    for existing in found:
        if not existing.get("id"):
            raise Diags(body.plain_error("API error: application returned with nil object ID during duplicate name check"))
        if not has_id:
            d_error = import_as_duplicate(NAME, existing["id"], new_name).diagnostics[0]
            raise Diags(body.plain_error(f"{d_error.summary}. {d_error.detail}"))
