"""Stack config in, one validated, immutable Settings out.

Every key lives in the `mytimetable-o365:` namespace. All problems are collected and
reported together, each naming its key and showing an accepted example, before the
program declares any resource.
"""

from __future__ import annotations

import datetime as _dt
import json
import re
from dataclasses import dataclass, field
from typing import Any, Mapping, Optional

from pulumi.errors import RunError

from .permissions import APPLICATION, DELEGATED, PERMISSION_MODES
from .redirect_uri import SITE_URL_EXAMPLE, RedirectUriError, normalise_site_url, redirect_uri_for

NAMESPACE = "mytimetable-o365"
TOP_LEVEL_KEYS = (
    "siteUrl",
    "appName",
    "permissionMode",
    "legacyExchangePermission",
    "adminConsent",
    "owners",
    "deployerIsOwner",
    "certificate",
    "keystore",
    "mailboxScope",
)
CERTIFICATE_KEYS = ("keySize", "validityDays", "renewBeforeDays", "certificatePem", "privateKeyPem")
KEYSTORE_KEYS = ("path", "format", "alias", "password", "delivery")
KEYSTORE_DELIVERIES = ("file", "elsewhere")  # elsewhere: the pipeline delivers it (e.g. Key Vault); no local-file warning
MAILBOX_SCOPE_KEYS = ("groupAddress", "administrativeUnitId")
KEY_SIZES = (2048, 3072, 4096)
KEYSTORE_FORMATS = ("jks", "pkcs12")
KEYSTORE_EXTENSIONS = {"jks": "jks", "pkcs12": "p12"}
MAX_VALIDITY_DAYS = 3650
MIN_KEYSTORE_PASSWORD = 6

_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
# Deliberately plain: one @, no spaces, a dot in the domain. Exchange resolves the rest.
_EMAIL = re.compile(r"^[A-Za-z0-9.!#%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")


class InvalidConfigError(RunError):
    """Stack config that cannot be deployed; `problems` holds one line per key.

    A RunError, so Pulumi prints the message without a Python traceback.
    """

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__(
            "invalid stack config, nothing was declared:\n" + "\n".join(f"  - {p}" for p in problems)
        )


@dataclass(frozen=True)
class CertificateSettings:
    key_size: int = 2048
    validity_days: int = 730
    renew_before_days: int = 30
    certificate_pem: Optional[str] = None
    private_key_pem: Optional[str] = field(default=None, repr=False)

    @property
    def bring_your_own(self) -> bool:
        return self.certificate_pem is not None


@dataclass(frozen=True)
class KeystoreSettings:
    path: str
    format: str = "jks"
    alias: str = "mytimetable"
    password: Optional[str] = field(default=None, repr=False)
    delivery: str = "file"


@dataclass(frozen=True)
class MailboxScopeSettings:
    group_address: Optional[str] = None
    administrative_unit_id: Optional[str] = None


@dataclass(frozen=True)
class Settings:
    stack: str
    site_url: str
    redirect_uri: str
    app_name: str
    permission_mode: str
    legacy_exchange_permission: bool
    admin_consent: bool
    owners: tuple[str, ...]
    certificate: CertificateSettings
    keystore: KeystoreSettings
    mailbox_scope: Optional[MailboxScopeSettings] = None
    warnings: tuple[str, ...] = ()
    # The identity that runs `pulumi up` stays an owner of the app and service principal (see
    # component.integration); a person may opt out for a deployment they run themselves.
    deployer_is_owner: bool = True


def key(name: str) -> str:
    return f"{NAMESPACE}:{name}"


