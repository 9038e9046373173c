"""The guard-rail rules as plain functions of (resource type, properties), testable without an engine.

Property names are the engine's (camelCase), as policy packs see them. Every azuread resource type
that can give MyTimetable's app more than the calendar permissions is either checked here by what it
declares, or refused outright when this project's program never declares it:
- checked: the types the program declares (Application, ServicePrincipal, AppRoleAssignment,
  ServicePrincipalDelegatedPermissionGrant, ApplicationCertificate), and the types that carry parts
  of an Application on their own (ApplicationRedirectUris, ApplicationApiAccess,
  ApplicationRegistration: the same rules as on an Application);
- refused by name: passwords (ApplicationPassword, ServicePrincipalPassword) and federated identity
  credentials, each by a rule of its own that says why;
- refused as unknown: every other azuread type (owners, pre-authorised clients, exposed scopes and
  app roles, directory roles, service principal credentials...), unless the pack's config lists it.
The schemas of these types: pulumi-azuread 6.11.1 (terraform-provider-azuread v3.9.0 df2a07a33712),
internal/services/applications/*_resource.go and serviceprincipals/*_resource.go.
"""

from __future__ import annotations

import base64
import binascii
import datetime as _dt
from collections.abc import Callable, Iterable, Mapping
from typing import Any

APPLICATION = "azuread:index/application:Application"
SERVICE_PRINCIPAL = "azuread:index/servicePrincipal:ServicePrincipal"
APP_ROLE_ASSIGNMENT = "azuread:index/appRoleAssignment:AppRoleAssignment"
DELEGATED_GRANT = "azuread:index/servicePrincipalDelegatedPermissionGrant:ServicePrincipalDelegatedPermissionGrant"
APPLICATION_CERTIFICATE = "azuread:index/applicationCertificate:ApplicationCertificate"
REDIRECT_URIS = "azuread:index/applicationRedirectUris:ApplicationRedirectUris"
API_ACCESS = "azuread:index/applicationApiAccess:ApplicationApiAccess"
REGISTRATION = "azuread:index/applicationRegistration:ApplicationRegistration"
APPLICATION_PASSWORD = "azuread:index/applicationPassword:ApplicationPassword"
SERVICE_PRINCIPAL_PASSWORD = "azuread:index/servicePrincipalPassword:ServicePrincipalPassword"
FEDERATED_CREDENTIAL = "azuread:index/applicationFederatedIdentityCredential:ApplicationFederatedIdentityCredential"
FLEXIBLE_FEDERATED_CREDENTIAL = ("azuread:index/applicationFlexibleFederatedIdentityCredential:"
                                 "ApplicationFlexibleFederatedIdentityCredential")
GENERATED_CERTIFICATE = "pulumi-python:dynamic/mytimetable:Certificate"

PROGRAM_TYPES = (APPLICATION, SERVICE_PRINCIPAL, APP_ROLE_ASSIGNMENT, DELEGATED_GRANT, APPLICATION_CERTIFICATE)
PART_OF_AN_APPLICATION_TYPES = (REDIRECT_URIS, API_ACCESS, REGISTRATION)
PASSWORD_TYPES = (APPLICATION_PASSWORD, SERVICE_PRINCIPAL_PASSWORD)
FEDERATED_TYPES = (FEDERATED_CREDENTIAL, FLEXIBLE_FEDERATED_CREDENTIAL)
# What the rules below judge; any other azuread type is refused by known_types_only.
JUDGED_TYPES = PROGRAM_TYPES + PART_OF_AN_APPLICATION_TYPES + PASSWORD_TYPES + FEDERATED_TYPES

