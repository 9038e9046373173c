"""What the deploying identity needs, step by step: the one table of least privilege.

For each resource and data source the program uses, what a service principal needs (Microsoft
Graph application permissions, any one alternative, each a set that is needed together) and what
a user needs (any one Entra directory role). README's prerequisites, `preflight` and the offline
engine's tenant all read this table.

Sources (terraform-provider-azuread v3, which pulumi-azuread 6.x wraps; each resource's
"API Permissions" section):
- azuread_application: https://registry.terraform.io/providers/hashicorp/azuread/latest/docs/resources/application
- azuread_service_principal: .../docs/resources/service_principal
- azuread_app_role_assignment: .../docs/resources/app_role_assignment
- azuread_service_principal_delegated_permission_grant: .../docs/resources/service_principal_delegated_permission_grant
- azuread_application_certificate: .../docs/resources/application_certificate
- data azuread_service_principal: .../docs/data-sources/service_principal
- data azuread_client_config: .../docs/data-sources/client_config ("No additional roles are required")
Corrected where Microsoft is stricter or more precise than the provider docs:
- Consent to Microsoft Graph app roles needs Privileged Role Administrator (or Global Administrator):
  Cloud Application Administrator and Application Administrator "can grant consent for apps
  requesting any permission for any API, except Microsoft Graph app roles"
  (https://learn.microsoft.com/entra/identity/enterprise-apps/grant-admin-consent#prerequisites).
- The delegated grant (POST /oauth2PermissionGrants) needs DelegatedPermissionGrant.ReadWrite.All,
  least privileged, per https://learn.microsoft.com/graph/api/oauth2permissiongrant-post; the
  provider docs still name only the broader Directory.ReadWrite.All, which also works.
- With Application.ReadWrite.OwnedBy the caller must own the application (and the service
  principal), which is why the program keeps the deploying identity among the owners
  (https://learn.microsoft.com/graph/permissions-reference#applicationreadwriteownedby: "It cannot
  update any apps that it is not an owner of").
"""

from __future__ import annotations

from dataclasses import dataclass

from .permissions import APPLICATION, DELEGATED, MICROSOFT_GRAPH, Permission, permissions_for

# Microsoft Graph application permissions (app role IDs on Graph's service principal), from
# https://learn.microsoft.com/graph/permissions-reference (permission IDs table).
GRAPH_PERMISSION_IDS = {
    "Application.ReadWrite.OwnedBy": "18a4783c-866b-4cc7-a460-3d5e5662c884",
    "Application.ReadWrite.All": "1bfefb4e-e0b5-418b-a88f-73c46d2cc8e9",
    "Application.Read.All": "9a5d68dd-52b0-4cc2-bd40-abcf44ac3a30",
    "AppRoleAssignment.ReadWrite.All": "06b708a9-e830-4db3-a914-8e69da51d44f",
    "DelegatedPermissionGrant.ReadWrite.All": "8e8e4742-1d95-4f68-9d56-6ee75648c72a",
    "Directory.Read.All": "7ab1d382-f21e-4acd-a863-ba3e13f7da61",
    "Directory.ReadWrite.All": "19dbc75e-c2e2-444c-a770-ec69d8559fc7",
}
# Entra built-in role template IDs (the `wids` claim of a user's token), from
# https://learn.microsoft.com/entra/identity/role-based-access-control/permissions-reference
DIRECTORY_ROLE_IDS = {
    "Global Administrator": "62e90394-69f5-4237-9190-012177145e10",
    "Privileged Role Administrator": "e8611ab8-c189-46e8-94e1-60213ab1f814",
    "Cloud Application Administrator": "158c047a-c907-4556-b7ef-446551a6b5f7",
    "Application Administrator": "9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3",
}

OWNED_BY = "Application.ReadWrite.OwnedBy"
APP_ADMINS = ("Cloud Application Administrator", "Application Administrator", "Global Administrator")
CONSENT_ANY_API = ("Cloud Application Administrator", "Application Administrator",
                   "Privileged Role Administrator", "Global Administrator")
CONSENT_GRAPH_APP_ROLES = ("Privileged Role Administrator", "Global Administrator")