def parse_settings(raw: Mapping[str, Any], stack: str, now: _dt.datetime) -> Settings:
    """Validate raw config values (strings, or JSON strings for lists and objects).

    `now` is only used to judge a brought-your-own certificate's expiry.
    """
    problems: list[str] = []
    warnings: list[str] = []

    def problem(name: str, text: str, example: str) -> None:
        problems.append(f"{key(name)}: {text}; for example: {example}")

    for unknown in sorted(set(raw) - set(TOP_LEVEL_KEYS)):
        problem(unknown, "is not a known key (known: " + ", ".join(TOP_LEVEL_KEYS) + ")", "siteUrl")

    site_url = raw.get("siteUrl")
    redirect_uri = ""
    if site_url in (None, ""):
        problem("siteUrl", "is required", SITE_URL_EXAMPLE)
    else:
        try:
            redirect_uri = redirect_uri_for(str(site_url))
            site_url = normalise_site_url(str(site_url))
        except RedirectUriError as exc:
            problem("siteUrl", f"{site_url!r} is not usable: {exc}", SITE_URL_EXAMPLE)

    app_name = raw.get("appName")
    if app_name is None:
        app_name = f"MyTimetable-{stack}"
    elif not isinstance(app_name, str) or not app_name.strip() or app_name != app_name.strip():
        problem("appName", "must be a non-empty name without surrounding spaces", "MyTimetable-prod")

    mode = raw.get("permissionMode", APPLICATION)
    if mode not in PERMISSION_MODES:
        problem("permissionMode", f"{mode!r} is not one of {', '.join(PERMISSION_MODES)}", APPLICATION)
        mode = APPLICATION

    legacy = _boolean(raw, "legacyExchangePermission", False, problem)
    if legacy and mode == DELEGATED:
        problem(
            "legacyExchangePermission",
            "is an application permission and cannot be combined with permissionMode delegated",
            "false",
        )
    consent = _boolean(raw, "adminConsent", mode == APPLICATION, problem)

    owners: tuple[str, ...] = ()
    owners_raw = _structured(raw, "owners", list, problem, '["00000000-0000-0000-0000-000000000000"]')
    if owners_raw is not None:
        bad = [o for o in owners_raw if not isinstance(o, str) or not _GUID.match(o)]
        if bad:
            problem("owners", f"{bad!r} are not object IDs (GUIDs)", '["3f2504e0-4f89-11d3-9a0c-0305e82c3301"]')
        else:
            owners = tuple(sorted({o.lower() for o in owners_raw}))

    deployer_is_owner = _boolean(raw, "deployerIsOwner", True, problem)
    certificate = _certificate(raw, now, problem, warnings)
    keystore = _keystore(raw, stack, problem)
    scope = _mailbox_scope(raw, mode, problem)

    if scope is not None and consent:
        warnings.append(
            f"{key('mailboxScope')}: while adminConsent grants Microsoft Graph Calendars.ReadWrite tenant-wide, "
            "Exchange's RBAC for Applications scope adds to it and does not restrict it: run the "
            "mailboxScopeScript, then set adminConsent: false (or use the script's legacy policy variant)"
        )
    if problems:
        raise InvalidConfigError(problems)
    return Settings(
        stack=stack,
        site_url=site_url,
        redirect_uri=redirect_uri,
        app_name=app_name,
        permission_mode=mode,
        legacy_exchange_permission=legacy,
        admin_consent=consent,
        owners=owners,
        certificate=certificate,
        keystore=keystore,
        mailbox_scope=scope,
        warnings=tuple(warnings),
        deployer_is_owner=deployer_is_owner,
    )


def _boolean(raw, name, default, problem) -> bool:
    value = raw.get(name)
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "false"):
        return text == "true"
    problem(name, f"{value!r} is not a boolean (true or false)", "true")
    return default


def _structured(raw, name, kind, problem, example):
    value = raw.get(name)
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            problem(name, "is not valid YAML/JSON " + ("list" if kind is list else "object"), example)
            return None
    if not isinstance(value, kind):
        problem(name, "must be a " + ("list" if kind is list else "object with keys"), example)
        return None
    return value


def _unknown_subkeys(name, value, allowed, problem, example):
    for unknown in sorted(set(value) - set(allowed)):
        problem(f"{name}.{unknown}", "is not a known key (known: " + ", ".join(allowed) + ")", example)


def _integer(value, name, problem, example, low, high):
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        problem(name, f"{value!r} is not a whole number", example)
        return None
    try:
        number = int(value)
    except ValueError:
        problem(name, f"{value!r} is not a whole number", example)
        return None
    if not low <= number <= high:
        problem(name, f"{number} is outside {low}..{high}", example)
        return None
    return number