# (resource app ID, permission ID, type): Graph Calendars.ReadWrite (app role and scope) and
# Exchange Online Calendars.ReadWrite.All, from the package's one table (rules/permissions.py, with
# the sources): the pack runs in the project's venv (PulumiPolicy.yaml), which has the package.
# The literals are kept for one reason: a pack published with `pulumi policy publish` runs where only
# its own requirements.txt is installed; tests/test_policy.py keeps them equal.
ALLOWED_PERMISSIONS = {
    ("00000003-0000-0000-c000-000000000000", "ef54d2bf-783f-4e0f-bca1-3210c0444d99", "Role"),
    ("00000003-0000-0000-c000-000000000000", "1ec239c2-d7c9-4623-a91a-a9775856bb36", "Scope"),
    ("00000002-0000-0ff1-ce00-000000000000", "ef54d2bf-783f-4e0f-bca1-3210c0444d99", "Role"),
}
# The delegated grant names its scopes by value (Graph's oAuth2PermissionGrant `scope`).
ALLOWED_SCOPE_VALUES = {"calendars.readwrite"}
try:
    from mytimetable_o365.rules.permissions import ALL_PERMISSIONS as _ALL

    ALLOWED_PERMISSIONS = {(p.resource.app_id, p.id, p.access_type) for p in _ALL}
    ALLOWED_SCOPE_VALUES = {p.name.lower() for p in _ALL if p.access_type == "Scope"}
except ImportError:  # pragma: no cover - a published pack without the package
    pass
# An app role assignment names the role by ID on a service principal whose object ID is the
# tenant's own: only the ID can be judged (the calendar roles of Graph and Exchange share one).
ALLOWED_ROLE_IDS = {permission_id for _, permission_id, kind in ALLOWED_PERMISSIONS if kind == "Role"}

# The engine's names of the provider properties the rules read, per type; a test checks each
# against the pulumi-azuread SDK's getters, so a misspelt name (a rule that can never fire) fails.
PROPERTIES_READ = {
    APPLICATION: ("signInAudience", "requiredResourceAccesses", "password", "web", "singlePageApplication",
                  "publicClient", "fallbackPublicClientEnabled", "api", "appRoles", "identifierUris"),
    APPLICATION_CERTIFICATE: ("value", "encoding", "type"),
    REDIRECT_URIS: ("redirectUris", "type"),
    API_ACCESS: ("apiClientId", "roleIds", "scopeIds"),
    REGISTRATION: ("signInAudience", "implicitAccessTokenIssuanceEnabled", "implicitIdTokenIssuanceEnabled"),
    APP_ROLE_ASSIGNMENT: ("appRoleId",),
    DELEGATED_GRANT: ("claimValues",),
    FEDERATED_CREDENTIAL: ("issuer", "subject"),
}
# One number each with the program's own checks (rules/certificate.py): the pack runs in the
# project's venv, which has the package. The literals are the fallback for a pack run alone.
try:
    from mytimetable_o365.rules.certificate import MAX_VALIDITY_DAYS as DEFAULT_MAX_VALIDITY_DAYS
    from mytimetable_o365.rules.certificate import MIN_RSA_KEY_SIZE as MIN_KEY_SIZE
except ImportError:  # pragma: no cover - the pack outside the project's venv
    DEFAULT_MAX_VALIDITY_DAYS = 825
    MIN_KEY_SIZE = 2048

Report = Callable[[str], None]


def known_types_only(resource_type: str, props: Mapping[str, Any], report: Report,
                     allowed: Iterable[str] = ()) -> None:
    if resource_type.startswith("azuread:") and resource_type not in JUDGED_TYPES and resource_type not in allowed:
        report(f"{resource_type} is no resource this project's program declares, and the guard rails cannot tell "
               "what access it gives (owners, credentials, exposed or pre-authorised permissions, directory "
               "roles...); remove it, or list it in the pack's config `allowedResourceTypes`")


def single_tenant_audience(resource_type: str, props: Mapping[str, Any], report: Report) -> None:
    # Absent, the provider's default is AzureADMyOrg (application_resource.go, application_registration_resource.go).
    if resource_type in (APPLICATION, REGISTRATION) and props.get("signInAudience", "AzureADMyOrg") != "AzureADMyOrg":
        report(f"signInAudience is {props.get('signInAudience')!r}; MyTimetable's app must be single tenant (AzureADMyOrg)")


