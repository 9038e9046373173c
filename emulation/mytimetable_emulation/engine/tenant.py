"""The offline engine's tenant: Microsoft's service principals with their published role and
scope IDs, the deploying identity and what Entra refuses it, and how the azuread provider creates
each resource (IDs, owners, duplicate names, certificate dates, replication delay). A new resource
family is a method here; the engine (run.py) only sequences steps and hooks.
"""

from __future__ import annotations

import base64
import uuid
from dataclasses import dataclass

from mytimetable_o365.rules import access
from mytimetable_o365.rules.certificate import inspect_certificate, parse_rfc3339
from mytimetable_o365.rules.permissions import MICROSOFT_GRAPH

from ..catalogue import (
    APP_ROLE_ASSIGNMENT,
    APPLICATION,
    APPLICATION_CERTIFICATE,
    DELEGATED_GRANT,
    FIRST_PARTY,
    PUBLISHED_APP_IDS,
    SERVICE_PRINCIPAL,
    duplicate_name_error,
)
from .records import ResourceRecord, _has_unknown

TENANT_ID = "0e3f5a2c-7d41-4b9e-8c1a-5f0d2b6e9a73"  # a placeholder, no real tenant
DEPLOYER_CLIENT_ID = "04b07795-8ddb-461a-bbee-02f9e1bf7b46"
DEPLOYER_OBJECT_ID = "5f1a5c30-3d6c-4b5b-9a44-6a1b2f0c9e11"
PLACEHOLDER_NAMESPACE = uuid.UUID("8b1f6c1e-2a4d-4c55-9a43-6d1b5e0f7a21")

# Microsoft's service principals as the tenant shows them (catalogue.py), each under a placeholder
# object ID of this emulated tenant: (display name, object ID, app roles, scopes).
MICROSOFT_SERVICE_PRINCIPALS = {
    app_id: (spec.display_name, object_id, dict(spec.app_roles), dict(spec.scopes))
    for (app_id, spec), object_id in zip(FIRST_PARTY.items(), ("2b3c6e1a-0f0e-4c59-9d52-5e0b4bb6a1f1",
                                                               "8c1a4d7e-25f3-4b8e-bb61-0f6b3c2de7a9"), strict=True)
}
GRAPH_APP_ID = MICROSOFT_GRAPH.app_id
# The text the azuread provider (go-azure-sdk) reports when Graph answers 404 for an object that
# has not replicated yet (terraform-provider-azuread issues #1802, #1811), as the Pulumi bridge
# wraps it: "1 error occurred:\n\t* <summary>: <detail>".
REPLICATION_DELAY_ERROR = (
    "1 error occurred:\n\t* Could not create {what}: unexpected status 404 (404 Not Found) with error: "
    "Request_ResourceNotFound: Resource '{object_id}' does not exist or one of its queried "
    "reference-property objects are not present.\n\n"
)


class EmulatedEngineError(Exception):
    """What the real engine or provider would refuse."""


class AccessDenied(EmulatedEngineError):
    """What the tenant refuses the deploying identity (Graph's Authorization_RequestDenied, 403)."""


@dataclass(frozen=True)
class DeployingIdentity:
    """Who runs `pulumi up`: a service principal with Graph application permissions, or a user
    with Entra directory roles (names as in rules.access)."""

    kind: str  # "servicePrincipal" | "user"
    object_id: str = DEPLOYER_OBJECT_ID
    app_permissions: frozenset = frozenset()
    directory_roles: frozenset = frozenset()

    @classmethod
    def service_principal(cls, *permissions: str, object_id: str = DEPLOYER_OBJECT_ID) -> DeployingIdentity:
        return cls("servicePrincipal", object_id, app_permissions=frozenset(permissions))

    @classmethod
    def user(cls, *roles: str, object_id: str = "0d9c3b7e-1a4f-4e8b-9c2d-7f6e5a4b3c21") -> DeployingIdentity:
        return cls("user", object_id, directory_roles=frozenset(roles))

    def check(self, requirement: access.Requirement, owns_target: bool, where: str) -> None:
        """Refuse as the tenant would; with only Application.ReadWrite.OwnedBy, only what it owns."""
        if self.kind == "user":
            if not requirement.allows_user(set(self.directory_roles)):
                raise AccessDenied(
                    f"{where}: Authorization_RequestDenied: Insufficient privileges to complete the operation. "
                    f"The deploying user {self.object_id} cannot {requirement.step}: it needs the directory role "
                    f"{requirement.describe_user()}")
            return
        granted = set(self.app_permissions)
        if not requirement.allows_app(granted):
            raise AccessDenied(
                f"{where}: Authorization_RequestDenied: Insufficient privileges to complete the operation. "
                f"The deploying service principal {self.object_id} cannot {requirement.step}: it needs the "
                f"Microsoft Graph application permission {requirement.describe_app()}")
        only_owned = requirement.as_owner and not requirement.allows_app(granted - {access.OWNED_BY})
        if only_owned and not owns_target:
            raise AccessDenied(
                f"{where}: Authorization_RequestDenied: Insufficient privileges to complete the operation. "
                f"The deploying service principal {self.object_id} holds {access.OWNED_BY} but is not an owner, "
                f"so it cannot {requirement.step}")


