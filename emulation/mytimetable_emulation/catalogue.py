"""Microsoft's tenant and the azuread provider's fixed facts, once, for every emulator: the offline
engine (engine/), local Entra (localentra/) and the azuread plugin (azuread/) all read them here.

What the product itself relies on (the calendar permissions' IDs, the deploying identity's Graph
permissions) stays in the product's rules and is imported from there, so the two cannot disagree.
Everything else below is what an emulator needs to look like a tenant, each with its public source.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import NamedTuple

from mytimetable_o365.rules import access
from mytimetable_o365.rules.permissions import EXCHANGE_ONLINE, MICROSOFT_GRAPH

# --- Microsoft's first-party service principals ------------------------------------------------
# Only IDs with a public source; a name a review found on a tenant but no public table lists (a Graph
# role named Calendars.ReadWrite.All) is left out.
# Microsoft Graph: https://learn.microsoft.com/graph/permissions-reference (permission IDs table),
# the deployer's own permissions from the product's least-privilege table (rules/access.py).
GRAPH_APP_ROLES = MappingProxyType({
    "Calendars.Read": "798ee544-9d2d-430c-a058-570e29e34338",
    "Calendars.ReadBasic.All": "8ba4a692-bc31-4128-9094-475872af8a53",
    "Calendars.ReadWrite": "ef54d2bf-783f-4e0f-bca1-3210c0444d99",
    "Mail.Read": "810c84a8-4a9e-49e6-bf7d-12d183f40d01",
    "Mail.ReadWrite": "e2a3a72e-5f79-4c64-b1b1-878b674786c9",
    "User.Read.All": "df021288-bdef-4463-88db-98f22de89214",
    **access.GRAPH_PERMISSION_IDS,
})
GRAPH_SCOPES = MappingProxyType({
    "Calendars.Read": "465a38f9-76ea-45b9-9f34-9e8b0d4b0b42",
    "Calendars.Read.Shared": "2b9c4092-424d-4249-948d-b43879977640",
    "Calendars.ReadBasic": "662d75ba-a364-42ad-adee-f5f880ea4878",
    "Calendars.ReadWrite": "1ec239c2-d7c9-4623-a91a-a9775856bb36",
    "Calendars.ReadWrite.Shared": "12466101-c9b8-439a-8589-dd09ee67e8e9",
    "User.Read": "e1fe6dd8-ba31-4d61-89e7-88639da4683d",
})
# Office 365 Exchange Online, as CISA ScubaGear lists its permissions
# (PowerShell/ScubaGear/schemas/RiskyAppPermissions.json, read at commits 98d0e33 and 5916157).
# Calendars.ReadWrite.All shares its GUID with Graph's Calendars.ReadWrite application role.
EXCHANGE_APP_ROLES = MappingProxyType({
    "full_access_as_app": "dc890d15-9560-4a4c-9b7f-a736ec74ec40",
    "Calendars.Read": "798ee544-9d2d-430c-a058-570e29e34338",
    "Calendars.Read.All": "2dfdc6dc-2fa7-4a2c-a922-dbd4f85d17be",
    "Calendars.ReadWrite.All": "ef54d2bf-783f-4e0f-bca1-3210c0444d99",
    "Mail.ReadWrite": "e2a3a72e-5f79-4c64-b1b1-878b674786c9",
    "User.Read.All": "bf24470f-10c1-436d-8d53-7b997eb473be",
})
EXCHANGE_SCOPES = MappingProxyType({
    # ScubaGear's "Office 365 Exchange Online" > "Delegated"; 465a38f9-... is Graph's Calendars.Read.
    "Calendars.Read": "5b9be81f-2977-4d27-8faf-bb43af8fc705",
    "EWS.AccessAsUser.All": "3b5f3d61-589b-4a3c-a359-5dd4b5ee5bd5",
})


class FirstParty(NamedTuple):
    """One of Microsoft's service principals as every tenant holds it: role and scope IDs by name."""

    app_id: str
    display_name: str
    app_roles: Mapping[str, str]
    scopes: Mapping[str, str]


FIRST_PARTY = MappingProxyType({
    MICROSOFT_GRAPH.app_id: FirstParty(MICROSOFT_GRAPH.app_id, MICROSOFT_GRAPH.display_name, GRAPH_APP_ROLES, GRAPH_SCOPES),
    EXCHANGE_ONLINE.app_id: FirstParty(EXCHANGE_ONLINE.app_id, EXCHANGE_ONLINE.display_name, EXCHANGE_APP_ROLES,
                                       EXCHANGE_SCOPES),
})
# getApplicationPublishedAppIds: a table compiled into the provider (terraform-provider-azuread
# internal/services/applications/application_published_app_ids_data_source.go); two of its entries.
PUBLISHED_APP_IDS = MappingProxyType({"MicrosoftGraph": MICROSOFT_GRAPH.app_id,
                                      "Office365ExchangeOnline": EXCHANGE_ONLINE.app_id})

# --- the azuread provider's resource types and their ForceNew arguments -------------------------
# Type tokens as pulumi-azuread 6.x names them.
APPLICATION = "azuread:index/application:Application"
SERVICE_PRINCIPAL = "azuread:index/servicePrincipal:ServicePrincipal"
APP_ROLE_ASSIGNMENT = "azuread:index/appRoleAssignment:AppRoleAssignment"
DELEGATED_GRANT = "azuread:index/servicePrincipalDelegatedPermissionGrant:ServicePrincipalDelegatedPermissionGrant"
APPLICATION_CERTIFICATE = "azuread:index/applicationCertificate:ApplicationCertificate"

# Inputs whose change makes the provider replace the resource: the schema's ForceNew, in Pulumi's
# camelCase (terraform-provider-azuread v3.9.0, df2a07a33712: service_principal_resource.go
# client_id; app_role_assignment_resource.go every argument;
# service_principal_delegated_permission_grant_resource.go the three object IDs;
# application_certificate_resource.go every argument).
FORCE_NEW = MappingProxyType({
    SERVICE_PRINCIPAL: ("clientId",),
    APP_ROLE_ASSIGNMENT: ("appRoleId", "principalObjectId", "resourceObjectId"),
    DELEGATED_GRANT: ("resourceServicePrincipalObjectId", "servicePrincipalObjectId", "userObjectId"),
    APPLICATION_CERTIFICATE: ("applicationId", "encoding", "endDate", "endDateRelative", "keyId", "startDate", "type",
                              "value"),
})


def duplicate_name_error(display_name: str, object_id: str) -> str:
    """What the provider answers when `prevent_duplicate_names` finds another application of that
    name (terraform-provider-azuread internal/helpers/tf/errors.go, ImportAsDuplicateDiag)."""
    return (f'An existing "azuread_application" with name "{display_name}" (ID: "{object_id}") was found and '
            "`prevent_duplicate_names` was specified")
