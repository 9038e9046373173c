"""azuread.ServicePrincipal as upstream implements it: terraform-provider-azuread v3.9.0
internal/services/serviceprincipals/service_principal_resource.go (cited `:<line>`).

Kept as upstream has it:
- Create looks the appId up first (quote-escaped filter, no 404 retry): one found and
  `use_existing` adopts it and runs Update on it (PATCHing every property back to the
  configuration or its default, and reconciling owners when `owners` is configured); one found
  without `use_existing` fails "A resource with the ID ... already exists" (:374-402);
- the POST carries a temporary description TERRAFORM_UPDATE_<uuid>, retries only 400 "appId ...
  does not reference a valid application object" and 403 "... backing application ..." (and
  go-azure-sdk's 5xx/429), and a PATCH without a 404 retry puts the real description back; a 404
  there fails at once with the temporary description left behind (:405-510);
- owners: the caller and at most 19 others in the POST, the rest after, the caller removed unless
  listed, also when `owners` is empty (:435-468, :512-525); on update only when `owners` changed;
- Read covers accountEnabled and the other properties, so a disabled service principal shows as
  drift (:601-690); Update PATCHes them all back (:530-599);
- Delete always sends the DELETE, even for an adopted (`use_existing`) service principal, and only
  then skips the error check and the wait (:692-722).
"""

from __future__ import annotations

import json

from .application import owner_ref, owners_at_create, reconcile_owners
from .application_body import expand_features, no_zero, ordered_by_block
from .application_flatten import flatten_app_roles, flatten_features, flatten_role_ids, flatten_scopes
from .ids import SERVICE_PRINCIPAL as SP_ID
from .other_schemas import SERVICE_PRINCIPAL
from .polling import WaitError, wait_for_deletion
from .sdk import CREATE, DELETE, READ, UPDATE, GraphError, Response, marshal
from .sdkv2 import Meta, ResourceData, error_diag, import_as_exists
from .uuids import generate_uuid

NAME = "azuread_service_principal"
ODATA_TYPE = "#microsoft.graph.servicePrincipal"
TIMEOUTS = {"create": 600.0, "read": 300.0, "update": 600.0, "delete": 300.0}  # :43-48
SCHEMA_VERSION = 1  # :61-68
BLOCK = SERVICE_PRINCIPAL


def create_retry(response: Response, odata) -> bool:
    """The POST's RetryFunc (:470-482)."""
    if odata is None:
        return False
    if response.status == 400:
        return odata.match("The appId '.+' of the service principal does not reference a valid application object")
    if response.status == 403:
        return odata.match("When using this permission, the backing application of the service principal being created "
                           "must in the local tenant")
    return False


def _sp_id(d: ResourceData) -> str:
    try:
        return SP_ID.parse(d.id)[0]
    except ValueError as error:
        raise error_diag(error, "Parsing ID", "id") from None


def _saml(values: list) -> dict:
    """expandSamlSingleSignOn (serviceprincipals.go:11-22)."""
    if not values or values[0] is None:
        return {}
    return {"relayState": values[0].get("relayState") or ""}