def allowed_permissions_only(resource_type: str, props: Mapping[str, Any], report: Report) -> None:
    def judge(api: Any, permission_id: Any, kind: str) -> None:
        if (api, permission_id, kind) not in ALLOWED_PERMISSIONS:
            report(f"permission {permission_id} ({kind}) on {api} is outside the allowed calendar permissions")

    if resource_type == APPLICATION:
        for resource in props.get("requiredResourceAccesses") or []:
            for access in resource.get("resourceAccesses") or []:
                judge(resource.get("resourceAppId"), access.get("id"), access.get("type"))
    elif resource_type == API_ACCESS:
        for role in props.get("roleIds") or []:
            judge(props.get("apiClientId"), role, "Role")
        for scope in props.get("scopeIds") or []:
            judge(props.get("apiClientId"), scope, "Scope")
    elif resource_type == APP_ROLE_ASSIGNMENT and props.get("appRoleId") not in ALLOWED_ROLE_IDS:
        report(f"app role {props.get('appRoleId')} is outside the allowed calendar permissions "
               f"({', '.join(sorted(ALLOWED_ROLE_IDS))})")
    elif resource_type == DELEGATED_GRANT:
        # The provider joins the values with spaces into Graph's `scope`, which Graph splits at
        # spaces again: "Calendars.ReadWrite User.Read" is two scopes.
        for value in props.get("claimValues") or []:
            for scope in str(value).split():
                if scope.lower() not in ALLOWED_SCOPE_VALUES:
                    report(f"delegated scope {scope!r} is outside the allowed calendar permissions")


def no_password_credentials(resource_type: str, props: Mapping[str, Any], report: Report) -> None:
    if resource_type in PASSWORD_TYPES:
        report("client secrets are not allowed: MyTimetable authenticates with a certificate")
    # pulumi-azuread 6.x names the application's inline secret `password` (one block,
    # ApplicationPasswordArgs; engine name "password"), not `passwords`.
    if resource_type == APPLICATION and props.get("password"):
        report("the app registration declares a password credential (password): use a certificate")
    # A Symmetric key credential is a shared secret, not a certificate (application_certificate_resource.go:
    # type is AsymmetricX509Cert or Symmetric).
    if resource_type == APPLICATION_CERTIFICATE and props.get("type") == "Symmetric":
        report("a Symmetric key credential is a shared secret: MyTimetable authenticates with an X.509 certificate "
               "(AsymmetricX509Cert)")


def no_federated_credentials(resource_type: str, props: Mapping[str, Any], report: Report) -> None:
    if resource_type in FEDERATED_TYPES:
        who = f"{props.get('issuer')} {props.get('subject') or props.get('claimsMatchingExpression')}"
        report(f"a federated identity credential lets tokens from another identity ({who}) sign in as the app; "
               "MyTimetable signs in with its certificate, and the deploying pipeline has an identity of its own")


def _certificates(value: str, encoding: Any) -> list:
    """The X.509 certificates in an ApplicationCertificate's `value` as the provider reads it per
    `encoding` (credentials.go: pem is sent as it is; base64 and hex are decoded to DER); ValueError
    when there is none."""
    from cryptography import x509

    encoding = encoding or "pem"  # the provider's default
    if encoding == "pem":
        return x509.load_pem_x509_certificates(value.encode())
    try:
        if encoding == "base64":
            der = base64.b64decode("".join(value.split()), validate=True)
        elif encoding == "hex":
            der = bytes.fromhex("".join(value.split()))
        else:
            raise ValueError(f"encoding {encoding!r} is none of pem, base64, hex")
    except binascii.Error as exc:
        raise ValueError(str(exc)) from None
    return [x509.load_der_x509_certificate(der)]


