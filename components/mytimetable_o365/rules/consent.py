"""What each permission's consent state is, in words: the `grantedPermissions` output."""

from __future__ import annotations

from .permissions import APPLICATION, Permission, permissions_for
from .settings import Settings


def consent_description(settings: Settings, permission: Permission) -> str:
    if permission.kind == APPLICATION:
        if settings.admin_consent:
            return "admin consent granted"
        if settings.mailbox_scope is not None:
            return "granted per mailbox by Exchange RBAC for Applications: run mailboxScopeScript"
        return "admin consent NOT granted: grant it in the portal"
    return "admin consent granted for all users" if settings.admin_consent else "each user consents"


def granted_permissions(settings: Settings) -> list[str]:
    """Readable lines such as `Microsoft Graph / Calendars.ReadWrite (application, admin consent granted)`."""
    chosen = permissions_for(settings.permission_mode, settings.legacy_exchange_permission)
    return [p.describe(consent_description(settings, p)) for p in chosen]
