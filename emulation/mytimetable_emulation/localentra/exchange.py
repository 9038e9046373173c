"""Exchange Online's say in an application's calendar read (`GET /users/{id}/calendar`), beside
Entra's consent. Pure: no I/O. Sources:

- Application access policies (New-ApplicationAccessPolicy -AppId -PolicyScopeGroupId -AccessRight
  RestrictAccess | DenyAccess, https://learn.microsoft.com/graph/auth-limit-mailbox-access): with
  RestrictAccess the app reaches only the mailboxes in the policy's scope, with DenyAccess all but
  those; a policy binds the one AppId it names, no other app (microsoftgraph/microsoft-graph-docs#13696).
  A read the policy blocks gets 403 ErrorAccessDenied "Access to OData is disabled: [RAOP] : Blocked
  by tenant configured AppOnly AccessPolicy settings." (the "Access to OData is disabled" error that
  page explains since microsoftgraph/microsoft-graph-docs#21382). Here a scope is the set of its
  mailbox addresses (the group's members, resolved).
- RBAC for Applications (New-ManagementRoleAssignment -App <service principal> -Role "Application
  Calendars.ReadWrite" -CustomResourceScope <management scope>,
  https://learn.microsoft.com/exchange/permissions-exo/application-rbac): the app reaches the
  mailboxes in the assignment's scope without any Entra consent, and its token carries no role;
  outside the scope, and for an app with neither grant, 403 ErrorAccessDenied "Access is denied.
  Check credentials and try again.".
"""

from __future__ import annotations

from dataclasses import dataclass

from .errors import GraphError

RESTRICT, DENY = "RestrictAccess", "DenyAccess"
CALENDAR_ROLE = "Application Calendars.ReadWrite"


@dataclass(frozen=True)
class AccessPolicy:
    app_id: str
    access_right: str  # RESTRICT | DENY
    mailboxes: frozenset  # addresses, lower case


def access_denied() -> GraphError:
    return GraphError(403, "ErrorAccessDenied", "Access is denied. Check credentials and try again.")


def blocked_by_policy() -> GraphError:
    return GraphError(403, "ErrorAccessDenied",
                      "Access to OData is disabled: [RAOP] : Blocked by tenant configured AppOnly AccessPolicy settings.")


class Exchange:
    """The tenant's application access policies and RBAC for Applications role assignments."""

    def __init__(self) -> None:
        self.access_policies: list[AccessPolicy] = []
        self.calendar_scopes: dict[str, frozenset] = {}  # app id -> the mailboxes its CALENDAR_ROLE assignment reaches

    def add_access_policy(self, app_id: str, access_right: str, mailboxes) -> AccessPolicy:
        """New-ApplicationAccessPolicy for `app_id` over these mailbox addresses."""
        if access_right not in (RESTRICT, DENY):
            raise ValueError(f"AccessRight must be {RESTRICT} or {DENY}, not {access_right!r}")
        policy = AccessPolicy(app_id.lower(), access_right, frozenset(m.lower() for m in mailboxes))
        self.access_policies.append(policy)
        return policy

    def assign_calendar_role(self, app_id: str, mailboxes) -> None:
        """New-ManagementRoleAssignment -Role CALENDAR_ROLE for `app_id`, scoped to these mailbox addresses."""
        self.calendar_scopes[app_id.lower()] = frozenset(m.lower() for m in mailboxes)

    def in_role_scope(self, app_id: str, mailbox: str) -> bool:
        return mailbox.lower() in self.calendar_scopes.get(app_id.lower(), frozenset())

    def blocked(self, app_id: str, mailbox: str) -> bool:
        """Does an application access policy keep `app_id` from `mailbox`?"""
        for policy in self.access_policies:
            if policy.app_id == app_id.lower():
                inside = mailbox.lower() in policy.mailboxes
                if inside == (policy.access_right == DENY):
                    return True
        return False
