"""Microsoft Graph's routes over local Entra's directory: what the azuread provider, `preflight`
and `verify` call for this program, with Graph's status codes, bodies and error shapes.

Each route names its Microsoft Learn page (https://learn.microsoft.com/graph/api/<page>):
create 201 with the object, PATCH and DELETE and $ref 204, lists as {"value": [...]}, errors as
{"error": {"code", "message"}}. An unknown route gets Graph's 400 "Resource not found for the
segment" (never a 5xx: clients retry those for minutes). `$select` returns the named properties
(plus id); `$filter` supports `<property> eq '<value>'`, as the callers use it.
"""

from __future__ import annotations

import copy
import re
import uuid
from typing import Any

from mytimetable_o365.rules import access
from mytimetable_o365.rules.permissions import MICROSOFT_GRAPH

from .directory import Caller, Directory, GraphError, denied, not_found, now_iso
from .key_credentials import merge_key_credentials

GUID = r"[0-9a-fA-F-]{36}"
APPLICATION_FIELDS = ("displayName", "signInAudience", "web", "requiredResourceAccess", "api", "appRoles",
                      "identifierUris", "tags", "notes", "spa", "publicClient", "info", "optionalClaims",
                      "groupMembershipClaims", "isFallbackPublicClient", "isDeviceOnlyAuthSupported",
                      "serviceManagementReference", "oauth2RequirePostResponse", "passwordCredentials")
SP_FIELDS = ("appRoleAssignmentRequired", "accountEnabled", "tags", "notes", "loginUrl", "preferredSingleSignOnMode",
             "notificationEmailAddresses", "description", "alternativeNames", "featureSettings")


def _select(obj: dict, query: dict) -> dict:
    fields = [f.strip() for f in query.get("$select", "").split(",") if f.strip()]
    if not fields:
        return obj
    return {k: v for k, v in obj.items() if k in fields or k == "id"}


_FILTER = re.compile(r"^\s*(\w+)\s+eq\s+'((?:[^']|'')*)'\s*$")


def _filtered(items: list[dict], query: dict) -> list[dict]:
    text = query.get("$filter")
    if not text:
        return items
    match = _FILTER.match(text)
    if not match:
        raise GraphError(400, "Request_UnsupportedQuery", f"Unsupported or invalid query filter clause specified: {text}")
    prop, value = match.group(1), match.group(2).replace("''", "'")
    return [i for i in items if str(i.get(prop, "")).lower() == value.lower()]


def _owner_id(reference: Any) -> str:
    match = re.search(rf"({GUID})\s*$", str(reference or ""))
    if not match:
        raise GraphError(400, "Request_BadRequest", "Invalid object identifier in the @odata.id reference.")
    return match.group(1).lower()