def create(meta: Meta, d: ResourceData) -> None:
    caller = meta.object_id
    client_id = d.get("clientId")
    filter_text = "appId eq '{}'".format(client_id.replace("'", "''"))  # odata.EscapeSingleQuote (:374-376)
    try:
        found = meta.graph.list_paged(d.op, "/servicePrincipals", {"$filter": filter_text})
    except GraphError as error:
        raise error_diag(error, "Could not list existing service principals") from None
    if len(found) > 1:  # upstream's text has no closing parenthesis (:383-385)
        raise error_diag(f"unexpected number of service principals returned (expected: 1, received: {len(found)}",
                         "Could not list existing service principals")
    if len(found) == 1:
        if not found[0].get("id"):
            raise error_diag("service principal returned with nil or empty object ID", "API error")
        if d.get("useExisting"):  # :389-400: adopt, then Update it
            d.id = SP_ID.id(found[0]["id"])
            update(meta, d)
            return
        raise import_as_exists(NAME, found[0]["id"])

    features, ok = d.get_ok("featureTags")  # :405-412
    legacy, legacy_ok = d.get_ok("features")
    tags = expand_features(features) if ok else expand_features(legacy) if legacy_ok else \
        ordered_by_block(d.block, "tags", d.get("tags"))
    properties = {
        "accountEnabled": bool(d.get("accountEnabled")),
        "alternativeNames": ordered_by_block(d.block, "alternativeNames", d.get("alternativeNames")),
        "appId": client_id,
        "appRoleAssignmentRequired": bool(d.get("appRoleAssignmentRequired")),
        "description": f"TERRAFORM_UPDATE_{generate_uuid()}",  # :415-426
        "loginUrl": no_zero(d.get("loginUrl")),
        "notes": no_zero(d.get("notes")),
        "notificationEmailAddresses": ordered_by_block(d.block, "notificationEmailAddresses", d.get("notificationEmailAddresses")),
        "preferredSingleSignOnMode": no_zero(d.get("preferredSingleSignOnMode")),
        "samlSingleSignOnSettings": _saml(d.get("samlSingleSignOn")),
        "tags": tags,
    }
    first20, extra, remove_caller = owners_at_create(meta, d)  # :435-468
    properties["owners@odata.bind"] = first20

    try:
        response = meta.graph.execute(d.op, "POST", "/servicePrincipals", valid=CREATE, body=marshal(ODATA_TYPE, properties),
                                      retry=create_retry)
    except GraphError as error:
        raise error_diag(error, "Could not create service principal") from None
    sp = response.model
    if not isinstance(sp, dict):
        raise error_diag("model was nil", "Could not create service principal")
    if not sp.get("id"):
        raise error_diag("Object ID returned for service principal is nil", "Bad API response")
    sp_id = sp["id"]
    d.id = SP_ID.id(sp_id)  # :498-499

    try:  # :501-510: no RetryFunc, so a 404 fails at once
        meta.graph.execute(d.op, "PATCH", f"/servicePrincipals/{sp_id}", valid=UPDATE,
                           body=marshal(ODATA_TYPE, {"description": no_zero(d.get("description"))}))
    except GraphError as error:
        if error.not_found():
            raise error_diag(error, "Timed out whilst waiting for new service principal to be replicated in Azure AD") from None
        raise error_diag(error, "Failed to patch service principal after creating") from None

    for owner in extra:  # :512-517
        try:
            meta.graph.execute(d.op, "POST", f"/servicePrincipals/{sp_id}/owners/$ref", valid=CREATE,
                               body=marshal(None, {"@odata.id": owner_ref(meta, owner)}))
        except GraphError as error:
            raise error_diag(error, f"Could not add owners to {SP_ID.string(sp_id)}") from None
    if remove_caller:  # :519-525
        try:
            meta.graph.execute(d.op, "DELETE", f"/servicePrincipals/{sp_id}/owners/{caller}/$ref", valid=DELETE)
        except GraphError as error:
            raise error_diag(error, f"Could not remove initial owner from {SP_ID.string(sp_id)}") from None
    read(meta, d)


def update(meta: Meta, d: ResourceData) -> None:
    sp_id = _sp_id(d)
    features, ok = d.get_ok("featureTags")  # :538-546
    legacy, legacy_ok = d.get_ok("features")
    if ok and features and d.has_change("featureTags"):
        tags = expand_features(features)
    elif legacy_ok and legacy and d.has_change("features"):
        tags = expand_features(legacy)
    else:
        tags = ordered_by_block(d.block, "tags", d.get("tags"))
    properties = {  # :548-563: always the full set
        "alternativeNames": ordered_by_block(d.block, "alternativeNames", d.get("alternativeNames")),
        "accountEnabled": bool(d.get("accountEnabled")),
        "appRoleAssignmentRequired": bool(d.get("appRoleAssignmentRequired")),
        "description": no_zero(d.get("description")),
        "loginUrl": no_zero(d.get("loginUrl")),
        "notes": no_zero(d.get("notes")),
        "notificationEmailAddresses": ordered_by_block(d.block, "notificationEmailAddresses", d.get("notificationEmailAddresses")),
        "preferredSingleSignOnMode": no_zero(d.get("preferredSingleSignOnMode")),
        "samlSingleSignOnSettings": _saml(d.get("samlSingleSignOn")),
        "tags": tags,
    }
    try:
        meta.graph.execute(d.op, "PATCH", f"/servicePrincipals/{sp_id}", valid=UPDATE, body=marshal(ODATA_TYPE, properties))
    except GraphError as error:
        raise error_diag(error, f"Updating {SP_ID.string(sp_id)}") from None
    if d.has_change("owners"):  # :565-596; upstream names the ID with its prefix here
        reconcile_owners(meta, d, "servicePrincipals", sp_id, f"service principal with object ID: {json.dumps(d.id)}",
                         SP_ID.string(sp_id))
    read(meta, d)


