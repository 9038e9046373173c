"""Stack config in, one validated, immutable Settings out.

Every key lives in the `mytimetable-o365:` namespace. All problems are collected and
reported together, each naming its key and showing an accepted example, before the
program declares any resource.
"""

from __future__ import annotations

import datetime as _dt
import re
import unicodedata
from collections.abc import Mapping
from typing import Any, NamedTuple

# The concepts of the config, one module each.
from .certificate_config import CertificateSettings, certificate_settings
from .config_values import boolean, control_characters, key, structured, unknown_subkeys
from .keystore_config import KeystoreSettings, keystore_settings
from .permissions import APPLICATION, MODES, PERMISSION_MODES
from .redirect_uri import SITE_URL_EXAMPLE, RedirectUriError, is_example_site, normalise_site_url, redirect_uri_for
from .secret_scan import plain_text_secrets, private_key_material, redacted
from .stack_names import explicit_names, stack_name_warnings

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
MAILBOX_SCOPE_KEYS = ("groupAddress", "administrativeUnitId")
# Entra: "A maximum of 100 owners can be added to a single application"
# (https://learn.microsoft.com/entra/identity/users/directory-service-limits-restrictions).
MAX_OWNERS = 100
NIL_GUID = "00000000-0000-0000-0000-000000000000"
# appName becomes the certificate's subject CN: RFC 5280 Appendix A, ub-common-name INTEGER ::= 64
# (https://www.rfc-editor.org/rfc/rfc5280#appendix-A). Entra's own limit for an application's
# displayName is 256 characters (https://learn.microsoft.com/graph/api/resources/application).
MAX_APP_NAME = 64
# The azuread provider's duplicate-name check (prevent_duplicate_names, which the program sets) puts
# the display name into a Graph filter unescaped: fmt.Sprintf("displayName eq '%s'", displayName)
# (terraform-provider-azuread v3.9.0 = commit df2a07a33712, the one pulumi-azuread 6.11.1 pins,
# internal/services/applications/applications.go:297, applicationFindByName). An apostrophe ends
# the OData string literal early, Graph answers 400, and the check runs at every preview of a new
# app (CustomizeDiff) and at every update of it, so such a name could never be deployed or changed.
APOSTROPHE_PROBLEM = (
    "contains an apostrophe ('), which the azuread provider puts unescaped into the Graph filter of its "
    "duplicate-name check (displayName eq '<name>', terraform-provider-azuread v3.9.0 "
    "internal/services/applications/applications.go:297): Graph refuses that filter, so every preview and "
    "update of the app would fail; leave the apostrophe out (a typographic one, U+2019, is fine)"
)

# re.fullmatch everywhere: "$" also matches before a trailing newline. Patterns, not compiled
# objects: re compiles (and caches) one at its first use, so a stack with no owners and no mailbox
# scope never pays the compile at import (about 0.3 ms each, valgrind).
_GUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
# Deliberately plain: one @, no spaces, a dot in the domain. Exchange resolves the rest.
_EMAIL = r"[A-Za-z0-9.!#%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+"


class InvalidConfigError(Exception):
    """Stack config that cannot be deployed; `problems` holds one line per key.

    Pure, as the rules are: inside a Pulumi program `load_settings` raises it as
    component.config.InvalidStackConfigError, also a pulumi RunError, which Pulumi prints without a
    Python traceback; `plan` and `preflight` catch it without loading the Pulumi SDK.
    """

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__(
            "invalid stack config, nothing was declared:\n" + "\n".join(f"  - {p}" for p in problems)
        )


class MailboxScopeSettings(NamedTuple):
    group_address: str | None = None
    administrative_unit_id: str | None = None


class Settings(NamedTuple):
    """One stack's validated configuration (parse_settings)."""
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
    tainted = private_key_material(raw)

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
            problem("siteUrl", f"{redacted(str(site_url))!r} is not usable: {exc}", SITE_URL_EXAMPLE)
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

    legacy = boolean(raw, "legacyExchangePermission", False, problem)
    if legacy and MODES[mode].legacy_exchange is None:
        problem(
            "legacyExchangePermission",
            "is an application permission and cannot be combined with permissionMode delegated",
            "false",
        )
    consent = boolean(raw, "adminConsent", MODES[mode].consent_by_default, problem)

    owners: tuple[str, ...] = ()
    owners_example = '["3f2504e0-4f89-11d3-9a0c-0305e82c3301"]'
    owners_raw = structured(raw, "owners", list, problem, owners_example)
    if owners_raw is not None:
        bad = [o for o in owners_raw if not isinstance(o, str) or not re.fullmatch(_GUID, o)]
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

    deployer_is_owner = boolean(raw, "deployerIsOwner", True, problem)
    certificate = certificate_settings(raw, now, problem, warnings)
    keystore = keystore_settings(raw, stack, problem, warnings)
    if secret_keys is not None:
        warnings.extend(plain_text_secrets(raw, secret_keys))
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


def _app_name_problem(name) -> str | None:
    if not isinstance(name, str) or not name.strip() or name != name.strip():
        return "must be a non-empty name without surrounding spaces"
    if control_characters(name):
        # It is the display name, the certificate's CN and a line of the mailbox scope script.
        return "contains control characters (newline, tab, NUL, ...), which a display name cannot hold"
    if "'" in name:
        return APOSTROPHE_PROBLEM
    if len(name) > MAX_APP_NAME:
        return (f"is {len(name)} characters long; it becomes the certificate's subject CN, which RFC 5280 "
                f"limits to {MAX_APP_NAME} (ub-common-name)")
    hidden = sorted({f"U+{ord(ch):04X}" for ch in name if unicodedata.category(ch) == "Cf"})
    if hidden:
        # Format characters (zero-width space/joiner, BOM, bidi overrides such as U+202E) make a name
        # look like another in the portal and in the Exchange script (Unicode TR #36, 2.1/2.3).
        return f"contains invisible or text-direction characters ({', '.join(hidden)}) that make it look like another name"
    return None


def _mailbox_scope(raw, mode, problem) -> MailboxScopeSettings | None:
    example = '{"groupAddress": "mytimetable-calendars@school.example"}'
    value = structured(raw, "mailboxScope", dict, problem, example)
    if value is None:
        return None
    unknown_subkeys("mailboxScope", value, MAILBOX_SCOPE_KEYS, problem, example)
    if not MODES[mode].mailbox_scoping:
        problem("mailboxScope", "only applies to permissionMode application (delegated users reach only their own calendars)", "remove mailboxScope")
        return None
    group = value.get("groupAddress")
    unit = value.get("administrativeUnitId")
    if (group is None) == (unit is None):
        problem("mailboxScope", "needs exactly one of groupAddress or administrativeUnitId", example)
        return None
    if group is not None and (not isinstance(group, str) or not re.fullmatch(_EMAIL, group)):
        problem("mailboxScope.groupAddress", f"{group!r} is not an e-mail address of a mail-enabled security group",
                "mytimetable-calendars@school.example")
        return None
    if unit is not None and (not isinstance(unit, str) or not re.fullmatch(_GUID, unit)):
        problem("mailboxScope.administrativeUnitId", f"{unit!r} is not an object ID (GUID)", "3f2504e0-4f89-11d3-9a0c-0305e82c3301")
        return None
    return MailboxScopeSettings(group_address=group, administrative_unit_id=unit.lower() if unit else None)
