"""Local Entra's directory: the objects a tenant holds and the rules it enforces. Pure: no I/O.

Rules, each with its public source:
- Who may do what: the project's one least-privilege table (`rules.access`, built from
  Microsoft Learn's per-route "Permissions" sections); with only Application.ReadWrite.OwnedBy the
  caller must own the object ("It cannot update any apps that it is not an owner of",
  https://learn.microsoft.com/graph/permissions-reference#applicationreadwriteownedby).
- At most 100 owners per application or service principal ("A maximum of 100 owners can be added to
  a single application", https://learn.microsoft.com/entra/identity/users/directory-service-limits-restrictions).
- keyCredentials: keyIds unique; an X.509 certificate; RSA keys only ("Microsoft Entra ID supports
  ... RSA", https://learn.microsoft.com/entra/identity-platform/certificate-credentials); the
  credential's end date within the certificate's validity (the provider docs of
  azuread_application_certificate: "end_date ... cannot be later than the certificate's expiry").
- One service principal per appId: a second POST /servicePrincipals gets 409 Conflict
  Request_MultipleObjectsWithSameKeyValue "The service principal cannot be created, updated, or
  restored because the service principal name <appId> is already in use." (the answer the azuread
  provider reports, Azure/reliable-web-app-pattern-java#185: "unexpected status 409 with OData
  error: Request_MultipleObjectsWithSameKeyValue ..."; the Azure AD PowerShell module reports the
  same text with "HttpStatusCode: Conflict", KelvinTegelaar/CIPP#1142).
- Deleting an application deletes its service principal in the home tenant ("Application and service
  principal objects in Microsoft Entra ID",
  https://learn.microsoft.com/entra/identity-platform/app-objects-and-service-principals), and with it
  the app role assignments and delegated grants it held or was the resource of.
- Replication and the other faults a tenant shows: faults.py; Exchange Online's application access
  policies and RBAC for Applications over the users' mailboxes: exchange.py.
"""

from __future__ import annotations

import base64
import datetime as dt
import threading
import uuid
from dataclasses import dataclass

from mytimetable_o365.rules import access
from mytimetable_o365.rules.permissions import MICROSOFT_GRAPH

from .. import catalogue
from .errors import GraphError, denied, not_found
from .exchange import Exchange
from .faults import Faults

MAX_OWNERS = 100


@dataclass(frozen=True)
class Caller:
    """Who a token belongs to: a service principal with application permissions (`roles`) or a
    user with active directory roles (names as in rules.access)."""

    object_id: str
    app_id: str
    kind: str  # "app" | "user"
    roles: frozenset = frozenset()
    directory_roles: frozenset = frozenset()
    display_name: str = ""


def _role(name: str, role_id: str, kinds=("Application",)) -> dict:
    return {"id": role_id, "value": name, "displayName": name, "allowedMemberTypes": list(kinds),
            "isEnabled": True, "description": name, "origin": "Application"}


def _scope(name: str, scope_id: str) -> dict:
    return {"id": scope_id, "value": name, "adminConsentDisplayName": name, "adminConsentDescription": name,
            "isEnabled": True, "type": "User", "userConsentDisplayName": name, "userConsentDescription": name}


# Microsoft's first-party service principals (catalogue.py) as Graph shows them: appRoles and
# oauth2PermissionScopes objects (Learn: resources/approle, resources/permissionscope).
FIRST_PARTY = {
    spec.app_id: {
        "displayName": spec.display_name,
        "appRoles": [_role(name, role_id) for name, role_id in sorted(spec.app_roles.items())],
        "oauth2PermissionScopes": [_scope(name, scope_id) for name, scope_id in sorted(spec.scopes.items())],
    }
    for spec in catalogue.FIRST_PARTY.values()
}


