"""The guard-rail rules as plain functions of (resource type, properties), testable without an engine.

Property names are the engine's (camelCase), as policy packs see them.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable, Mapping
from typing import Any

APPLICATION = "azuread:index/application:Application"
APPLICATION_PASSWORD = "azuread:index/applicationPassword:ApplicationPassword"
SERVICE_PRINCIPAL_PASSWORD = "azuread:index/servicePrincipalPassword:ServicePrincipalPassword"
APPLICATION_CERTIFICATE = "azuread:index/applicationCertificate:ApplicationCertificate"
GENERATED_CERTIFICATE = "pulumi-python:dynamic/mytimetable:Certificate"

# (resource app ID, permission ID, type): Graph Calendars.ReadWrite (app role and scope) and
# Exchange Online Calendars.ReadWrite.All, from the package's one table (rules/permissions.py, with
# the sources): the pack runs in the project's venv (PulumiPolicy.yaml), which has the package.
# The literal is kept for one reason: a pack published with `pulumi policy publish` runs where only
# its own requirements.txt is installed; tests/test_policy.py keeps the two equal.
ALLOWED_PERMISSIONS = {
    ("00000003-0000-0000-c000-000000000000", "ef54d2bf-783f-4e0f-bca1-3210c0444d99", "Role"),
    ("00000003-0000-0000-c000-000000000000", "1ec239c2-d7c9-4623-a91a-a9775856bb36", "Scope"),
    ("00000002-0000-0ff1-ce00-000000000000", "ef54d2bf-783f-4e0f-bca1-3210c0444d99", "Role"),
}
try:
    from mytimetable_o365.rules.permissions import ALL_PERMISSIONS as _ALL

    ALLOWED_PERMISSIONS = {(p.resource.app_id, p.id, p.access_type) for p in _ALL}
except ImportError:  # pragma: no cover - a published pack without the package
    pass
# The engine's names of the provider properties the rules read; a test checks each against the
# pulumi-azuread SDK's getters, so a misspelt name (a rule that can never fire) fails the tests.
APPLICATION_PROPERTIES_READ = ("signInAudience", "requiredResourceAccesses", "password", "web",
                               "singlePageApplication", "publicClient")
CERTIFICATE_PROPERTIES_READ = ("value",)
MIN_KEY_SIZE = 2048
# One number with the program's config check: the package's own constant (the policy pack runs in
# the project's venv, which has the package). The literal is the fallback for a pack run alone.
try:
    from mytimetable_o365.rules.certificate import MAX_VALIDITY_DAYS as DEFAULT_MAX_VALIDITY_DAYS
except ImportError:  # pragma: no cover - the pack outside the project's venv
    DEFAULT_MAX_VALIDITY_DAYS = 825

Report = Callable[[str], None]


def single_tenant_audience(resource_type: str, props: Mapping[str, Any], report: Report) -> None:
    if resource_type == APPLICATION and props.get("signInAudience", "AzureADMyOrg") != "AzureADMyOrg":
        report(f"signInAudience is {props.get('signInAudience')!r}; MyTimetable's app must be single tenant (AzureADMyOrg)")


def allowed_permissions_only(resource_type: str, props: Mapping[str, Any], report: Report) -> None:
    if resource_type != APPLICATION:
        return
    for resource in props.get("requiredResourceAccesses") or []:
        for access in resource.get("resourceAccesses") or []:
            key = (resource.get("resourceAppId"), access.get("id"), access.get("type"))
            if key not in ALLOWED_PERMISSIONS:
                report(f"permission {access.get('id')} ({access.get('type')}) on {resource.get('resourceAppId')} "
                       "is outside the allowed calendar permissions")


def no_password_credentials(resource_type: str, props: Mapping[str, Any], report: Report) -> None:
    if resource_type in (APPLICATION_PASSWORD, SERVICE_PRINCIPAL_PASSWORD):
        report("client secrets are not allowed: MyTimetable authenticates with a certificate")
    # pulumi-azuread 6.x names the application's inline secret `password` (one block,
    # ApplicationPasswordArgs; engine name "password"), not `passwords`.
    if resource_type == APPLICATION and props.get("password"):
        report("the app registration declares a password credential (password): use a certificate")


def strong_certificates(resource_type: str, props: Mapping[str, Any], report: Report,
                        max_validity_days: int = DEFAULT_MAX_VALIDITY_DAYS) -> None:
    if resource_type == GENERATED_CERTIFICATE:
        if int(props.get("keySize") or 0) < MIN_KEY_SIZE:
            report(f"certificate key size {props.get('keySize')} is under {MIN_KEY_SIZE} bits")
        if int(props.get("validityDays") or 0) > max_validity_days:
            report(f"certificate validity {props.get('validityDays')} days exceeds the maximum {max_validity_days}")
    if resource_type == APPLICATION_CERTIFICATE and isinstance(props.get("value"), str) and "BEGIN CERTIFICATE" in props["value"]:
        from cryptography import x509

        certificate = x509.load_pem_x509_certificate(props["value"].encode())
        size = getattr(certificate.public_key(), "key_size", 0)
        if size < MIN_KEY_SIZE:
            report(f"certificate key size {size} is under {MIN_KEY_SIZE} bits")
        days = (certificate.not_valid_after_utc - certificate.not_valid_before_utc) / _dt.timedelta(days=1)
        if days > max_validity_days:
            report(f"certificate validity {days:.0f} days exceeds the maximum {max_validity_days}")


def https_redirect_uris(resource_type: str, props: Mapping[str, Any], report: Report) -> None:
    if resource_type != APPLICATION:
        return
    for platform in ("web", "singlePageApplication"):
        for uri in (props.get(platform) or {}).get("redirectUris") or []:
            if not str(uri).startswith("https://"):
                report(f"redirect URI {uri!r} is not https")
    for uri in (props.get("publicClient") or {}).get("redirectUris") or []:
        if not str(uri).startswith("https://"):
            report(f"redirect URI {uri!r} is not https")
