"""The offline engine's tenant: Microsoft's service principals with their published role and
scope IDs, the deploying identity and what Entra refuses it, and how the azuread provider creates
each resource (IDs, owners, duplicate names, certificate dates, replication delay). A new resource
family is a method here; the engine (engine.py) only sequences steps and hooks.
"""

from __future__ import annotations

import base64
import uuid
from dataclasses import dataclass
from typing import Any

from ..rules import access
from ..rules.certificate import inspect_certificate, parse_rfc3339
from .records import ResourceRecord, _has_unknown

TENANT_ID = "0e3f5a2c-7d41-4b9e-8c1a-5f0d2b6e9a73"  # a placeholder, no real tenant
DEPLOYER_CLIENT_ID = "04b07795-8ddb-461a-bbee-02f9e1bf7b46"
DEPLOYER_OBJECT_ID = "5f1a5c30-3d6c-4b5b-9a44-6a1b2f0c9e11"
PLACEHOLDER_NAMESPACE = uuid.UUID("8b1f6c1e-2a4d-4c55-9a43-6d1b5e0f7a21")

# Microsoft's service principals as the tenant shows them (subset of their maps, real IDs).
# Sources: Microsoft Graph permissions reference (https://learn.microsoft.com/graph/permissions-reference);
# Exchange Online's app roles and scopes as CISA ScubaGear lists them
# (PowerShell/ScubaGear/schemas/RiskyAppPermissions.json). Only IDs with a public source: an ID
# that a review found on a tenant but no public table lists (a Graph role named
# Calendars.ReadWrite.All) is left out.
GRAPH_APP_ROLES = {
    "Calendars.Read": "798ee544-9d2d-430c-a058-570e29e34338",
    "Calendars.ReadBasic.All": "8ba4a692-bc31-4128-9094-475872af8a53",
    "Calendars.ReadWrite": "ef54d2bf-783f-4e0f-bca1-3210c0444d99",
    "Mail.Read": "810c84a8-4a9e-49e6-bf7d-12d183f40d01",
    "Mail.ReadWrite": "e2a3a72e-5f79-4c64-b1b1-878b674786c9",
    "User.Read.All": "df021288-bdef-4463-88db-98f22de89214",
    "Application.ReadWrite.All": "1bfefb4e-e0b5-418b-a88f-73c46d2cc8e9",
}
GRAPH_SCOPES = {
    "Calendars.Read": "465a38f9-76ea-45b9-9f34-9e8b0d4b0b42",
    "Calendars.Read.Shared": "2b9c4092-424d-4249-948d-b43879977640",
    "Calendars.ReadBasic": "662d75ba-a364-42ad-adee-f5f880ea4878",
    "Calendars.ReadWrite": "1ec239c2-d7c9-4623-a91a-a9775856bb36",
    "Calendars.ReadWrite.Shared": "12466101-c9b8-439a-8589-dd09ee67e8e9",
    "User.Read": "e1fe6dd8-ba31-4d61-89e7-88639da4683d",
}
EXCHANGE_APP_ROLES = {
    "full_access_as_app": "dc890d15-9560-4a4c-9b7f-a736ec74ec40",
    "Calendars.Read": "798ee544-9d2d-430c-a058-570e29e34338",
    "Calendars.Read.All": "2dfdc6dc-2fa7-4a2c-a922-dbd4f85d17be",
    "Calendars.ReadWrite.All": "ef54d2bf-783f-4e0f-bca1-3210c0444d99",
    "Mail.ReadWrite": "e2a3a72e-5f79-4c64-b1b1-878b674786c9",
    "User.Read.All": "bf24470f-10c1-436d-8d53-7b997eb473be",
}
EXCHANGE_SCOPES = {
    # CISA ScubaGear, PowerShell/ScubaGear/schemas/RiskyAppPermissions.json, "Office 365 Exchange
    # Online" > "Delegated" (read at commits 98d0e33 and 5916157): Calendars.Read 5b9be81f-...,
    # EWS.AccessAsUser.All 3b5f3d61-.... (465a38f9-... is Graph's delegated Calendars.Read there.)
    "Calendars.Read": "5b9be81f-2977-4d27-8faf-bb43af8fc705",
    "EWS.AccessAsUser.All": "3b5f3d61-589b-4a3c-a359-5dd4b5ee5bd5",
}
MICROSOFT_SERVICE_PRINCIPALS = {
    "00000003-0000-0000-c000-000000000000": ("Microsoft Graph", "2b3c6e1a-0f0e-4c59-9d52-5e0b4bb6a1f1", GRAPH_APP_ROLES, GRAPH_SCOPES),
    "00000002-0000-0ff1-ce00-000000000000": ("Office 365 Exchange Online", "8c1a4d7e-25f3-4b8e-bb61-0f6b3c2de7a9",
                                             EXCHANGE_APP_ROLES, EXCHANGE_SCOPES),
}
PUBLISHED_APP_IDS = {"MicrosoftGraph": "00000003-0000-0000-c000-000000000000", "Office365ExchangeOnline": "00000002-0000-0ff1-ce00-000000000000"}

