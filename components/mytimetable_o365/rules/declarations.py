"""What the component declares: each child's logical name and Pulumi type token, in one place.

The component (component/integration.py) names its children with these functions, and the
leftovers check (rules/leftovers.py) reads the same names to find what a stack declares but its
state lacks. A child's logical name is part of its URN, which the state records: changing one of
these strands every deployed stack's resource (a delete and a create), so they stay as they are.
Pure.
"""

from __future__ import annotations

from typing import NamedTuple

from .permissions import APPLICATION, Permission, permissions_for

# The shipped program's integration (__main__.py): `MyTimetableO365Integration("mytimetable", ...)`.
DEFAULT_INTEGRATION = "mytimetable"
INTEGRATION_TYPE = "mytimetable:o365:Integration"

# pulumi-azuread 6.x type tokens (its schema.json), as the state records them.
APPLICATION_TYPE = "azuread:index/application:Application"
SERVICE_PRINCIPAL_TYPE = "azuread:index/servicePrincipal:ServicePrincipal"
APP_ROLE_ASSIGNMENT_TYPE = "azuread:index/appRoleAssignment:AppRoleAssignment"
DELEGATED_GRANT_TYPE = ("azuread:index/servicePrincipalDelegatedPermissionGrant:"
                        "ServicePrincipalDelegatedPermissionGrant")
CERTIFICATE_CREDENTIAL_TYPE = "azuread:index/applicationCertificate:ApplicationCertificate"
# The dynamic providers' resources (resources/providers.py), as the Python SDK types them.
CERTIFICATE_TYPE = "pulumi-python:dynamic/mytimetable:Certificate"
KEYSTORE_TYPE = "pulumi-python:dynamic/mytimetable:Keystore"

# The credentials' slots: two generated certificates (resources/providers.py SLOTS), or your own
# certificate and, while it is being replaced, the one it replaces.
GENERATED_SLOTS = ("a", "b")
OWN = "own"
OWN_RETIRING = "own-retiring"


def application_name(integration: str) -> str:
    return f"{integration}-app"


def service_principal_name(integration: str) -> str:
    return f"{integration}-sp"


def consent_name(integration: str, permission: Permission) -> str:
    """An app role assignment per application permission, the delegated grant for all users."""
    if permission.kind == APPLICATION:
        return f"{integration}-consent-{permission.slug}"
    return f"{integration}-consent-{permission.slug}-all-users"


def credential_name(integration: str, slot: str) -> str:
    return f"{integration}-credential-{slot}"


def certificate_name(integration: str) -> str:
    return f"{integration}-certificate"


def keystore_name(integration: str) -> str:
    return f"{integration}-keystore"


class Consent(NamedTuple):
    """One consent the stack declares: its logical name, type token and permission."""

    name: str
    type: str
    permission: Permission


def declared_consents(integration: str, permission_mode: str, legacy_exchange: bool,
                      admin_consent: bool) -> tuple[Consent, ...]:
    """The consents a stack of this configuration declares (none without adminConsent)."""
    if not admin_consent:
        return ()
    return tuple(Consent(consent_name(integration, p),
                         APP_ROLE_ASSIGNMENT_TYPE if p.kind == APPLICATION else DELEGATED_GRANT_TYPE, p)
                 for p in permissions_for(permission_mode, legacy_exchange))
