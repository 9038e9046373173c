"""What the leftovers check read from Microsoft Graph about one stack, as plain values. Pure.

Field names follow Graph's resources (Learn: resources/application, resources/keycredential,
resources/serviceprincipal, resources/approleassignment, resources/oauth2permissiongrant):
`customKeyIdentifier` of a certificate credential is the certificate's SHA-1 thumbprint, which is
how the portal and the provider (application_certificate_resource.go) identify it besides the keyId.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class KeyCredential:
    key_id: str
    thumbprint: str  # customKeyIdentifier, upper-case hex ("" when Graph shows none)
    end: str = ""


@dataclass(frozen=True)
class Application:
    id: str
    app_id: str
    display_name: str
    created: str = ""
    owners: tuple[str, ...] = ()
    key_credentials: tuple[KeyCredential, ...] = ()
    redirect_uris: tuple[str, ...] = ()  # web.redirectUris


@dataclass(frozen=True)
class ServicePrincipal:
    id: str
    app_id: str
    owners: tuple[str, ...] = ()


@dataclass(frozen=True)
class Assignment:
    id: str
    app_role_id: str
    principal_id: str
    resource_id: str


@dataclass(frozen=True)
class Grant:
    id: str
    client_id: str
    resource_id: str
    consent_type: str
    scope: str = ""


@dataclass(frozen=True)
class EntraObjects:
    """What Graph holds, as far as the check looked.

    deployer:            object ID of the identity that runs the check (its token's `oid`)
    named:               the applications whose displayName is exactly the stack's appName (this
                         stack's or not: the planner tells them apart by the stack's redirect URI),
                         and those under the provider's temporary name (TERRAFORM_UPDATE_<uuid>) that
                         carry the stack's redirect URI
    applications:        those and any other application looked up by ID (the state's)
    missing:             object IDs looked up by ID that Graph answered 404 for
    service_principals:  service principals by appId, for the applications above
    resource_principals: Microsoft's service principals the stack's permissions name, appId -> object ID
    assignments, grants: consent granted to `consent_of` (None: not read)
    """

    deployer: str = ""
    named: tuple[Application, ...] = ()
    applications: Mapping[str, Application] = field(default_factory=dict)
    missing: frozenset[str] = frozenset()
    service_principals: Mapping[str, ServicePrincipal] = field(default_factory=dict)
    resource_principals: Mapping[str, str] = field(default_factory=dict)
    consent_of: str | None = None
    assignments: tuple[Assignment, ...] = ()
    grants: tuple[Grant, ...] = ()


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _items(value: Any) -> list:
    """A Graph collection property; anything but a list (a hostile or broken answer) reads as empty."""
    return value if isinstance(value, list) else []


def application_from_graph(item: Mapping, owners: tuple[str, ...] = ()) -> Application:
    credentials = tuple(KeyCredential(_text(k.get("keyId")).lower(), _text(k.get("customKeyIdentifier")).upper(),
                                      _text(k.get("endDateTime")))
                        for k in _items(item.get("keyCredentials")) if isinstance(k, Mapping))
    web = item.get("web")
    redirect_uris = tuple(u for u in _items(web.get("redirectUris") if isinstance(web, Mapping) else None) if isinstance(u, str))
    return Application(_text(item.get("id")).lower(), _text(item.get("appId")).lower(), _text(item.get("displayName")),
                       _text(item.get("createdDateTime")), tuple(o.lower() for o in owners), credentials, redirect_uris)


def service_principal_from_graph(item: Mapping, owners: tuple[str, ...] = ()) -> ServicePrincipal:
    return ServicePrincipal(_text(item.get("id")).lower(), _text(item.get("appId")).lower(), tuple(o.lower() for o in owners))


def assignment_from_graph(item: Mapping) -> Assignment:
    # The ID of an app role assignment is Graph's own base64url-like string: its case matters.
    return Assignment(_text(item.get("id")), _text(item.get("appRoleId")).lower(), _text(item.get("principalId")).lower(),
                      _text(item.get("resourceId")).lower())


def grant_from_graph(item: Mapping) -> Grant:
    return Grant(_text(item.get("id")), _text(item.get("clientId")).lower(), _text(item.get("resourceId")).lower(),
                 _text(item.get("consentType")), _text(item.get("scope")))