# Inputs whose change makes the azuread provider replace the resource (its schema's ForceNew).
# Inputs whose change makes the azuread provider replace the resource (its schema's ForceNew;
# terraform-provider-azuread v3: every argument of azuread_application_certificate is ForceNew).
FORCE_NEW = {
    "azuread:index/servicePrincipal:ServicePrincipal": ("clientId",),
    "azuread:index/appRoleAssignment:AppRoleAssignment": ("appRoleId", "principalObjectId", "resourceObjectId"),
    "azuread:index/servicePrincipalDelegatedPermissionGrant:ServicePrincipalDelegatedPermissionGrant": (
        "resourceServicePrincipalObjectId", "servicePrincipalObjectId", "userObjectId"),
    "azuread:index/applicationCertificate:ApplicationCertificate": (
        "applicationId", "value", "type", "encoding", "startDate", "endDate", "keyId"),
}
APPLICATION = "azuread:index/application:Application"
SERVICE_PRINCIPAL = "azuread:index/servicePrincipal:ServicePrincipal"
APP_ROLE_ASSIGNMENT = "azuread:index/appRoleAssignment:AppRoleAssignment"
DELEGATED_GRANT = "azuread:index/servicePrincipalDelegatedPermissionGrant:ServicePrincipalDelegatedPermissionGrant"
APPLICATION_CERTIFICATE = "azuread:index/applicationCertificate:ApplicationCertificate"
GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000"
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
    """The tenant side of the emulator: mixed into engine._Emulator, whose constructor sets
    `applications`, `identity` and `replication_delays`."""

    applications: dict
    identity: Any
    replication_delays: dict

    # --- the tenant ----------------------------------------------------------------------
    def _owns_application(self, object_id: str | None) -> bool:
        app = self.applications.get(object_id or "")
        return app is not None and self.identity.object_id in app["owners"]

    def _application_by_client_id(self, client_id: str) -> str | None:
        return next((k for k, v in self.applications.items() if v["clientId"] == client_id), None)

    def _authorize(self, typ: str, name: str, inputs: dict, prior: ResourceRecord | None) -> None:
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

    def _update_application(self, object_id: str, inputs: dict) -> None:
        app = self.applications[object_id]
        self._check_duplicate_name(inputs, exclude=object_id)
        app.update(displayName=inputs.get("displayName"), owners=self._owners_after_write(inputs))

    def _check_duplicate_name(self, inputs: dict, exclude: str | None) -> None:
        # prevent_duplicate_names: at create and every update the provider lists applications by
        # display name and refuses any other with exactly that name (applicationFindByName;
        # message from internal/helpers/tf/errors.go ImportAsDuplicateDiag).
        if not inputs.get("preventDuplicateNames"):
            return
        name = inputs.get("displayName")
        for object_id, app in self.applications.items():
            if object_id != exclude and app["displayName"] == name:
                raise EmulatedEngineError(
                    f'An existing "azuread_application" with name "{name}" (ID: "{object_id}") was found and '
                    "`prevent_duplicate_names` was specified")

    def _replication_delay(self, name: str, what: str, object_id: str) -> None:
        if self.replication_delays.get(name, 0) > 0:
            self.replication_delays[name] -= 1
            raise EmulatedEngineError(REPLICATION_DELAY_ERROR.format(what=what, object_id=object_id))

    def _azuread_create(self, urn, typ, name, inputs, salt) -> tuple[str, dict]:
        object_id = placeholder_id(urn, "objectId", salt)
        if typ == APPLICATION:
            self._check_duplicate_name(inputs, exclude=None)
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
        key_id = placeholder_id(urn, "keyId", info.thumbprint, salt)
        # The provider's ID: "{ObjectId}/certificate/{KeyId}", no /applications/ prefix
        # (application_certificate_resource.go, parse.NewCredentialID).
        return f"{object_id}/certificate/{key_id}", {"keyId": key_id}