def read(meta: Meta, d: ResourceData) -> None:
    sp_id = _sp_id(d)
    try:  # :611-620
        response = meta.graph.execute(d.op, "GET", f"/servicePrincipals/{sp_id}", valid=READ)
    except GraphError as error:
        if error.not_found():
            d.id = ""
            return
        raise error_diag(error, f"Retrieving {SP_ID.string(sp_id)}") from None
    sp = response.model
    if not isinstance(sp, dict):
        raise error_diag("model was nil", f"Retrieving {SP_ID.string(sp_id)}")
    try:  # :627-639
        beta = meta.graph.execute(d.op, "GET", f"/servicePrincipals/{sp_id}", version="beta", valid=READ,
                                  query={"$select": "samlMetadataUrl"})
    except GraphError as error:
        raise error_diag(error, f"Retrieving {SP_ID.string(sp_id)} (beta API)") from None
    if not isinstance(beta.model, dict):
        raise error_diag("model was nil", f"Retrieving {SP_ID.string(sp_id)} (beta API)")
    flatten_into(d, sp, beta.model)
    try:  # :679-687
        owners = meta.graph.list_paged(d.op, f"/servicePrincipals/{sp_id}/owners")
    except GraphError as error:
        raise error_diag(error, f"Could not retrieve owners for {SP_ID.string(sp_id)}", "owners") from None
    d.set("owners", [o.get("id") or "" for o in owners])


def flatten_into(d: ResourceData, sp: dict, beta: dict) -> None:
    """The tf.Set calls of servicePrincipalResourceRead (:641-677)."""
    app_id = sp.get("appId") or ""
    names = [n for n in (sp.get("servicePrincipalNames") or []) if str(n).lower() != app_id.lower()]
    saml = sp.get("samlSingleSignOnSettings")
    features = flatten_features(sp.get("tags"))[0]
    d.values.update({
        "accountEnabled": bool(sp.get("accountEnabled")),
        "alternativeNames": list(sp.get("alternativeNames") or []),
        "appRoleAssignmentRequired": bool(sp.get("appRoleAssignmentRequired")),
        "appRoleIds": flatten_role_ids(sp.get("appRoles")),
        "appRoles": flatten_app_roles(sp.get("appRoles")),
        "applicationTenantId": sp.get("appOwnerOrganizationId") or "",
        "clientId": app_id,
        "description": sp.get("description") or "",
        "displayName": sp.get("displayName") or "",
        "featureTags": [features],
        "features": [{"customSingleSignOnApp": features["customSingleSignOn"], "enterpriseApplication": features["enterprise"],
                      "galleryApplication": features["gallery"], "visibleToUsers": not features["hide"]}],
        "homepageUrl": sp.get("homepage") or "",
        "logoutUrl": sp.get("logoutUrl") or "",
        "loginUrl": sp.get("loginUrl") or "",
        "notes": sp.get("notes") or "",
        "notificationEmailAddresses": list(sp.get("notificationEmailAddresses") or []),
        "oauth2PermissionScopeIds": flatten_role_ids(sp.get("oauth2PermissionScopes")),
        "oauth2PermissionScopes": flatten_scopes(sp.get("oauth2PermissionScopes")),
        "objectId": sp.get("id") or "",
        "preferredSingleSignOnMode": sp.get("preferredSingleSignOnMode") or "",
        "redirectUris": list(sp.get("replyUrls") or []),
        "samlMetadataUrl": beta.get("samlMetadataUrl") or "",
        "samlSingleSignOn": None if not isinstance(saml, dict) else {"relayState": saml.get("relayState") or ""},
        "servicePrincipalNames": names,
        "signInAudience": sp.get("signInAudience") or "",
        "tags": list(sp.get("tags") or []),
        "type": sp.get("servicePrincipalType") or "",
    })


def delete(meta: Meta, d: ResourceData) -> None:
    sp_id = _sp_id(d)
    use_existing = bool(d.get("useExisting"))
    try:  # :702: the DELETE is sent even for an adopted service principal
        meta.graph.execute(d.op, "DELETE", f"/servicePrincipals/{sp_id}", valid=DELETE)
        failure = None
    except GraphError as error:
        failure = error
    if use_existing:
        return
    if failure is not None:
        raise error_diag(failure, f"Deleting {SP_ID.string(sp_id)}", "id")

    def exists() -> bool:
        try:
            meta.graph.execute(d.op, "GET", f"/servicePrincipals/{sp_id}", valid=READ)
        except GraphError as error:
            if error.not_found():
                return False
            raise
        return True

    try:
        wait_for_deletion(d.op, exists)
    except WaitError as error:
        raise error_diag(error, f"Waiting for deletion of {SP_ID.string(sp_id)}") from None