def _certificate(raw, now, problem, warnings) -> CertificateSettings:
    example = '{"keySize": 2048, "validityDays": 730, "renewBeforeDays": 30}'
    value = _structured(raw, "certificate", dict, problem, example) or {}
    _unknown_subkeys("certificate", value, CERTIFICATE_KEYS, problem, example)
    defaults = CertificateSettings()
    key_size = defaults.key_size
    if "keySize" in value:
        key_size = _integer(value["keySize"], "certificate.keySize", problem, "2048", 0, 1 << 20)
        if key_size is not None and key_size not in KEY_SIZES:
            problem("certificate.keySize", f"{key_size} is not one of 2048, 3072, 4096", "2048")
        key_size = key_size if key_size in KEY_SIZES else defaults.key_size
    validity = defaults.validity_days
    if "validityDays" in value:
        validity = _integer(
            value["validityDays"], "certificate.validityDays", problem, "730", 1, MAX_VALIDITY_DAYS
        ) or defaults.validity_days
    renew = defaults.renew_before_days
    if "renewBeforeDays" in value:
        renew = _integer(value["renewBeforeDays"], "certificate.renewBeforeDays", problem, "30", 0, MAX_VALIDITY_DAYS)
        if renew is None:
            renew = defaults.renew_before_days
    if renew >= validity:
        problem(
            "certificate.renewBeforeDays",
            f"{renew} must be smaller than certificate.validityDays ({validity})",
            "30",
        )

    cert_pem = value.get("certificatePem")
    key_pem = value.get("privateKeyPem")
    if (cert_pem is None) != (key_pem is None):
        missing = "certificate.privateKeyPem" if key_pem is None else "certificate.certificatePem"
        problem(
            missing,
            "is required when bringing your own certificate (set both certificatePem and privateKeyPem)",
            "pulumi config set --secret --path 'certificate.privateKeyPem' < key.pem",
        )
    elif cert_pem is not None:
        # Imported here: only a brought-your-own certificate needs cryptography at evaluation.
        from .certificate import CertificateProblem, inspect_own_certificate, rotation_due

        try:
            info = inspect_own_certificate(cert_pem, key_pem, now)
        except CertificateProblem as exc:
            problem(f"certificate.{exc.field}", str(exc), exc.example)
        else:
            if rotation_due(info.not_after, renew, now):
                warnings.append(
                    f"{key('certificate.certificatePem')}: the certificate {info.thumbprint} expires "
                    f"{info.not_after.isoformat()}, within renewBeforeDays ({renew}); replace it "
                    "(or remove certificatePem/privateKeyPem to let the stack generate and rotate one)"
                )
    return CertificateSettings(key_size, validity, renew, cert_pem, key_pem)


def _keystore(raw, stack, problem) -> KeystoreSettings:
    example = '{"format": "jks", "alias": "mytimetable", "path": "keystore-prod.jks"}'
    value = _structured(raw, "keystore", dict, problem, example) or {}
    _unknown_subkeys("keystore", value, KEYSTORE_KEYS, problem, example)
    fmt = value.get("format", "jks")
    if fmt not in KEYSTORE_FORMATS:
        problem("keystore.format", f"{fmt!r} is not one of jks, pkcs12", "jks")
        fmt = "jks"
    alias = value.get("alias", "mytimetable")
    if not isinstance(alias, str) or not alias.strip():
        problem("keystore.alias", "must be a non-empty name", "mytimetable")
    password = value.get("password")
    if password is not None and (not isinstance(password, str) or len(password) < MIN_KEYSTORE_PASSWORD):
        problem(
            "keystore.password",
            f"must be at least {MIN_KEYSTORE_PASSWORD} characters (Java's keytool refuses shorter)",
            "pulumi config set --secret --path 'keystore.password' 'long-random-text'",
        )
    path = value.get("path", f"keystore-{stack}.{KEYSTORE_EXTENSIONS[fmt]}")
    if not isinstance(path, str) or not path.strip() or path.endswith("/"):
        problem("keystore.path", "must be a file path", f"keystore-{stack}.jks")
    delivery = value.get("delivery", "file")
    if delivery not in KEYSTORE_DELIVERIES:
        problem("keystore.delivery", f"{delivery!r} is not one of file, elsewhere", "elsewhere")
        delivery = "file"
    return KeystoreSettings(path=path, format=fmt, alias=alias, password=password, delivery=delivery)


def _mailbox_scope(raw, mode, problem) -> Optional[MailboxScopeSettings]:
    example = '{"groupAddress": "mytimetable-calendars@example.edu"}'
    value = _structured(raw, "mailboxScope", dict, problem, example)
    if value is None:
        return None
    _unknown_subkeys("mailboxScope", value, MAILBOX_SCOPE_KEYS, problem, example)
    if mode != APPLICATION:
        problem("mailboxScope", "only applies to permissionMode application (delegated users reach only their own calendars)", "remove mailboxScope")
        return None
    group = value.get("groupAddress")
    unit = value.get("administrativeUnitId")
    if (group is None) == (unit is None):
        problem("mailboxScope", "needs exactly one of groupAddress or administrativeUnitId", example)
        return None
    if group is not None and (not isinstance(group, str) or not _EMAIL.match(group)):
        problem("mailboxScope.groupAddress", f"{group!r} is not an e-mail address of a mail-enabled security group", "mytimetable-calendars@example.edu")
        return None
    if unit is not None and (not isinstance(unit, str) or not _GUID.match(unit)):
        problem("mailboxScope.administrativeUnitId", f"{unit!r} is not an object ID (GUID)", "3f2504e0-4f89-11d3-9a0c-0305e82c3301")
        return None
    return MailboxScopeSettings(group_address=group, administrative_unit_id=unit.lower() if unit else None)
