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

from .consent_routes import ConsentRoutes
from .directory import Caller, Directory, GraphError, denied, not_found, now_iso
from .exchange import access_denied, blocked_by_policy
from .key_credentials import certificate_of, merge_key_credentials
from .policy import DEFAULT_POLICY_ID, check_new_credentials
from .queries import filtered, select

GUID = r"[0-9a-fA-F-]{36}"
APPLICATION_FIELDS = ("displayName", "signInAudience", "web", "requiredResourceAccess", "api", "appRoles",
                      "identifierUris", "tags", "notes", "spa", "publicClient", "info", "optionalClaims",
                      "groupMembershipClaims", "isFallbackPublicClient", "isDeviceOnlyAuthSupported",
                      "serviceManagementReference", "oauth2RequirePostResponse", "passwordCredentials")
SP_FIELDS = ("appRoleAssignmentRequired", "accountEnabled", "tags", "notes", "loginUrl", "preferredSingleSignOnMode",
             "notificationEmailAddresses", "description", "alternativeNames", "featureSettings")


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
        consent = ConsentRoutes(self)
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
            ("POST", rf"/servicePrincipals/({GUID})/appRoleAssignedTo", consent.create_assignment),
            ("GET", rf"/servicePrincipals/({GUID})/appRoleAssignedTo", consent.list_assignments),
            ("GET", rf"/servicePrincipals/({GUID})/appRoleAssignments", consent.list_assignments_of),
            ("GET", rf"/servicePrincipals/({GUID})/appRoleAssignedTo/([\w-]+)", consent.get_assignment),
            ("DELETE", rf"/servicePrincipals/({GUID})/appRoleAssignedTo/([\w-]+)", consent.delete_assignment),
            ("POST", r"/oauth2PermissionGrants", consent.create_grant),
            ("GET", r"/oauth2PermissionGrants", consent.list_grants),
            ("GET", r"/oauth2PermissionGrants/([\w-]+)", consent.get_grant),
            ("PATCH", r"/oauth2PermissionGrants/([\w-]+)", consent.update_grant),
            ("DELETE", r"/oauth2PermissionGrants/([\w-]+)", consent.delete_grant),
            ("GET", r"/policies/defaultAppManagementPolicy", self.get_app_management_policy),
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
        return 200, {"value": [select(_public(a), query) for a in filtered(items, query)]}, {}

    def get_application(self, caller, query, body, object_id):
        app = self._application(caller, object_id)
        # keyCredential.key "Returned only on $select for a single object ... otherwise, it's always
        # null" (Learn: resources/keycredential).
        with_keys = "keyCredentials" in query.get("$select", "")
        shown = copy.deepcopy(app) if with_keys else _public(app)
        hidden = self.d.hidden_keys(app)
        shown["keyCredentials"] = [k for k in shown["keyCredentials"] if k["keyId"] not in hidden]
        return 200, select(shown, query), {}

    def update_application(self, caller, query, body, object_id):
        app = self._application(caller, object_id)
        self.d.authorize(caller, access.CERTIFICATE_REQUIREMENT if set(body) == {"keyCredentials"}
                         else access.APPLICATION_REQUIREMENT, object_id)
        if "keyCredentials" in body:
            before = {k["keyId"] for k in app["keyCredentials"]}
            merged = merge_key_credentials(app["keyCredentials"], body["keyCredentials"])
            check_new_credentials(self.d.app_management_policy, self.d.certificate_authorities, app["createdDateTime"],
                                  [k for k in merged if k["keyId"] not in before], certificate_of)
            app["keyCredentials"] = merged
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
        self.d.delete_application(object_id)  # its service principal goes too (directory.py)
        return 204, None, {}

    # --- owners: application-list-owners, application-post-owners, application-delete-owners (and the servicePrincipal- pages)
    def _target(self, caller, collection, object_id):
        return self._application(caller, object_id) if collection == "applications" else self._sp(caller, object_id)

    def list_owners(self, caller, query, body, collection, object_id):
        self._target(caller, collection, object_id)
        owners = [self.d.object(o) for o in self.d.owners.get(object_id, [])]
        return 200, {"value": [select({"@odata.type": _odata_type(self.d, o["id"]), **o}, query) for o in owners]}, {}

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
        if app is not None:
            self.d.referenced("servicePrincipals.appId", app["id"], str(body.get("appId")))
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
        return 200, {"value": [select(sp, query) for sp in filtered(items, query)]}, {}

    def get_service_principal(self, caller, query, body, object_id):
        return 200, select(self._sp(caller, object_id), query), {}

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
        self.d.delete_service_principal(object_id)
        return 204, None, {}

    # --- tenantappmanagementpolicy-get (policy.py enforces it on keyCredentials)
    def get_app_management_policy(self, caller, query, body):
        if not self.d.can_read_directory(caller):
            raise denied()
        return 200, {"id": DEFAULT_POLICY_ID, "displayName": "Default app management tenant policy",
                     **self.d.app_management_policy}, {}

    # --- directoryobject-get; user-get calendar (what `verify` reads)
    def get_directory_object(self, caller, query, body, object_id):
        found = self.d.object(object_id)
        return 200, {"@odata.type": _odata_type(self.d, object_id), **found}, {}

    def get_calendar(self, caller, query, body, mailbox):
        """Entra consent (a Calendars role in the token) or an RBAC for Applications scope, then
        Exchange's application access policies (exchange.py)."""
        user = next((u for u in self.d.users.values() if mailbox.lower() in (u["id"], u["userPrincipalName"].lower())), None)
        if "Calendars.ReadWrite" not in caller.roles and "Calendars.Read" not in caller.roles:
            if user is None or not self.d.exchange.in_role_scope(caller.app_id, user["userPrincipalName"]):
                raise access_denied()
        elif user is None:
            raise GraphError(404, "ErrorInvalidUser", f"The requested user '{mailbox}' is invalid.")
        elif self.d.exchange.blocked(caller.app_id, user["userPrincipalName"]):
            raise blocked_by_policy()
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