def strong_certificates(resource_type: str, props: Mapping[str, Any], report: Report,
                        max_validity_days: int = DEFAULT_MAX_VALIDITY_DAYS) -> None:
    if resource_type == GENERATED_CERTIFICATE:
        if int(props.get("keySize") or 0) < MIN_KEY_SIZE:
            report(f"certificate key size {props.get('keySize')} is under {MIN_KEY_SIZE} bits")
        if int(props.get("validityDays") or 0) > max_validity_days:
            report(f"certificate validity {props.get('validityDays')} days exceeds the maximum {max_validity_days}")
    if resource_type != APPLICATION_CERTIFICATE or props.get("type") == "Symmetric":
        return
    value, encoding = props.get("value"), props.get("encoding")
    try:
        certificates = _certificates(str(value), encoding)
    except (ValueError, TypeError) as exc:
        report(f"the credential's value is no X.509 certificate the guard rails can read as {encoding or 'pem'} "
               f"({str(exc).splitlines()[0][:120]})")
        return
    for certificate in certificates:
        size = getattr(certificate.public_key(), "key_size", 0)
        if size < MIN_KEY_SIZE:
            report(f"certificate key size {size} is under {MIN_KEY_SIZE} bits")
        days = (certificate.not_valid_after_utc - certificate.not_valid_before_utc) / _dt.timedelta(days=1)
        if days > max_validity_days:
            report(f"certificate validity {days:.0f} days exceeds the maximum {max_validity_days}")


def _redirect_uri_problem(uri: Any) -> str | None:
    text = str(uri)
    if not text.startswith("https://"):
        return f"redirect URI {text!r} is not https"
    if "*" in text:
        return f"redirect URI {text!r} has a wildcard: any matching site could receive the sign-in"
    return None


def https_redirect_uris(resource_type: str, props: Mapping[str, Any], report: Report) -> None:
    uris: list = []
    if resource_type == APPLICATION:
        for platform in ("web", "singlePageApplication", "publicClient"):
            uris += (props.get(platform) or {}).get("redirectUris") or []
    elif resource_type == REDIRECT_URIS:  # type Web, SPA or PublicClient: any scheme passes its own check
        uris = list(props.get("redirectUris") or [])
    for uri in uris:
        problem = _redirect_uri_problem(uri)
        if problem:
            report(problem)


def confidential_client_only(resource_type: str, props: Mapping[str, Any], report: Report) -> None:
    """MyTimetable's app is a confidential web client that exposes nothing: no public-client or
    implicit flows, which hand out tokens without the certificate, and no API, app roles or
    identifier URIs of its own for other apps to be granted."""
    if resource_type == APPLICATION:
        implicit = (props.get("web") or {}).get("implicitGrant") or {}
        flags = {"fallbackPublicClientEnabled": props.get("fallbackPublicClientEnabled"),
                 "web.implicitGrant.accessTokenIssuanceEnabled": implicit.get("accessTokenIssuanceEnabled"),
                 "web.implicitGrant.idTokenIssuanceEnabled": implicit.get("idTokenIssuanceEnabled")}
        api = props.get("api") or {}
        exposed = {"api.oauth2PermissionScopes": api.get("oauth2PermissionScopes"),
                   "api.knownClientApplications": api.get("knownClientApplications"),
                   "appRoles": props.get("appRoles"), "identifierUris": props.get("identifierUris")}
        public = {"singlePageApplication.redirectUris": (props.get("singlePageApplication") or {}).get("redirectUris"),
                  "publicClient.redirectUris": (props.get("publicClient") or {}).get("redirectUris")}
    elif resource_type == REGISTRATION:
        flags = {name: props.get(name) for name in ("implicitAccessTokenIssuanceEnabled", "implicitIdTokenIssuanceEnabled")}
        exposed, public = {}, {}
    elif resource_type == REDIRECT_URIS:
        flags, exposed = {}, {}
        public = {f"redirect URIs of type {props.get('type')}": props.get("redirectUris")
                  if props.get("type") in ("SPA", "PublicClient") else None}
    else:
        return
    for name, value in flags.items():
        if value is True:
            report(f"{name} is true: tokens would be issued without the app's certificate")
    for name, value in public.items():
        if value:
            report(f"{name}: a public client signs in without the app's certificate; MyTimetable's redirect URI is "
                   "a web one")
    for name, value in exposed.items():
        if value:
            report(f"{name} is set: MyTimetable's app exposes no permissions, roles or identifier URIs of its own")