def now_iso() -> str:
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class Directory:
    """The tenant: applications, service principals, users, owners, grants; thread-safe."""

    def __init__(self, tenant_id: str):
        self.tenant_id = tenant_id
        self.lock = threading.RLock()
        self.applications: dict[str, dict] = {}
        self.service_principals: dict[str, dict] = {}
        self.users: dict[str, dict] = {}
        self.owners: dict[str, list[str]] = {}
        self.assignments: dict[str, dict] = {}
        self.delegated_grants: dict[str, dict] = {}
        self.secrets: dict[str, str] = {}  # client id -> client secret, for the token endpoint
        self.user_logins: dict[str, Caller] = {}  # client id -> the user it signs in
        # client id -> {"keyCredentials": [...], "federatedIdentityCredentials": [...]} of a deploying
        # identity's own app registration (kept apart, so that a deployment's objects stay countable)
        self.deployer_credentials: dict[str, dict] = {}
        # the tenant's default app management policy (Learn, tenantAppManagementPolicy) and its
        # trusted certificate authorities (Learn, certificateBasedApplicationConfiguration): policy.py
        self.app_management_policy: dict = {"isEnabled": False, "applicationRestrictions": {"keyCredentials": []}}
        self.certificate_authorities: dict[str, list] = {}  # configuration id -> CA certificates (PEM text)
        self.faults = Faults()
        self.exchange = Exchange()
        for app_id, spec in FIRST_PARTY.items():
            self.add_service_principal({"appId": app_id, **spec}, first_party=True)

    # --- callers --------------------------------------------------------------------------------
    def add_deployer(self, name: str, secret: str, roles=(), directory_roles=(), kind: str = "app",
                     client_id: str | None = None) -> Caller:
        """A deploying identity: an app registration + service principal holding Graph app roles,
        or a user holding directory roles; `client_id` default a new one. Returns the Caller its
        tokens stand for."""
        client_id = client_id or str(uuid.uuid4())
        with self.lock:
            if kind == "user":
                object_id = str(uuid.uuid4())
                self.users[object_id] = {"id": object_id, "displayName": name, "userPrincipalName": f"{name}@localentra.example"}
                self.secrets[client_id] = secret
                caller = Caller(object_id, client_id, "user", directory_roles=frozenset(directory_roles), display_name=name)
                self.user_logins[client_id] = caller
                return caller
            self.secrets[client_id] = secret
            sp = self.add_service_principal({"appId": client_id, "displayName": name, "appRoles": [],
                                             "oauth2PermissionScopes": []}, first_party=True)
            graph_sp = self.graph_sp()
            for role in roles:
                self._assign(graph_sp, sp["id"], access.GRAPH_PERMISSION_IDS[role])
            return self.caller_for_sp(sp)

    def add_user(self, address: str, display_name: str = "") -> dict:
        """A member user with a mailbox: its userPrincipalName is its mail address (Learn, user resource)."""
        with self.lock:
            object_id = str(uuid.uuid4())
            user = {"id": object_id, "displayName": display_name or address.split("@")[0],
                    "userPrincipalName": address, "mail": address}
            self.users[object_id] = user
            return user

    def add_application(self, app_id: str, display_name: str, key_credentials=(), roles=()) -> dict:
        """An app registration made before this run (an earlier deployment, another tool) with this
        appId, its keyCredentials as Graph stores them, and its service principal holding these
        Microsoft Graph application permissions (admin consent granted)."""
        with self.lock:
            object_id = str(uuid.uuid4())
            app = {"id": object_id, "appId": app_id, "displayName": display_name, "signInAudience": "AzureADMyOrg",
                   "keyCredentials": [dict(k) for k in key_credentials], "passwordCredentials": [],
                   "createdDateTime": now_iso()}
            self.applications[object_id] = app
            self.owners[object_id] = []
            sp = self.add_service_principal({"appId": app_id, "displayName": display_name}, first_party=True)
            self.set_roles(self.caller_for_sp(sp), roles)
            return app

    def add_deployer_credential(self, client_id: str, kind: str, credential: dict) -> None:
        """A certificate (kind keyCredentials: keyId, type, key as base64 DER or PEM) or a federated
        identity credential (kind federatedIdentityCredentials: issuer, subject, audiences) on a
        deploying identity's own app registration."""
        with self.lock:
            self.deployer_credentials.setdefault(client_id, {}).setdefault(kind, []).append(dict(credential))

    def caller_by_client(self, client_id: str) -> Caller | None:
        sp = self.sp_by_app_id(client_id)
        return self.caller_for_sp(sp) if sp else self.user_logins.get(client_id)

    def caller_by_object(self, object_id: str) -> Caller | None:
        """The caller a token names, with its permissions as they are now (a revoked role counts at once)."""
        sp = self.service_principals.get(object_id)
        if sp is not None:
            return self.caller_for_sp(sp)
        return next((c for c in self.user_logins.values() if c.object_id == object_id), None)

    def set_roles(self, caller: Caller, roles) -> Caller:
        """Replace a service principal's Microsoft Graph application permissions (names, e.g. Calendars.ReadWrite)."""
        with self.lock:
            graph_sp = self.graph_sp()
            for assignment_id in [i for i, a in self.assignments.items()
                                  if a["principalId"] == caller.object_id and a["resourceId"] == graph_sp["id"]]:
                del self.assignments[assignment_id]
            ids = {r["value"]: r["id"] for r in graph_sp["appRoles"]}  # any Graph app role, e.g. Calendars.ReadWrite
            for role in roles:
                self._assign(graph_sp, caller.object_id, ids[role])
            return self.caller_for_sp(self.service_principals[caller.object_id])

    def caller_for_sp(self, sp: dict) -> Caller:
        graph_sp = self.graph_sp()
        names = {r["id"]: r["value"] for r in graph_sp["appRoles"]}
        roles = frozenset(names[a["appRoleId"]] for a in self.assignments.values()
                          if a["principalId"] == sp["id"] and a["resourceId"] == graph_sp["id"] and a["appRoleId"] in names)
        return Caller(sp["id"], sp["appId"], "app", roles=roles, display_name=sp["displayName"])

    # --- authorization ------------------------------------------------------------------------
    def authorize(self, caller: Caller, requirement: access.Requirement, target: str | None = None) -> None:
        """Refuse as the tenant does (403 Authorization_RequestDenied)."""
        if caller.kind == "user":
            if not requirement.allows_user(set(caller.directory_roles)):
                raise denied()
            return
        if not requirement.allows_app(set(caller.roles)):
            raise denied()
        only_owned = requirement.as_owner and not requirement.allows_app(set(caller.roles) - {access.OWNED_BY})
        if only_owned and target is not None and caller.object_id not in self.owners.get(target, []):
            raise denied()

    def can_read_directory(self, caller: Caller) -> bool:
        """Reading applications and service principals: the table's lookup step (rules.access,
        READ_API_REQUIREMENT, from Learn's serviceprincipal-get, which also lets
        Application.ReadWrite.OwnedBy list and read every application and service principal).
        Users: member users read app registrations by default (Learn: default user permissions)."""
        if caller.kind == "user":
            return True
        return access.READ_API_REQUIREMENT.allows_app(set(caller.roles))

    # --- objects -------------------------------------------------------------------------------
    def add_service_principal(self, body: dict, first_party: bool = False) -> dict:
        with self.lock:
            if self.sp_by_app_id(body["appId"]) is not None:
                raise GraphError(409, "Request_MultipleObjectsWithSameKeyValue",
                                 "The service principal cannot be created, updated, or restored because the service "
                                 f"principal name {body['appId']} is already in use.")
            object_id = str(uuid.uuid4())
            sp = {"id": object_id, "appId": body["appId"], "displayName": body.get("displayName", ""),
                  "appRoleAssignmentRequired": bool(body.get("appRoleAssignmentRequired", False)),
                  "accountEnabled": True, "servicePrincipalType": "Application", "tags": body.get("tags", []),
                  "appRoles": body.get("appRoles", []), "oauth2PermissionScopes": body.get("oauth2PermissionScopes", []),
                  "appOwnerOrganizationId": self.tenant_id, "servicePrincipalNames": [body["appId"]],
                  "createdDateTime": now_iso()}
            self.service_principals[object_id] = sp
            self.owners[object_id] = []
            if not first_party:
                self.lag("servicePrincipals", object_id)
            return sp

    def graph_sp(self) -> dict:
        """Microsoft Graph's service principal: always in the directory (added at start)."""
        found = self.sp_by_app_id(MICROSOFT_GRAPH.app_id)
        assert found is not None
        return found

    def delete_application(self, object_id: str) -> None:
        """The application, its home-tenant service principal and what that one held (module docstring)."""
        with self.lock:
            app = self.applications.pop(object_id)
            self.owners.pop(object_id, None)
            sp = self.sp_by_app_id(app["appId"])
            if sp is not None:
                self.delete_service_principal(sp["id"])

    def delete_service_principal(self, object_id: str) -> None:
        with self.lock:
            del self.service_principals[object_id]
            self.owners.pop(object_id, None)
            for assignment_id in [i for i, a in self.assignments.items() if object_id in (a["principalId"], a["resourceId"])]:
                del self.assignments[assignment_id]
            for grant_id in [i for i, g in self.delegated_grants.items() if object_id in (g["clientId"], g["resourceId"])]:
                del self.delegated_grants[grant_id]

    def sp_by_app_id(self, app_id: str) -> dict | None:
        return next((sp for sp in self.service_principals.values() if sp["appId"].lower() == str(app_id).lower()), None)

    def lag(self, collection: str, object_id: str) -> None:
        """Start an injected replication delay for a new object, if one was asked for its collection."""
        reads = self.faults.replication.pop(collection, 0)
        if reads:
            self.faults.lagging[object_id] = reads

    def hidden_keys(self, app: dict) -> set:
        """keyIds of the application that a read does not show yet (each such read counts down)."""
        with self.lock:
            hidden = set()
            for credential in app.get("keyCredentials", []):
                left = self.faults.lagging.get(credential["keyId"], 0)
                if left > 0:
                    self.faults.lagging[credential["keyId"]] = left - 1
                    hidden.add(credential["keyId"])
            return hidden

    def referenced(self, kind: str, object_id: str, shown_id: str = "") -> None:
        """A write that names an object still replicating: refused as faults.reference_errors says."""
        with self.lock:
            left = self.faults.lagging.get(object_id, 0)
            if left > 0:
                self.faults.lagging[object_id] = left - 1
                raise self.faults.reference_error(kind, shown_id or object_id)

    def visible(self, object_id: str) -> None:
        """A read of a new object: 404 while it has not replicated (an injected fault)."""
        with self.lock:
            left = self.faults.lagging.get(object_id, 0)
            if left > 0:
                self.faults.lagging[object_id] = left - 1
                raise not_found(object_id)

    def object(self, object_id: str) -> dict:
        found = self.applications.get(object_id) or self.service_principals.get(object_id) or self.users.get(object_id)
        if found is None:
            raise not_found(object_id)
        return found

    def add_owner(self, target: str, owner: str) -> None:
        with self.lock:
            self.object(owner)
            owners = self.owners.setdefault(target, [])
            if owner in owners:
                raise GraphError(400, "Request_BadRequest",
                                 "One or more added object references already exist for the following modified properties: 'owners'.")
            if len(owners) >= MAX_OWNERS:
                raise GraphError(400, "Request_BadRequest",
                                 f"The maximum number of owners ({MAX_OWNERS}) for this object has been reached.")
            owners.append(owner)

    def _assign(self, resource_sp: dict, principal_id: str, app_role_id: str) -> dict:
        if app_role_id not in {r["id"] for r in resource_sp["appRoles"]}:
            raise GraphError(400, "Request_BadRequest", "Permission being assigned was not found on application")
        for existing in self.assignments.values():
            if (existing["principalId"], existing["resourceId"], existing["appRoleId"]) == (principal_id, resource_sp["id"], app_role_id):
                raise GraphError(400, "Request_BadRequest", "Permission being assigned already exists on the object")
        assignment_id = base64.urlsafe_b64encode(uuid.uuid4().bytes + uuid.uuid4().bytes[:8]).decode().rstrip("=")
        principal = self.object(principal_id)
        assignment = {"id": assignment_id, "appRoleId": app_role_id, "principalId": principal_id,
                      "principalType": "ServicePrincipal", "principalDisplayName": principal.get("displayName", ""),
                      "resourceId": resource_sp["id"], "resourceDisplayName": resource_sp["displayName"],
                      "createdDateTime": now_iso(), "deletedDateTime": None}
        self.assignments[assignment_id] = assignment
        self.lag("appRoleAssignments", assignment_id)
        return assignment

    def assign(self, resource_sp_id: str, body: dict) -> dict:
        with self.lock:
            resource_sp = self.service_principals.get(resource_sp_id)
            if resource_sp is None or str(body.get("resourceId", "")).lower() != resource_sp_id.lower():
                raise not_found(resource_sp_id)
            self.referenced("appRoleAssignedTo.principal", str(body.get("principalId", "")))
            if body.get("principalId") not in self.service_principals:
                raise not_found(str(body.get("principalId")))
            return self._assign(resource_sp, body["principalId"], body.get("appRoleId", ""))

    def objects_of(self, owner: str) -> list[str]:
        return [target for target, owners in self.owners.items() if owner in owners]

    def project_objects(self) -> dict:
        """Everything not first-party and not a deployer: what a deployment made."""
        deployers = set(self.secrets)
        return {
            "applications": sorted(self.applications),
            "servicePrincipals": sorted(i for i, sp in self.service_principals.items()
                                        if sp["appId"] not in FIRST_PARTY and sp["appId"] not in deployers),
            "appRoleAssignments": sorted(i for i, a in self.assignments.items()
                                         if self.service_principals.get(a["principalId"], {}).get("appId") not in deployers),
            "oauth2PermissionGrants": sorted(self.delegated_grants),
            "keyCredentials": sorted(k["keyId"] for app in self.applications.values() for k in app["keyCredentials"]),
        }
