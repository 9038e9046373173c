"""The calendar permissions of each mode, and nothing else (no User.Read).

IDs below are Microsoft's. Sources:
- Microsoft Graph permissions reference, Calendars.ReadWrite
  (https://learn.microsoft.com/graph/permissions-reference#calendarsreadwrite):
  application ef54d2bf-783f-4e0f-bca1-3210c0444d99, delegated 1ec239c2-d7c9-4623-a91a-a9775856bb36.
- Office 365 Exchange Online's app role Calendars.ReadWrite.All, which MyTimetable's manual page
  lists for older MyTimetable versions, as the Exchange Online service principal's appRoles list it
  (mirrored in CISA ScubaGear, PowerShell/ScubaGear/schemas/RiskyAppPermissions.json):
  ef54d2bf-783f-4e0f-bca1-3210c0444d99, the same GUID as Graph's Calendars.ReadWrite but on another
  resource. It is not an EWS permission (EWS app-only access needs full_access_as_app:
  https://learn.microsoft.com/exchange/client-developer/exchange-web-services/how-to-authenticate-an-ews-application-by-using-oauth).
  It belongs to the Outlook REST API, "fully decommissioned in March 2024"
  (https://learn.microsoft.com/outlook/rest/compare-graph). See LEGACY_EXCHANGE_WARNING.
- Well-known application IDs: Microsoft Graph 00000003-0000-0000-c000-000000000000, Office 365
  Exchange Online 00000002-0000-0ff1-ce00-000000000000
  (https://learn.microsoft.com/troubleshoot/azure/entra/entra-id/governance/verify-first-party-apps-sign-in).

Trap: names and IDs look alike across APIs (Exchange Online's Calendars.ReadWrite.All shares its
GUID with Graph's Calendars.ReadWrite). Only Graph's Calendars.ReadWrite is ever requested here;
at deploy time the role ID is looked up by name on the tenant's service principal and checked
against the ID below, so a wrong name or a changed ID fails loudly instead of granting
something else.
"""

from __future__ import annotations

from typing import Literal, NamedTuple

PermissionKind = Literal["application", "delegated"]
APPLICATION: PermissionKind = "application"
DELEGATED: PermissionKind = "delegated"
PERMISSION_MODES: tuple[str, ...] = (APPLICATION, DELEGATED)


class ApiResource(NamedTuple):
    """An API that permissions are requested on, e.g. Microsoft Graph."""

    display_name: str
    app_id: str
    slug: str  # stable, short, used in Pulumi resource names


MICROSOFT_GRAPH = ApiResource("Microsoft Graph", "00000003-0000-0000-c000-000000000000", "graph")
EXCHANGE_ONLINE = ApiResource(
    "Office 365 Exchange Online", "00000002-0000-0ff1-ce00-000000000000", "exchange"
)


class Permission(NamedTuple):
    """One permission on one API, application (app role) or delegated (scope)."""

    resource: ApiResource
    name: str
    kind: PermissionKind
    id: str

    @property
    def access_type(self) -> str:
        """The `type` of a requiredResourceAccess entry: Role for app roles, Scope for scopes."""
        return "Role" if self.kind == APPLICATION else "Scope"

    @property
    def slug(self) -> str:
        return f"{self.resource.slug}-{self.name.lower().replace('.', '-')}"

    def describe(self, consent: str) -> str:
        return f"{self.resource.display_name} / {self.name} ({self.kind}, {consent})"


GRAPH_CALENDARS_READWRITE_APPLICATION = Permission(
    MICROSOFT_GRAPH, "Calendars.ReadWrite", APPLICATION, "ef54d2bf-783f-4e0f-bca1-3210c0444d99"
)
GRAPH_CALENDARS_READWRITE_DELEGATED = Permission(
    MICROSOFT_GRAPH, "Calendars.ReadWrite", DELEGATED, "1ec239c2-d7c9-4623-a91a-a9775856bb36"
)
EXCHANGE_CALENDARS_READWRITE_ALL_APPLICATION = Permission(
    EXCHANGE_ONLINE, "Calendars.ReadWrite.All", APPLICATION, "ef54d2bf-783f-4e0f-bca1-3210c0444d99"
)

# Said whenever legacyExchangePermission is on. Exchange Online also shuts EWS down: blocked by
# default from 1 October 2026, off on 1 April 2027 (Exchange Team blog, "Exchange Online EWS, Your
# Time is Almost Up"), so neither old API is a reason to grant this role today.
LEGACY_EXCHANGE_WARNING = (
    "legacyExchangePermission: Office 365 Exchange Online's Calendars.ReadWrite.All app role is granted: "
    "read/write access to the calendar of EVERY mailbox in the tenant, for the Outlook REST API, which "
    "Microsoft decommissioned in March 2024 (it is not an EWS permission: EWS app-only access uses "
    "full_access_as_app, and Exchange Online turns EWS off on 1 April 2027). Current MyTimetable versions use "
    "Microsoft Graph's Calendars.ReadWrite; set legacyExchangePermission: false unless MyTimetable's "
    "documentation for your version still asks for it."
)