# The least-privilege pipeline identity README documents: exactly what rules.access asks for.
PIPELINE = DeployingIdentity.service_principal(*access.least_app_permissions(access.ALL_REQUIREMENTS))


def placeholder_id(*parts: str) -> str:
    """A GUID derived from `parts` (the URN and a purpose): the same every run, so plans diff."""
    return str(uuid.uuid5(PLACEHOLDER_NAMESPACE, "/".join(parts)))


class EmulatedTenant:
    """The tenant and the azuread provider as the offline engine sees them: the applications it
    holds (what survives a lost state), who deploys, and how each azuread resource is created.

    `applications`: object ID -> {displayName, clientId, owners}; `replication_delays`: resource
    name -> how many creates Entra answers "not found" first (counted down)."""

    def __init__(self, identity: DeployingIdentity, applications: dict, replication_delays: dict):
        self.identity = identity
        self.applications = applications
        self.replication_delays = replication_delays

    @classmethod
    def after(cls, applications: dict, identity: DeployingIdentity, existing_applications: tuple,
              replication_delays: dict) -> EmulatedTenant:
        """The tenant a run meets: what the last run left, plus applications made outside this stack."""
        known = {k: dict(v) for k, v in applications.items()}
        for index, display_name in enumerate(existing_applications):
            known[placeholder_id("existing-application", str(index))] = {"displayName": display_name, "owners": set(),
                                                                          "clientId": ""}
        return cls(identity, known, dict(replication_delays))

    # --- invokes (data sources) ----------------------------------------------------------
    def invoke(self, token: str, args: dict) -> dict:
        """What the provider's data sources answer in this tenant."""
        if token == "azuread:index/getClientConfig:getClientConfig":
            return {"tenantId": TENANT_ID, "clientId": DEPLOYER_CLIENT_ID, "objectId": self.identity.object_id,
                    "id": TENANT_ID}
        if token == "azuread:index/getApplicationPublishedAppIds:getApplicationPublishedAppIds":
            return {"result": dict(PUBLISHED_APP_IDS), "id": "appIds"}
        if token == "azuread:index/getServicePrincipal:getServicePrincipal":
            self.identity.check(access.READ_API_REQUIREMENT, True, "azuread.get_service_principal")
            client_id = args.get("clientId")
            if client_id not in MICROSOFT_SERVICE_PRINCIPALS:
                raise EmulatedEngineError(f"service principal for client ID {client_id!r} not found")
            display, object_id, roles, scopes = MICROSOFT_SERVICE_PRINCIPALS[client_id]
            return {
                "id": f"/servicePrincipals/{object_id}", "objectId": object_id, "clientId": client_id,
                "displayName": display, "appRoleIds": dict(roles), "oauth2PermissionScopeIds": dict(scopes),
                "applicationTenantId": "f8cdef31-a31e-4b4a-93e4-5f571e91255a",
            }
        raise EmulatedEngineError(f"the emulator does not know the invoke {token}")

    # --- the tenant ----------------------------------------------------------------------
    def _owns_application(self, object_id: str | None) -> bool:
        app = self.applications.get(object_id or "")
        return app is not None and self.identity.object_id in app["owners"]

    def _application_by_client_id(self, client_id: str) -> str | None:
        return next((k for k, v in self.applications.items() if v["clientId"] == client_id), None)

    def authorize(self, typ: str, name: str, inputs: dict, prior: ResourceRecord | None) -> None:
        check = self.identity.check
        if typ in (APPLICATION, SERVICE_PRINCIPAL):
            others = {o.lower() for o in inputs.get("owners") or []} - {self.identity.object_id}
            if others and not _has_unknown(inputs.get("owners")):
                # Adding an owner other than the caller: Learn, application-post-owners (rules.access).
                check(access.ADD_OTHER_OWNER, True, name)
        if typ == APPLICATION:
            # Creating: the provider makes the caller an owner of the new app in the same request.
            check(access.APPLICATION_REQUIREMENT, prior is None or self._owns_application(prior.outputs.get("objectId")), name)
        elif typ == SERVICE_PRINCIPAL:
            # With OwnedBy the caller must own the app (and the service principal) - provider docs.
            check(access.SERVICE_PRINCIPAL_REQUIREMENT, self._owns_application(self._application_by_client_id(inputs.get("clientId", ""))), name)
        elif typ == APPLICATION_CERTIFICATE:
            check(access.CERTIFICATE_REQUIREMENT, self._owns_application(inputs.get("applicationId", "").rpartition("/")[2]), name)
        elif typ == APP_ROLE_ASSIGNMENT:
            graph_object_id = MICROSOFT_SERVICE_PRINCIPALS[GRAPH_APP_ID][1]
            requirement = (access.GRAPH_APP_ROLE_CONSENT_REQUIREMENT if inputs.get("resourceObjectId") == graph_object_id
                           else access.OTHER_APP_ROLE_CONSENT_REQUIREMENT)
            check(requirement, True, name)
        elif typ == DELEGATED_GRANT:
            check(access.DELEGATED_CONSENT_REQUIREMENT, True, name)

    def _owners_after_write(self, inputs: dict) -> set:
        # terraform-provider-azuread v3, applicationResourceCreate / servicePrincipalResourceCreate:
        # the caller is put first among the owners of the create request and removed afterwards
        # unless `owners` lists it; an update sets exactly `owners` (the caller gets no exception).
        return {o.lower() for o in inputs.get("owners") or []}

    def update_application(self, object_id: str, inputs: dict) -> None:
        app = self.applications[object_id]
        self.check_duplicate_name(inputs, exclude=object_id)
        app.update(displayName=inputs.get("displayName"), owners=self._owners_after_write(inputs))

    def check_duplicate_name(self, inputs: dict, exclude: str | None) -> None:
        # prevent_duplicate_names: at create and every update the provider lists applications by
        # display name and refuses any other with exactly that name (applicationFindByName;
        # message from internal/helpers/tf/errors.go ImportAsDuplicateDiag).
        if not inputs.get("preventDuplicateNames"):
            return
        name = inputs.get("displayName")
        for object_id, app in self.applications.items():
            if object_id != exclude and app["displayName"] == name:
                raise EmulatedEngineError(duplicate_name_error(name, object_id))

    def _replication_delay(self, name: str, what: str, object_id: str) -> None:
        if self.replication_delays.get(name, 0) > 0:
            self.replication_delays[name] -= 1
            raise EmulatedEngineError(REPLICATION_DELAY_ERROR.format(what=what, object_id=object_id))

    def create(self, urn, typ, name, inputs, salt) -> tuple[str, dict]:
        object_id = placeholder_id(urn, "objectId", salt)
        if typ == APPLICATION:
            self.check_duplicate_name(inputs, exclude=None)
            client_id = placeholder_id(urn, "clientId", salt)
            self.applications[object_id] = {"displayName": inputs.get("displayName"), "clientId": client_id,
                                             "owners": self._owners_after_write(inputs)}
            return f"/applications/{object_id}", {"objectId": object_id, "clientId": client_id,
                                                  "publisherDomain": "example.onmicrosoft.com"}
        if typ == SERVICE_PRINCIPAL:
            self._replication_delay(name, "service principal", inputs.get("clientId", ""))
            return f"/servicePrincipals/{object_id}", {"objectId": object_id, "appRoleIds": {},
                                                       "oauth2PermissionScopeIds": {}, "type": "Application"}
        if typ == APP_ROLE_ASSIGNMENT:
            if not inputs.get("appRoleId"):
                raise EmulatedEngineError("AppRoleAssignment without appRoleId")
            self._replication_delay(name, "app role assignment", inputs.get("principalObjectId", ""))
            return (f"/servicePrincipals/{inputs['resourceObjectId']}/appRoleAssignedTo/{placeholder_id(urn, 'assignment', salt)}",
                    {"principalType": "ServicePrincipal"})
        if typ == "azuread:index/group:Group":
            return f"/groups/{object_id}", {"objectId": object_id}
        if typ == DELEGATED_GRANT:
            self._replication_delay(name, "delegated permission grant", inputs.get("servicePrincipalObjectId", ""))
            # The provider's ID: /oauth2PermissionGrants/{id} (parse.NewOAuth2PermissionGrantID).
            grant_id = base64.urlsafe_b64encode(uuid.UUID(object_id).bytes).decode().rstrip("=")
            return f"/oauth2PermissionGrants/{grant_id}", {}
        if typ == APPLICATION_CERTIFICATE:
            return self._application_certificate(urn, name, inputs, salt)
        raise EmulatedEngineError(f"the emulator does not know {typ}")

    def _application_certificate(self, urn, name, inputs, salt) -> tuple[str, dict]:
        application_id = inputs.get("applicationId", "")
        if not application_id.startswith("/applications/"):
            raise EmulatedEngineError(f"applicationId {application_id!r} is not an /applications/<objectId> ID")
        if inputs.get("type") != "AsymmetricX509Cert" or inputs.get("encoding") != "pem":
            raise EmulatedEngineError("expected type AsymmetricX509Cert with pem encoding")
        if inputs.get("endDateRelative"):
            raise EmulatedEngineError("end_date_relative depends on 'now'")
        object_id = application_id.rpartition("/")[2]
        self._replication_delay(name, "certificate credential", object_id)
        info = inspect_certificate(inputs["value"])
        end = parse_rfc3339(inputs["endDate"])
        start = parse_rfc3339(inputs["startDate"])
        # Graph: "Key credential end date is invalid" when it is past the certificate's expiry.
        if end > info.not_after or start < info.not_before:
            raise EmulatedEngineError("Entra refuses key credential dates outside the certificate's validity")
        # The program's own keyId when it gives one (the provider's key_id), else a random one.
        key_id = inputs.get("keyId") or placeholder_id(urn, "keyId", info.thumbprint, salt)
        # The provider's ID: "{ObjectId}/certificate/{KeyId}", no /applications/ prefix
        # (application_certificate_resource.go, parse.NewCredentialID).
        return f"{object_id}/certificate/{key_id}", {"keyId": key_id}