@dataclass(frozen=True)
class Requirement:
    """What one step needs. `app_permissions`: any one of the alternatives, each needed together."""

    step: str
    app_permissions: tuple[frozenset, ...]
    directory_roles: tuple[str, ...]
    as_owner: bool = False  # with Application.ReadWrite.OwnedBy only as an owner of the app

    def allows_app(self, granted: set[str]) -> bool:
        return any(alternative <= granted for alternative in self.app_permissions)

    def allows_user(self, roles: set[str]) -> bool:
        return not self.directory_roles or bool(set(self.directory_roles) & roles)

    def describe_app(self) -> str:
        return " or ".join(" + ".join(sorted(a)) for a in self.app_permissions)

    def describe_user(self) -> str:
        return " or ".join(self.directory_roles) if self.directory_roles else "no directory role"


def _any(*alternatives: tuple[str, ...]) -> tuple[frozenset, ...]:
    return tuple(frozenset(a) for a in alternatives)


APPLICATION_REQUIREMENT = Requirement(
    "register the application (azuread.Application)",
    _any((OWNED_BY,), ("Application.ReadWrite.All",)), APP_ADMINS, as_owner=True)
SERVICE_PRINCIPAL_REQUIREMENT = Requirement(
    "create the service principal (azuread.ServicePrincipal)",
    _any((OWNED_BY,), ("Application.ReadWrite.All",)), APP_ADMINS, as_owner=True)
CERTIFICATE_REQUIREMENT = Requirement(
    "register a certificate credential (azuread.ApplicationCertificate)",
    _any((OWNED_BY,), ("Application.ReadWrite.All",)), APP_ADMINS, as_owner=True)
# Learn, serviceprincipal-list and serviceprincipal-get: Application.Read.All least privileged;
# Application.ReadWrite.All, Directory.Read.All and Directory.ReadWrite.All higher (each includes
# reading); and "The Application.ReadWrite.OwnedBy permission allows an app to call GET
# /applications and GET /servicePrincipals to list all applications and service principals in the
# tenant" (serviceprincipal-get, Permissions).
READ_API_REQUIREMENT = Requirement(
    "look up Microsoft's service principal (azuread.get_service_principal)",
    _any(("Application.Read.All",), (OWNED_BY,), ("Application.ReadWrite.All",), ("Directory.Read.All",),
         ("Directory.ReadWrite.All",)), ())
# Learn, serviceprincipal-post-approleassignedto: AppRoleAssignment.ReadWrite.All and
# Application.Read.All least privileged; AppRoleAssignment.ReadWrite.All and Directory.Read.All
# higher. Application.ReadWrite.All "does not allow management of consent grants" and
# Directory.ReadWrite.All is not listed: neither is enough alone
# (https://learn.microsoft.com/graph/permissions-reference).
_APP_ROLE_ASSIGNMENT_APPS = _any(
    ("AppRoleAssignment.ReadWrite.All", "Application.Read.All"),
    ("AppRoleAssignment.ReadWrite.All", "Directory.Read.All"),
)
GRAPH_APP_ROLE_CONSENT_REQUIREMENT = Requirement(
    "grant admin consent to a Microsoft Graph app role (azuread.AppRoleAssignment)",
    _APP_ROLE_ASSIGNMENT_APPS, CONSENT_GRAPH_APP_ROLES)
OTHER_APP_ROLE_CONSENT_REQUIREMENT = Requirement(
    "grant admin consent to another API's app role (azuread.AppRoleAssignment)",
    _APP_ROLE_ASSIGNMENT_APPS, CONSENT_ANY_API)
DELEGATED_CONSENT_REQUIREMENT = Requirement(
    "grant the delegated permission for all users (azuread.ServicePrincipalDelegatedPermissionGrant)",
    _any(("DelegatedPermissionGrant.ReadWrite.All",), ("Directory.ReadWrite.All",)), CONSENT_ANY_API)


# Learn, application-post-owners and serviceprincipal-post-owners (Application): least privileged
# "Application.ReadWrite.OwnedBy and Directory.Read.All"; higher "Directory.Read.All and
# Application.ReadWrite.All", "Directory.ReadWrite.All". (The page's note says OwnedBy is not
# sufficient to add another owner without Application.ReadWrite.All; its table, which this follows,
# pairs OwnedBy with Directory.Read.All.) The provider docs add User.Read.All for user owners
# (azuread_application, "API Permissions"); Directory.Read.All includes reading users.
ADD_OTHER_OWNER = Requirement(
    "add the configured owners (owners), besides the deploying identity",
    _any((OWNED_BY, "Directory.Read.All"), ("Application.ReadWrite.All", "Directory.Read.All"),
         ("Directory.ReadWrite.All",)), APP_ADMINS)