ALL_PERMISSIONS: tuple[Permission, ...] = (
    GRAPH_CALENDARS_READWRITE_APPLICATION,
    GRAPH_CALENDARS_READWRITE_DELEGATED,
    EXCHANGE_CALENDARS_READWRITE_ALL_APPLICATION,
)


class PermissionMode(NamedTuple):
    """One permission mode and its traits: a third mode is one more entry in MODES.

    name:                the `permissionMode` value
    permissions:         what the app requests, in a stable order
    legacy_exchange:     the Exchange Online permission it may add (None: the mode cannot)
    consent_by_default:  `adminConsent`'s default (tenant-wide consent for app roles; users consent
                         to delegated scopes themselves)
    mailbox_scoping:     whether Exchange can scope it to mailboxes (application access only)
    token_carries_roles: whether an app-only token shows the consent (verify checks it)
    """

    name: str
    permissions: tuple[Permission, ...]
    legacy_exchange: Permission | None
    consent_by_default: bool
    mailbox_scoping: bool
    token_carries_roles: bool


MODES: dict[str, PermissionMode] = {
    APPLICATION: PermissionMode(APPLICATION, (GRAPH_CALENDARS_READWRITE_APPLICATION,),
                                EXCHANGE_CALENDARS_READWRITE_ALL_APPLICATION, consent_by_default=True,
                                mailbox_scoping=True, token_carries_roles=True),
    DELEGATED: PermissionMode(DELEGATED, (GRAPH_CALENDARS_READWRITE_DELEGATED,), None, consent_by_default=False,
                              mailbox_scoping=False, token_carries_roles=False),
}


def mode_named(name: str) -> PermissionMode:
    """The mode of a `permissionMode` value (ValueError for an unknown one)."""
    if name not in MODES:
        raise ValueError(f"unknown permission mode {name!r}")
    return MODES[name]


def permissions_for(mode: str, legacy_exchange: bool) -> tuple[Permission, ...]:
    """Exactly the permissions MyTimetable needs in `mode`, in a stable order."""
    spec = mode_named(mode)
    if legacy_exchange and spec.legacy_exchange is None:
        raise ValueError("the legacy Exchange permission is an application permission")
    return spec.permissions + ((spec.legacy_exchange,) if legacy_exchange and spec.legacy_exchange else ())


def required_resource_access(permissions: tuple[Permission, ...]) -> list[dict]:
    """Group permissions per API, sorted, as Entra's requiredResourceAccess wants them."""
    by_app: dict[str, list[Permission]] = {}
    for permission in permissions:
        by_app.setdefault(permission.resource.app_id, []).append(permission)
    return [
        {
            "resource_app_id": app_id,
            "resource_accesses": [
                {"id": p.id, "type": p.access_type}
                for p in sorted(by_app[app_id], key=lambda p: (p.id, p.access_type))
            ],
        }
        for app_id in sorted(by_app)
    ]


def find_permission(resource_app_id: str, permission_id: str, access_type: str) -> Permission | None:
    """The known permission a requiredResourceAccess entry stands for, if any."""
    for permission in ALL_PERMISSIONS:
        if (permission.resource.app_id, permission.id, permission.access_type) == (
            resource_app_id, permission_id, access_type
        ):
            return permission
    return None


def resolve_role_id(permission: Permission, app_role_ids: dict[str, str]) -> str:
    """The app role ID the tenant's service principal gives `permission`'s name, checked."""
    return _resolve(permission, app_role_ids, "app role")


def resolve_scope_id(permission: Permission, scope_ids: dict[str, str]) -> str:
    """The delegated scope ID the tenant's service principal gives `permission`'s name, checked."""
    return _resolve(permission, scope_ids, "delegated scope")


def _resolve(permission: Permission, ids: dict[str, str], what: str) -> str:
    found = (ids or {}).get(permission.name)
    if found is None:
        raise LookupError(
            f"{permission.resource.display_name} in this tenant has no {what} named "
            f"{permission.name!r}"
        )
    if found.lower() != permission.id:
        raise LookupError(
            f"{permission.resource.display_name}'s {what} {permission.name!r} has ID {found} in "
            f"this tenant, not Microsoft's documented {permission.id}; refusing to grant it"
        )
    return found.lower()