class Graph:
    """Dispatches (method, path) to a route; `handle` returns (status, body or None, headers)."""

    def __init__(self, directory: Directory):
        self.d = directory
        self.routes: list[tuple[str, re.Pattern, Any]] = []
        for method, pattern, handler in [
            ("POST", r"/applications", self.create_application),
            ("GET", r"/applications", self.list_applications),
            ("GET", rf"/applications/({GUID})", self.get_application),
            ("PATCH", rf"/applications/({GUID})", self.update_application),
            ("DELETE", rf"/applications/({GUID})", self.delete_application),
            ("GET", rf"/(applications|servicePrincipals)/({GUID})/owners", self.list_owners),
            ("POST", rf"/(applications|servicePrincipals)/({GUID})/owners/\$ref", self.add_owner),
            ("DELETE", rf"/(applications|servicePrincipals)/({GUID})/owners/({GUID})/\$ref", self.remove_owner),
            ("POST", r"/servicePrincipals", self.create_service_principal),
            ("GET", r"/servicePrincipals", self.list_service_principals),
            ("GET", rf"/servicePrincipals/({GUID})", self.get_service_principal),
            ("PATCH", rf"/servicePrincipals/({GUID})", self.update_service_principal),
            ("DELETE", rf"/servicePrincipals/({GUID})", self.delete_service_principal),
            ("POST", rf"/servicePrincipals/({GUID})/appRoleAssignedTo", self.create_assignment),
            ("GET", rf"/servicePrincipals/({GUID})/appRoleAssignedTo", self.list_assignments),
            ("GET", rf"/servicePrincipals/({GUID})/appRoleAssignments", self.list_assignments_of),
            ("GET", rf"/servicePrincipals/({GUID})/appRoleAssignedTo/([\w-]+)", self.get_assignment),
            ("DELETE", rf"/servicePrincipals/({GUID})/appRoleAssignedTo/([\w-]+)", self.delete_assignment),
            ("POST", r"/oauth2PermissionGrants", self.create_grant),
            ("GET", r"/oauth2PermissionGrants", self.list_grants),
            ("GET", r"/oauth2PermissionGrants/([\w-]+)", self.get_grant),
            ("PATCH", r"/oauth2PermissionGrants/([\w-]+)", self.update_grant),
            ("DELETE", r"/oauth2PermissionGrants/([\w-]+)", self.delete_grant),
            ("GET", rf"/directoryObjects/({GUID})", self.get_directory_object),
            ("GET", r"/users/([^/]+)/calendar", self.get_calendar),
        ]:
            self.routes.append((method, re.compile(rf"^/(?:v1\.0|beta){pattern}/?$"), handler))

    def handle(self, caller: Caller, method: str, path: str, query: dict, body: dict | None):
        known_path = False
        for route_method, pattern, handler in self.routes:
            match = pattern.match(path)
            if match:
                known_path = True
                if route_method == method:
                    with self.d.lock:
                        return handler(caller, query, body or {}, *match.groups())
        if known_path:
            raise GraphError(405, "Request_BadRequest", f"The HTTP method '{method}' is not allowed for this resource.")
        segment = path.rstrip("/").rsplit("/", 1)[-1]
        raise GraphError(400, "BadRequest", f"Resource not found for the segment '{segment}'.")

    # --- applications: application-post-applications, application-get, application-update, application-delete
    def _readable(self, caller: Caller, objects: dict, object_id: str) -> dict:
        """An application or service principal the caller may read (404 while it replicates)."""
        self.d.visible(object_id)
        found = objects.get(object_id)
        if found is None:
            raise not_found(object_id)
        if not self.d.can_read_directory(caller):
            raise denied()
        return found

    def _application(self, caller: Caller, object_id: str) -> dict:
        return self._readable(caller, self.d.applications, object_id)

    def _check_new_owners(self, caller: Caller, owners: list[str]) -> None:
        """Adding an owner other than the caller needs Directory.Read.All beside
        Application.ReadWrite.OwnedBy (Learn: application-post-owners, "Permissions")."""
        others = [o for o in owners if o != caller.object_id]
        if others and caller.kind == "app" and not access.ADD_OTHER_OWNER.allows_app(set(caller.roles)):
            raise denied()
        for owner in others:
            self.d.object(owner)

    def create_application(self, caller, query, body):
        self.d.authorize(caller, access.APPLICATION_REQUIREMENT)
        owners = [_owner_id(ref) for ref in body.get("owners@odata.bind", [])]
        self._check_new_owners(caller, owners)
        object_id = str(uuid.uuid4())
        app = {"id": object_id, "appId": str(uuid.uuid4()), "displayName": body.get("displayName", ""),
               "signInAudience": body.get("signInAudience", "AzureADMyOrg"), "web": {"redirectUris": []},
               "requiredResourceAccess": [], "keyCredentials": [], "passwordCredentials": [],
               "identifierUris": [], "tags": [], "api": {}, "appRoles": [], "createdDateTime": now_iso(),
               "publisherDomain": "localentra.example"}
        for key in APPLICATION_FIELDS:
            if key in body:
                app[key] = copy.deepcopy(body[key])
        if "keyCredentials" in body:
            app["keyCredentials"] = merge_key_credentials([], body["keyCredentials"])
        self.d.applications[object_id] = app
        self.d.owners[object_id] = []
        for owner in owners or [caller.object_id]:
            self.d.add_owner(object_id, owner)
        self.d.lag("applications", object_id)
        return 201, _public(app), {}

    def list_applications(self, caller, query, body):
        if not self.d.can_read_directory(caller):
            raise denied()
        items = list(self.d.applications.values())
        return 200, {"value": [_select(_public(a), query) for a in _filtered(items, query)]}, {}

    def get_application(self, caller, query, body, object_id):
        app = self._application(caller, object_id)
        # keyCredential.key "Returned only on $select for a single object ... otherwise, it's always
        # null" (Learn: resources/keycredential).
        with_keys = "keyCredentials" in query.get("$select", "")
        shown = copy.deepcopy(app) if with_keys else _public(app)
        hidden = self.d.hidden_keys(app)
        shown["keyCredentials"] = [k for k in shown["keyCredentials"] if k["keyId"] not in hidden]
        return 200, _select(shown, query), {}

    def update_application(self, caller, query, body, object_id):
        app = self._application(caller, object_id)
        self.d.authorize(caller, access.CERTIFICATE_REQUIREMENT if set(body) == {"keyCredentials"}
                         else access.APPLICATION_REQUIREMENT, object_id)
        if "keyCredentials" in body:
            before = {k["keyId"] for k in app["keyCredentials"]}
            app["keyCredentials"] = merge_key_credentials(app["keyCredentials"], body["keyCredentials"])
            for credential in app["keyCredentials"]:
                if credential["keyId"] not in before:
                    self.d.lag("keyCredentials", credential["keyId"])
        for key in APPLICATION_FIELDS:
            if key in body:
                app[key] = copy.deepcopy(body[key])
        return 204, None, {}

    def delete_application(self, caller, query, body, object_id):
        self._application(caller, object_id)
        self.d.authorize(caller, access.APPLICATION_REQUIREMENT, object_id)
        del self.d.applications[object_id]
        self.d.owners.pop(object_id, None)
        return 204, None, {}

    # --- owners: application-list-owners, application-post-owners, application-delete-owners (and the servicePrincipal- pages)
    def _target(self, caller, collection, object_id):
        return self._application(caller, object_id) if collection == "applications" else self._sp(caller, object_id)

    def list_owners(self, caller, query, body, collection, object_id):
        self._target(caller, collection, object_id)
        owners = [self.d.object(o) for o in self.d.owners.get(object_id, [])]
        return 200, {"value": [_select({"@odata.type": _odata_type(self.d, o["id"]), **o}, query) for o in owners]}, {}

    def _owner_requirement(self, collection):
        return access.APPLICATION_REQUIREMENT if collection == "applications" else access.SERVICE_PRINCIPAL_REQUIREMENT

    def add_owner(self, caller, query, body, collection, object_id):
        self._target(caller, collection, object_id)
        self.d.authorize(caller, self._owner_requirement(collection), object_id)
        owner = _owner_id(body.get("@odata.id"))
        self._check_new_owners(caller, [owner])
        self.d.add_owner(object_id, owner)
        return 204, None, {}

    def remove_owner(self, caller, query, body, collection, object_id, owner):
        self._target(caller, collection, object_id)
        self.d.authorize(caller, self._owner_requirement(collection), object_id)
        owners = self.d.owners.get(object_id, [])
        if owner.lower() not in owners:
            raise not_found(owner)
        owners.remove(owner.lower())
        return 204, None, {}

    # --- service principals: serviceprincipal-post-serviceprincipals, -get, -update, -delete, -list
    def _sp(self, caller, object_id) -> dict:
        return self._readable(caller, self.d.service_principals, object_id)

    def create_service_principal(self, caller, query, body):
        app = next((a for a in self.d.applications.values() if a["appId"] == str(body.get("appId", "")).lower()), None)
        if app is None:
            raise GraphError(400, "Request_BadRequest", f"The appId '{body.get('appId')}' of the service principal "
                                                        "does not reference a valid application object.")
        self.d.authorize(caller, access.SERVICE_PRINCIPAL_REQUIREMENT, app["id"])
        owners = [_owner_id(ref) for ref in body.get("owners@odata.bind", [])]
        self._check_new_owners(caller, owners)
        sp = self.d.add_service_principal({"appId": app["appId"], "displayName": app["displayName"],
                                           **{k: body[k] for k in SP_FIELDS if k in body}})
        for key in SP_FIELDS:
            if key in body:
                sp[key] = copy.deepcopy(body[key])
        for owner in owners or [caller.object_id]:
            self.d.add_owner(sp["id"], owner)
        return 201, sp, {}

    def list_service_principals(self, caller, query, body):
        if not self.d.can_read_directory(caller):
            raise denied()
        items = list(self.d.service_principals.values())
        return 200, {"value": [_select(sp, query) for sp in _filtered(items, query)]}, {}

    def get_service_principal(self, caller, query, body, object_id):
        return 200, _select(self._sp(caller, object_id), query), {}

    def update_service_principal(self, caller, query, body, object_id):
        sp = self._sp(caller, object_id)
        self.d.authorize(caller, access.SERVICE_PRINCIPAL_REQUIREMENT, object_id)
        for key in SP_FIELDS:
            if key in body:
                sp[key] = copy.deepcopy(body[key])
        return 204, None, {}

    def delete_service_principal(self, caller, query, body, object_id):
        self._sp(caller, object_id)
        self.d.authorize(caller, access.SERVICE_PRINCIPAL_REQUIREMENT, object_id)
        del self.d.service_principals[object_id]
        self.d.owners.pop(object_id, None)
        for assignment_id in [i for i, a in self.d.assignments.items() if object_id in (a["principalId"], a["resourceId"])]:
            del self.d.assignments[assignment_id]
        for grant_id in [i for i, g in self.d.delegated_grants.items() if object_id in (g["clientId"], g["resourceId"])]:
            del self.d.delegated_grants[grant_id]
        return 204, None, {}

    # --- admin consent: serviceprincipal-post-approleassignedto, -list-approleassignedto, -list-approleassignments,
    # -delete-approleassignedto
    def create_assignment(self, caller, query, body, resource_id):
        resource = self._sp(caller, resource_id)
        self.d.authorize(caller, access.GRAPH_APP_ROLE_CONSENT_REQUIREMENT if resource["appId"] == MICROSOFT_GRAPH.app_id
                         else access.OTHER_APP_ROLE_CONSENT_REQUIREMENT)
        return 201, self.d.assign(resource_id, body), {}

    def list_assignments(self, caller, query, body, resource_id):
        self._sp(caller, resource_id)
        return 200, {"value": [a for a in self.d.assignments.values() if a["resourceId"] == resource_id]}, {}

    def list_assignments_of(self, caller, query, body, principal_id):
        """serviceprincipal-list-approleassignments: the app roles granted TO this service principal
        (what the leftovers check reads to find an orphaned assignment)."""
        self._sp(caller, principal_id)
        return 200, {"value": [a for a in self.d.assignments.values() if a["principalId"] == principal_id]}, {}

    def _assignment(self, caller, resource_id, assignment_id) -> dict:
        self._sp(caller, resource_id)
        self.d.visible(assignment_id)
        found = self.d.assignments.get(assignment_id)
        if found is None or found["resourceId"] != resource_id:
            raise not_found(assignment_id)
        return found

    def get_assignment(self, caller, query, body, resource_id, assignment_id):
        return 200, self._assignment(caller, resource_id, assignment_id), {}

    def delete_assignment(self, caller, query, body, resource_id, assignment_id):
        self._assignment(caller, resource_id, assignment_id)
        self.d.authorize(caller, access.OTHER_APP_ROLE_CONSENT_REQUIREMENT)
        del self.d.assignments[assignment_id]
        return 204, None, {}

    # --- delegated consent: oauth2permissiongrant-post, -get, -update, -delete, -list
    def create_grant(self, caller, query, body):
        self.d.authorize(caller, access.DELEGATED_CONSENT_REQUIREMENT)
        for key in ("clientId", "resourceId"):
            self.d.visible(str(body.get(key, "")))
            if body.get(key) not in self.d.service_principals:
                raise not_found(str(body.get(key)))
        resource = self.d.service_principals[body["resourceId"]]
        known = {s["value"] for s in resource["oauth2PermissionScopes"]}
        unknown = [s for s in str(body.get("scope", "")).split() if s not in known]
        if unknown:
            raise GraphError(400, "Request_BadRequest", f"Invalid value specified for property 'scope': {' '.join(unknown)}")
        consent = body.get("consentType", "AllPrincipals")
        for existing in self.d.delegated_grants.values():
            if (existing["clientId"], existing["resourceId"], existing["consentType"], existing.get("principalId")) == (
                    body["clientId"], body["resourceId"], consent, body.get("principalId")):
                raise GraphError(409, "Request_MultipleObjectsWithSameKeyValue", "Permission entry already exists.")
        grant_id = str(uuid.uuid4()).replace("-", "")[:22] + "-" + str(uuid.uuid4())[:20]
        grant = {"id": grant_id, "clientId": body["clientId"], "resourceId": body["resourceId"],
                 "scope": str(body.get("scope", "")), "consentType": consent, "principalId": body.get("principalId")}
        self.d.delegated_grants[grant_id] = grant
        self.d.lag("oauth2PermissionGrants", grant_id)
        return 201, grant, {}

    def list_grants(self, caller, query, body):
        if not self.d.can_read_directory(caller):
            raise denied()
        return 200, {"value": _filtered(list(self.d.delegated_grants.values()), query)}, {}

    def _grant(self, grant_id) -> dict:
        self.d.visible(grant_id)
        found = self.d.delegated_grants.get(grant_id)
        if found is None:
            raise not_found(grant_id)
        return found

    def get_grant(self, caller, query, body, grant_id):
        return 200, self._grant(grant_id), {}

    def update_grant(self, caller, query, body, grant_id):
        grant = self._grant(grant_id)
        self.d.authorize(caller, access.DELEGATED_CONSENT_REQUIREMENT)
        if "scope" in body:
            grant["scope"] = str(body["scope"])
        return 204, None, {}

    def delete_grant(self, caller, query, body, grant_id):
        self._grant(grant_id)
        self.d.authorize(caller, access.DELEGATED_CONSENT_REQUIREMENT)
        del self.d.delegated_grants[grant_id]
        return 204, None, {}

    # --- directoryobject-get; user-get calendar (what `verify` reads)
    def get_directory_object(self, caller, query, body, object_id):
        found = self.d.object(object_id)
        return 200, {"@odata.type": _odata_type(self.d, object_id), **found}, {}

    def get_calendar(self, caller, query, body, mailbox):
        if "Calendars.ReadWrite" not in caller.roles and "Calendars.Read" not in caller.roles:
            raise GraphError(403, "ErrorAccessDenied", "Access is denied. Check credentials and try again.")
        user = next((u for u in self.d.users.values() if mailbox.lower() in (u["id"], u["userPrincipalName"].lower())), None)
        if user is None:
            raise GraphError(404, "ErrorInvalidUser", f"The requested user '{mailbox}' is invalid.")
        return 200, {"id": "AAMk" + user["id"].replace("-", ""), "name": "Calendar", "canEdit": True,
                     "owner": {"name": user["displayName"], "address": user["userPrincipalName"]}}, {}


def _public(app: dict) -> dict:
    """An application as Graph returns it: keyCredentials' `key` is null unless selected."""
    shown = copy.deepcopy(app)
    for credential in shown.get("keyCredentials", []):
        credential["key"] = None
    return shown


def _odata_type(d: Directory, object_id: str) -> str:
    if object_id in d.users:
        return "#microsoft.graph.user"
    if object_id in d.service_principals:
        return "#microsoft.graph.servicePrincipal"
    return "#microsoft.graph.application"