def consent_requirement(permission: Permission) -> Requirement:
    if permission.kind != APPLICATION:
        return DELEGATED_CONSENT_REQUIREMENT
    if permission.resource == MICROSOFT_GRAPH:
        return GRAPH_APP_ROLE_CONSENT_REQUIREMENT
    return OTHER_APP_ROLE_CONSENT_REQUIREMENT


def not_as_owner(requirement: Requirement) -> Requirement:
    """A step the deploying identity takes on an object it does not own: with `deployerIsOwner: false`
    the provider removes it from the owners as soon as it created the app or service principal
    (terraform-provider-azuread v3.9.0 application_resource.go:1294-1300, service_principal_resource.go
    :519-525), so Application.ReadWrite.OwnedBy no longer reaches what it created."""
    if not requirement.as_owner:
        return requirement
    alternatives = tuple(a for a in requirement.app_permissions if OWNED_BY not in a)
    return Requirement(requirement.step + ", not as an owner (deployerIsOwner: false)", alternatives,
                       requirement.directory_roles)


def requirements_for(permission_mode: str, legacy_exchange: bool, admin_consent: bool,
                     other_owners: bool = False, deployer_is_owner: bool = True) -> tuple[Requirement, ...]:
    """Every step a stack of this configuration takes, in the order a deployment takes them;
    `other_owners`: `owners` names someone besides the deploying identity; `deployer_is_owner`: the
    program keeps the deploying identity among the owners (config `deployerIsOwner`)."""
    steps = [APPLICATION_REQUIREMENT, SERVICE_PRINCIPAL_REQUIREMENT, CERTIFICATE_REQUIREMENT]
    if not deployer_is_owner:
        # Creating the application works as its creator; the steps after it find no owner left.
        steps = [APPLICATION_REQUIREMENT, not_as_owner(SERVICE_PRINCIPAL_REQUIREMENT), not_as_owner(CERTIFICATE_REQUIREMENT)]
    if other_owners:
        steps.append(ADD_OTHER_OWNER)
    if admin_consent:
        steps.append(READ_API_REQUIREMENT)
        for permission in permissions_for(permission_mode, legacy_exchange):
            requirement = consent_requirement(permission)
            if requirement not in steps:
                steps.append(requirement)
    return tuple(steps)


# Every step any configuration takes: what a pipeline that deploys every kind of stack needs.
ALL_REQUIREMENTS: tuple[Requirement, ...] = tuple(dict.fromkeys(
    requirements_for(APPLICATION, True, True, other_owners=True) + requirements_for(DELEGATED, False, True)))


def least_app_permissions(requirements: tuple[Requirement, ...]) -> tuple[str, ...]:
    """A smallest set of Graph application permissions that covers `requirements`: for each step
    not yet covered, the alternative that adds the fewest permissions, the least privileged (the
    table lists it first) on a tie. With configured owners Directory.Read.All is needed anyway, and
    it then also serves consent in place of Application.Read.All."""
    chosen: set[str] = set()
    for requirement in requirements:
        if not requirement.allows_app(chosen):
            chosen |= min(requirement.app_permissions, key=lambda alternative: len(alternative - chosen))
    return tuple(sorted(chosen))


def missing_for_app(requirements, granted: set[str]) -> list[tuple[Requirement, str]]:
    """(step, what is missing) for a service principal holding `granted` application permissions."""
    return [(r, r.describe_app()) for r in requirements if not r.allows_app(granted)]


def missing_for_user(requirements, roles: set[str]) -> list[tuple[Requirement, str]]:
    """(step, what is missing) for a user holding the directory roles `roles`."""
    return [(r, r.describe_user()) for r in requirements if not r.allows_user(roles)]


def markdown_table() -> str:
    """The table as README shows it (a test keeps README equal to it)."""
    rows = ["| step | a service principal needs (Graph application permissions) | a user needs (Entra role) |",
            "|---|---|---|"]
    for requirement in ALL_REQUIREMENTS:
        owner = " (as an owner: the program keeps the deployer among the owners)" if requirement.as_owner else ""
        rows.append(f"| {requirement.step} | {requirement.describe_app().replace(OWNED_BY, OWNED_BY + owner, 1)} "
                    f"| {requirement.describe_user()} |")
    return "\n".join(rows)
