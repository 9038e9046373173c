"""Stack config in, one validated, immutable Settings out.

Every key lives in the `mytimetable-o365:` namespace. All problems are collected and
reported together, each naming its key and showing an accepted example, before the
program declares any resource.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any
from collections.abc import Mapping

from pulumi.errors import RunError

from .permissions import APPLICATION, DELEGATED, PERMISSION_MODES
from .redirect_uri import is_example_site, SITE_URL_EXAMPLE, RedirectUriError, normalise_site_url, redirect_uri_for
from .stack_names import explicit_names, stack_name_warnings

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
CERTIFICATE_KEYS = ("keySize", "validityDays", "renewBeforeDays", "certificatePem", "privateKeyPem",
                    "retiringCertificatePem")
KEYSTORE_KEYS = ("path", "format", "alias", "password", "delivery")
KEYSTORE_DELIVERIES = ("file", "elsewhere")  # elsewhere: the pipeline delivers it (e.g. Key Vault); no local-file warning
MAILBOX_SCOPE_KEYS = ("groupAddress", "administrativeUnitId")
KEY_SIZES = (2048, 3072, 4096)
KEYSTORE_FORMATS = ("jks", "pkcs12")
KEYSTORE_EXTENSIONS = {"jks": "jks", "pkcs12": "p12"}
# The file name tells MyTimetable's operators (and Java's KeyStore.getInstance(File) guessers)
# what the file is; .p12 and .pfx are the two names RFC 7292 files go by.
KEYSTORE_FILE_EXTENSIONS = {"jks": (".jks",), "pkcs12": (".p12", ".pfx")}
from .certificate import MAX_VALIDITY_DAYS, RECENT_ROTATION_DAYS  # noqa: E402  one number with the policy pack
# Entra: "A maximum of 100 owners can be added to a single application"
# (https://learn.microsoft.com/entra/identity/users/directory-service-limits-restrictions).
MAX_OWNERS = 100
NIL_GUID = "00000000-0000-0000-0000-000000000000"
# JDK keytool refuses keystore passwords under 6 characters ("Keystore password must be at
# least 6 characters", sun/security/tools/keytool/Main.java).
MIN_KEYSTORE_PASSWORD = 6
# A rotated keystore has to reach MyTimetable (make keystore, delivery, restart) before the
# predecessor expires; with renewBeforeDays 0 rotation would start at the moment of expiry.
# Our own delivery rule (README, "Certificates and rotation runbook"): at least a week.
MIN_RENEW_BEFORE_DAYS = 7
# appName becomes the certificate's subject CN: RFC 5280 Appendix A, ub-common-name INTEGER ::= 64
# (https://www.rfc-editor.org/rfc/rfc5280#appendix-A). Entra's own limit for an application's
# displayName is 256 characters (https://learn.microsoft.com/graph/api/resources/application).
MAX_APP_NAME = 64
# Linux NAME_MAX and PATH_MAX (limits.h): bytes per path component and per path.
MAX_PATH_COMPONENT_BYTES = 255
MAX_PATH_BYTES = 4095
# JKS writes an alias with DataOutputStream.writeUTF, which refuses more than 65535 bytes
# (java/io/DataOutputStream.java).
MAX_ALIAS = 65535

# re.fullmatch everywhere: "$" also matches before a trailing newline.
_GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
# Deliberately plain: one @, no spaces, a dot in the domain. Exchange resolves the rest.
_EMAIL = re.compile(r"[A-Za-z0-9.!#%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+")
# Any PEM private key block: PKCS#8 "PRIVATE KEY", "ENCRYPTED PRIVATE KEY", PKCS#1 "RSA PRIVATE
# KEY", SEC 1 "EC PRIVATE KEY", "OPENSSH PRIVATE KEY" (RFC 7468 section 2: the label is
# between "-----BEGIN " and "-----").
_PRIVATE_KEY_PEM = re.compile(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----")


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
    certificate_pem: str | None = None
    private_key_pem: str | None = field(default=None, repr=False)
    # Your previous certificate, kept registered while the new keystore is delivered (README,
    # "Replacing your own certificate"); public, so no key.
    retiring_certificate_pem: str | None = None

    @property
    def bring_your_own(self) -> bool:
        return self.certificate_pem is not None


@dataclass(frozen=True)
class KeystoreSettings:
    path: str
    format: str = "jks"
    alias: str = "mytimetable"
    password: str | None = field(default=None, repr=False)
    delivery: str = "file"


@dataclass(frozen=True)
class MailboxScopeSettings:
    group_address: str | None = None
    administrative_unit_id: str | None = None


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
    mailbox_scope: MailboxScopeSettings | None = None
    warnings: tuple[str, ...] = ()
    # The identity that runs `pulumi up` stays an owner of the app and service principal (see
    # component.integration); a person may opt out for a deployment they run themselves.
    deployer_is_owner: bool = True


def key(name: str) -> str:
    return f"{NAMESPACE}:{name}"


def parse_settings(raw: Mapping[str, Any], stack: str, now: _dt.datetime, stacks: tuple = (),
                   secret_keys: frozenset | None = None) -> Settings:
    """Validate raw config values (strings, or JSON strings for lists and objects).

    `now` is only used to judge a brought-your-own certificate's expiry; `stacks` are the
    project's stack names, so that a name copied from another stack is recognised; `secret_keys`
    are the (unprefixed) keys the stack file holds as `secure:` values, when known: a keystore
    password or private key outside them is plain text in a file that is committed.
    """
    problems: list[str] = []
    warnings: list[str] = []
    # Keys whose value holds private key material: reported once, without the value, and
    # no other message about them may quote it.
    tainted = _private_key_material(raw)

    def problem(name: str, text: str, example: str) -> None:
        if any(name == t or name.startswith(t + ".") or t.startswith(name + ".") for t in tainted):
            return
        problems.append(f"{key(name)}: {text}; for example: {example}")

    for name in tainted:
        problems.append(
            f"{key(name)}: holds private key material (a PEM '-----BEGIN ... PRIVATE KEY-----' block); a private "
            "key belongs only in certificate.privateKeyPem, set as a secret; for example: "
            "pulumi config set --secret --path 'certificate.privateKeyPem' < key.pem"
        )

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
            problem("siteUrl", f"{_redacted(str(site_url))!r} is not usable: {exc}", SITE_URL_EXAMPLE)
        else:
            if is_example_site(site_url):
                warnings.append(f"{key('siteUrl')}: {site_url} is still an example (a name reserved by RFC 2606, "
                                "nobody's site): set it to your MyTimetable site before deploying")

    app_name = raw.get("appName")
    if app_name is None:
        app_name = f"MyTimetable-{stack}"
    name_problem = _app_name_problem(app_name)
    if name_problem:
        problem("appName", name_problem, "MyTimetable-prod")

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
    owners_example = '["3f2504e0-4f89-11d3-9a0c-0305e82c3301"]'
    owners_raw = _structured(raw, "owners", list, problem, owners_example)
    if owners_raw is not None:
        bad = [o for o in owners_raw if not isinstance(o, str) or not _GUID.fullmatch(o)]
        unique = {o.lower() for o in owners_raw if isinstance(o, str)}
        if bad:
            problem("owners", f"{bad!r} are not object IDs (GUIDs)", owners_example)
        elif NIL_GUID in unique:
            problem("owners", "holds the all-zero GUID, which is no directory object", owners_example)
        elif len(unique) + 1 > MAX_OWNERS:  # + the deploying identity, which the program adds
            problem("owners", f"lists {len(unique)} owners; with the deploying identity that is more than Entra's "
                    f"{MAX_OWNERS} per application (directory service limits)", owners_example)
        else:
            owners = tuple(sorted(unique))

    deployer_is_owner = _boolean(raw, "deployerIsOwner", True, problem)
    certificate = _certificate(raw, now, problem, warnings)
    keystore = _keystore(raw, stack, problem, warnings)
    if secret_keys is not None:
        warnings.extend(_plain_text_secrets(raw, secret_keys))
    scope = _mailbox_scope(raw, mode, problem)

    if scope is not None and consent:
        warnings.append(
            f"{key('mailboxScope')}: while adminConsent grants Microsoft Graph Calendars.ReadWrite tenant-wide, "
            "Exchange's RBAC for Applications scope adds to it and does not restrict it: run the "
            "mailboxScopeScript, then set adminConsent: false (or use the script's legacy policy variant)"
        )
    warnings += stack_name_warnings(stack, *explicit_names(raw), stacks)
    if problems:
        raise InvalidConfigError(problems)
    return Settings(
        stack=stack,
        site_url=str(site_url or ""),
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
    if "renewBeforeDays" in value and renew < MIN_RENEW_BEFORE_DAYS:
        problem(
            "certificate.renewBeforeDays",
            f"{renew} days is too short to deliver a rotated keystore to MyTimetable before the old certificate "
            f"expires (0 would start rotation at the moment of expiry); at least {MIN_RENEW_BEFORE_DAYS}",
            "30",
        )
    elif renew >= validity:
        problem(
            "certificate.renewBeforeDays",
            f"{renew} must be smaller than certificate.validityDays ({validity})",
            "30",
        )
    elif validity - renew < RECENT_ROTATION_DAYS:
        problem(
            "certificate.renewBeforeDays",
            f"rotates every {validity - renew} days (validityDays {validity} - renewBeforeDays {renew}), sooner than "
            f"a rotated keystore may take to reach MyTimetable ({RECENT_ROTATION_DAYS} days): each rotation would remove "
            "the certificate MyTimetable still uses",
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
            info = inspect_own_certificate(cert_pem, str(key_pem), now)
        except CertificateProblem as exc:
            problem(f"certificate.{exc.field}", str(exc), exc.example)
        else:
            if rotation_due(info.not_after, renew, now):
                warnings.append(
                    f"{key('certificate.certificatePem')}: the certificate {info.thumbprint} expires "
                    f"{info.not_after.isoformat()}, within renewBeforeDays ({renew}); replace it "
                    "(or remove certificatePem/privateKeyPem to let the stack generate and rotate one)"
                )
    retiring = _retiring_certificate(value, cert_pem, problem)
    return CertificateSettings(key_size, validity, renew, cert_pem, key_pem, retiring)


def _retiring_certificate(value: dict, cert_pem, problem) -> str | None:
    """certificate.retiringCertificatePem: the certificate being replaced, kept registered in the
    same up so that MyTimetable, still holding the old keystore, keeps signing in (Entra accepts
    any registered keyCredential; https://learn.microsoft.com/entra/identity-platform/certificate-credentials)."""
    retiring = value.get("retiringCertificatePem")
    if retiring is None:
        return None
    example = "pulumi config set --path 'certificate.retiringCertificatePem' < previous-cert.pem"
    if cert_pem is None:
        problem("certificate.retiringCertificatePem", "is only for replacing your own certificate "
                "(set it next to certificatePem and privateKeyPem)", example)
        return None
    from .certificate import inspect_certificate

    try:
        old, new = inspect_certificate(str(retiring)), inspect_certificate(str(cert_pem))
    except (ValueError, TypeError):
        problem("certificate.retiringCertificatePem", "is not a PEM certificate", example)
        return None
    if old.thumbprint == new.thumbprint:
        problem("certificate.retiringCertificatePem", f"is the same certificate as certificatePem ({new.thumbprint}); "
                "remove it once the new keystore is delivered", example)
        return None
    return str(retiring)


_USERINFO = re.compile(r"^(?P<head>[^/?#]*?//|)(?P<user>[^/?#@:]*):(?P<password>[^/?#]*)@")


def _redacted(url: str) -> str:
    """The URL as an error may quote it: a password in user:password@ is never echoed."""
    return _USERINFO.sub(lambda m: f"{m.group('head')}{m.group('user')}:***@", url, count=1)


def _plain_text_secrets(raw: Mapping[str, Any], secret_keys: frozenset) -> list[str]:
    """Warnings for a keystore password or private key written in plain text in the stack file."""
    said = []
    for top, sub, command in (("keystore", "password", "pulumi config set --secret --path 'keystore.password' '<password>'"),
                              ("certificate", "privateKeyPem", "pulumi config set --secret --path 'certificate.privateKeyPem' < key.pem")):
        value = raw.get(top)
        if isinstance(value, str) and value[:1] == "{":
            try:
                value = json.loads(value)
            except ValueError:
                value = None
        if isinstance(value, dict) and value.get(sub) not in (None, "") and top not in secret_keys:
            said.append(f"{key(top + '.' + sub)} is plain text in the stack file, which is committed to Git: set it as a "
                        f"secret instead: {command}")
    return said


_VARIABLE = re.compile(r"\$\w+|\$\{[^}]*\}|%\w+%")
_WINDOWS_DRIVE = re.compile(r"^[A-Za-z]:[\\/]")


def _path_warnings(path: str) -> list[str]:
    """Legal file names that are almost surely a mistake: nothing expands variables or ~, and a
    Windows path names a relative file here."""
    said = []
    variable = _VARIABLE.search(path)
    if variable:
        said.append(f"{path!r} holds {variable.group(0)}, which nothing expands (Pulumi runs no shell): "
                    "the file would be written under that literal name; give the path itself")
    if "~" in path.split("/", 1)[0] or "/~" in path:
        said.append(f"{path!r} holds ~, which nothing expands; give the path itself")
    if _WINDOWS_DRIVE.match(path) or "\\" in path:
        said.append(f"{path!r} looks like a Windows path; on this machine it names a file relative to the project; "
                    "use / and the path where the program runs")
    return said


def _keystore(raw, stack, problem, warnings=None) -> KeystoreSettings:
    warnings = [] if warnings is None else warnings
    example = '{"format": "jks", "alias": "mytimetable", "path": "keystore-prod.jks"}'
    value = _structured(raw, "keystore", dict, problem, example) or {}
    _unknown_subkeys("keystore", value, KEYSTORE_KEYS, problem, example)
    fmt = value.get("format", "jks")
    if fmt not in KEYSTORE_FORMATS:
        problem("keystore.format", f"{fmt!r} is not one of jks, pkcs12", "jks")
        fmt = "jks"
    alias = value.get("alias", "mytimetable")
    alias_problem = _alias_problem(alias)
    if alias_problem:
        problem("keystore.alias", alias_problem, "mytimetable")
    password = value.get("password")
    password_problem = None if password is None else _password_problem(password, fmt)
    if password_problem:
        problem(
            "keystore.password",
            password_problem,
            "pulumi config set --secret --path 'keystore.password' 'long-random-text'",
        )
    path = value.get("path", f"keystore-{stack}.{KEYSTORE_EXTENSIONS[fmt]}")
    path_problem = _path_problem(path, fmt)
    if path_problem:
        problem("keystore.path", path_problem, f"keystore-{stack}.{KEYSTORE_EXTENSIONS[fmt]}")
    if not path_problem:
        for warning in _path_warnings(path):
            warnings.append(f"{key('keystore.path')}: {warning}")
    delivery = value.get("delivery", "file")
    if delivery not in KEYSTORE_DELIVERIES:
        problem("keystore.delivery", f"{delivery!r} is not one of file, elsewhere", "elsewhere")
        delivery = "file"
    return KeystoreSettings(path=path, format=fmt, alias=alias, password=password, delivery=delivery)


def _control_characters(text: str) -> bool:
    """C0/C1 controls and DEL (Unicode category Cc), line/paragraph separators, lone surrogates."""
    return any(unicodedata.category(ch) in ("Cc", "Zl", "Zp", "Cs") for ch in text)


def _printable_ascii(text: str) -> bool:
    return all(0x20 <= ord(ch) <= 0x7E for ch in text)


def _app_name_problem(name) -> str | None:
    if not isinstance(name, str) or not name.strip() or name != name.strip():
        return "must be a non-empty name without surrounding spaces"
    if _control_characters(name):
        # It is the display name, the certificate's CN and a line of the mailbox scope script.
        return "contains control characters (newline, tab, NUL, ...), which a display name cannot hold"
    if len(name) > MAX_APP_NAME:
        return (f"is {len(name)} characters long; it becomes the certificate's subject CN, which RFC 5280 "
                f"limits to {MAX_APP_NAME} (ub-common-name)")
    hidden = sorted({f"U+{ord(ch):04X}" for ch in name if unicodedata.category(ch) == "Cf"})
    if hidden:
        # Format characters (zero-width space/joiner, BOM, bidi overrides such as U+202E) make a name
        # look like another in the portal and in the Exchange script (Unicode TR #36, 2.1/2.3).
        return f"contains invisible or text-direction characters ({', '.join(hidden)}) that make it look like another name"
    return None


def _alias_problem(alias) -> str | None:
    # Java's JKS looks aliases up lower-cased with Locale.ENGLISH (sun/security/provider/
    # JavaKeyStore.java, convertAlias), which agrees with the lower-casing of the stored alias
    # only for ASCII, and reads them with DataInputStream.readUTF (modified UTF-8), which the
    # JKS writer does not produce beyond U+FFFF: proven with the JVM in tests/test_java_rules.py.
    if not isinstance(alias, str) or not alias.strip():
        return "must be a non-empty name"
    if alias != alias.strip():
        return "must not start or end with spaces"
    if not _printable_ascii(alias):
        return ("may hold printable ASCII only (letters, digits, punctuation, inner spaces): Java's JKS "
                "lower-cases aliases for ASCII only and cannot read other characters everywhere")
    if len(alias) > MAX_ALIAS:
        return f"is longer than {MAX_ALIAS} characters, the most a JKS alias can hold"
    return None


def _password_problem(password, fmt: str) -> str | None:
    """What is wrong with a requested keystore password; never quotes it."""
    if isinstance(password, bool) or isinstance(password, (int, float)):
        return ("is a number or true/false, not text (YAML reads unquoted digits as a number); "
                "quote it, or better set it with `pulumi config set --secret`")
    if not isinstance(password, str):
        return "must be text"
    if len(password) < MIN_KEYSTORE_PASSWORD:
        return f"must be at least {MIN_KEYSTORE_PASSWORD} characters (Java's keytool refuses shorter)"
    if _control_characters(password):
        # NUL cannot be passed in argv or the environment at all, and keytool reads a password
        # typed or from -storepass:file up to the first line end.
        return "contains control characters (NUL, tab, newline, ...), which keytool cannot be given"
    if fmt == "pkcs12" and not _printable_ascii(password):
        # com/sun/crypto/provider/PBEKey.java of Java 11 and 17 (used by PKCS12KeyStore for PBES2)
        # refuses every character outside U+0020..U+007E: "Password is not ASCII". JDK 25 encodes
        # the password as UTF-8 instead (sun/security/util/PBEUtil.encodePassword), but MyTimetable
        # may run on any Java from 11.0.12 on. Proven with JDK 17 and keytool in tests/test_java_rules.py.
        return ("holds characters outside printable ASCII (U+0020..U+007E); Java cannot open a PKCS#12 "
                "keystore with such a password ('Password is not ASCII'); use printable ASCII, or format jks")
    return None


def _path_problem(path, fmt: str) -> str | None:
    """Where the post-deploy hook may write: a keystore file name, in the project or absolute."""
    extensions = KEYSTORE_FILE_EXTENSIONS[fmt]
    if not isinstance(path, str) or not path.strip():
        return "must be a file path"
    if _control_characters(path):
        return "contains control characters (newline, tab, NUL, ...)"
    if path.startswith("~"):
        # Pulumi does not run a shell: "~/x.jks" would become a folder literally named "~".
        return "starts with ~, which is not expanded; give a path relative to the project, or an absolute one"
    parts = path.split("/")
    if ".." in parts:
        return "contains .., which could point outside the project; give the path without .."
    name = parts[-1]
    if name in ("", "."):
        return "names a folder; it must name the keystore file"
    if any(len(part.encode("utf-8", "surrogatepass")) > MAX_PATH_COMPONENT_BYTES for part in parts) or \
            len(path.encode("utf-8", "surrogatepass")) > MAX_PATH_BYTES:
        return f"is too long for the file system ({MAX_PATH_COMPONENT_BYTES} bytes per name, {MAX_PATH_BYTES} in all)"
    resolved = os.path.abspath(path)  # relative paths land in the project folder, where the program runs
    if any(len(part.encode("utf-8", "surrogatepass")) > MAX_PATH_COMPONENT_BYTES for part in resolved.split("/")) or \
            len(resolved.encode("utf-8", "surrogatepass")) > MAX_PATH_BYTES:
        return (f"resolves to {len(resolved.encode('utf-8', 'surrogatepass'))} bytes, too long for the file system "
                f"({MAX_PATH_COMPONENT_BYTES} bytes per name, {MAX_PATH_BYTES} in all: Linux NAME_MAX and PATH_MAX)")
    if not any(name.lower().endswith(ext) and len(name) > len(ext) for ext in extensions):
        return (f"must be a file name ending in {' or '.join(extensions)} for keystore.format {fmt} "
                "(so that no other file is taken for the keystore)")
    return None


def _private_key_material(raw: Mapping[str, Any]) -> list[str]:
    """Config keys (dotted) whose value holds a PEM private key, except certificate.privateKeyPem."""
    found: list[str] = []

    def scan(name: str, value: Any) -> None:
        if name == "certificate.privateKeyPem":
            return
        if isinstance(value, str):
            structured = None
            if name in ("certificate", "keystore", "mailboxScope", "owners") and value[:1] in "[{":
                try:
                    structured = json.loads(value)
                except ValueError:
                    structured = None
            if structured is not None:
                scan(name, structured)
            elif _PRIVATE_KEY_PEM.search(value):
                found.append(name)
        elif isinstance(value, dict):
            for sub, item in value.items():
                scan(f"{name}.{sub}", item)
        elif isinstance(value, list):
            if any(_PRIVATE_KEY_PEM.search(item) for item in _strings(value)):
                found.append(name)

    for name, value in raw.items():
        scan(str(name), value)
    return sorted(found)


def _strings(value: Any):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _mailbox_scope(raw, mode, problem) -> MailboxScopeSettings | None:
    example = '{"groupAddress": "mytimetable-calendars@school.example"}'
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
    if group is not None and (not isinstance(group, str) or not _EMAIL.fullmatch(group)):
        problem("mailboxScope.groupAddress", f"{group!r} is not an e-mail address of a mail-enabled security group",
                "mytimetable-calendars@school.example")
        return None
    if unit is not None and (not isinstance(unit, str) or not _GUID.fullmatch(unit)):
        problem("mailboxScope.administrativeUnitId", f"{unit!r} is not an object ID (GUID)", "3f2504e0-4f89-11d3-9a0c-0305e82c3301")
        return None
    return MailboxScopeSettings(group_address=group, administrative_unit_id=unit.lower() if unit else None)
