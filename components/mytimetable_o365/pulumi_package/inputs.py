"""The package component's inputs: the stack config keys, typed and documented, and how they become
`Settings` through the one set of rules (rules/settings.py `parse_settings`).

The input names are the config keys without the `mytimetable-o365:` namespace (`siteUrl`,
`keystore.password`), so the TypedDicts below spell them as they are; the SDK's analyzer reads
their annotations and the docstring after each key into the package schema
(pulumi/provider/experimental/analyzer.py), and docs/configuration.md's tables are rendered from
that schema (pulumi_package/reference.py). Each docstring ends with the input's default.

Every input is a plain value except the two secrets, which a program may pass as a secret Output
(TypeScript `config.requireSecret`, a Pulumi YAML `secret: true` config): the component needs all
values known before it declares anything, as the Python program reads them from the stack config.

No `from __future__ import annotations` here: the analyzer reads the annotations as objects.
"""

import asyncio
import datetime as _dt
import re
from collections.abc import Mapping
from typing import Any, Required, TypedDict

import pulumi

from ..component.integration import IntegrationArgs
from ..rules.config_values import NAMESPACE
from ..rules.outputs import whole_numbers
from ..rules.settings import InvalidConfigError, Settings, parse_settings


class Certificate(TypedDict, total=False):
    """The certificate MyTimetable signs in with: generated and rotated by the component (the
    default), or your own."""

    keySize: int
    """RSA key size of the generated certificate: `2048`, `3072` or `4096`.

    Default: `2048`"""
    validityDays: int
    """Validity of a generated certificate in days: 1..825 (the policy pack's limit).

    Default: `730`"""
    renewBeforeDays: int
    """Days before expiry when a new certificate is made: at least 7 (time to deliver a rotated
    keystore before the old certificate expires), smaller than `validityDays`, and at least 7 days
    below it (a rotation never follows the last within a week).

    Default: `30`"""
    certificatePem: str
    """Bring your own: the PEM certificate (RSA, at least 2048 bits, not expired, valid at most 825
    days from notBefore to notAfter: the policy pack's limit, which `plan` and `preflight` check also
    when the key is a secret), together with `privateKeyPem`. A `PRIVATE KEY` PEM block in any value
    other than `privateKeyPem` is refused.

    Default: generated"""
    privateKeyPem: pulumi.Input[str]
    """Bring your own: the certificate's private key (PEM), as a secret
    (`pulumi config set --secret --path certificate.privateKeyPem < key.pem`); it must match
    `certificatePem`.

    Default: generated"""
    retiringCertificatePem: str
    """With your own certificate: the one it replaces, kept registered until you remove it
    ([operations.md](operations.md), "Replacing your own certificate"); held to the same limits as
    `certificatePem`.

    Default: none"""


class Keystore(TypedDict, total=False):
    """The Java keystore MyTimetable loads, written by a post-deploy hook."""

    format: str
    """`jks` (every Java) or `pkcs12` (Java 11.0.12+).

    Default: `jks`"""
    alias: str
    """Alias of the key entry: printable ASCII, no surrounding spaces (JKS stores it lower-case, as
    Java looks it up).

    Default: `mytimetable`"""
    password: pulumi.Input[str]
    """Secret text (quote digits: `'123456'`), at least 6 characters (keytool), no control
    characters; for `pkcs12` printable ASCII only (U+0020..U+007E: Java refuses other PKCS#12
    passwords); `jks` also takes other Unicode characters.

    Default: generated, kept in state"""
    path: str
    """Where the post-deploy hook writes the file (mode 0600): relative to the project or absolute, a
    file name ending in `.jks` (jks) or `.p12`/`.pfx` (pkcs12), no `..`, no leading `~`, no control
    characters, not longer than the file system allows once resolved; no other stack may name the
    same file (with the stack config, the program and preflight refuse it, naming both stacks); `$VAR`, `~` inside or a
    Windows path get a warning (nothing expands them). An existing file there is replaced only if it
    is a keystore.

    Default: `keystore-<stack>.jks` / `.p12`"""
    delivery: str
    """`file`: MyTimetable loads the file at `keystore.path`, and preview/up warn when it is missing
    or stale; `elsewhere`: a pipeline delivers the keystore (e.g. to Key Vault), so a missing local
    file is expected (see "Is the keystore delivered?").

    Default: `file`"""


class MailboxScope(TypedDict, total=False):
    """Scope the application permission to chosen mailboxes with Exchange Online (application mode
    only): exactly one of `groupAddress` or `administrativeUnitId`."""

    groupAddress: str
    """The e-mail address of a mail-enabled security group whose direct members' mailboxes
    MyTimetable may reach (see Mailbox scoping).

    Default: none"""
    administrativeUnitId: str
    """The object ID (GUID) of an administrative unit whose members' mailboxes MyTimetable may reach
    (see Mailbox scoping).

    Default: none"""


class IntegrationInputs(TypedDict, total=False):
    """The inputs of the MyTimetable integration: the stack config keys of the Python program."""

    siteUrl: Required[str]
    """`https://host[:port][/path]` (Entra's
    [redirect URI rules](https://learn.microsoft.com/entra/identity-platform/reply-url), RFC 3986):
    https only; host an ASCII DNS name (IDN hosts in their `xn--` form), IPv4 or `[IPv6]`; port
    1..65535 when a `:` is written; no query, fragment, user, backslash, white space or control
    characters; none of `! $ ' ( ) , ; *`; non-ASCII path characters and `%` only as `%HH`;
    redirect URI at most 256 characters.

    Default: (required)"""
    appName: str
    """Display name of the app registration and the certificate's `CN`: at most 64 characters
    (RFC 5280 `ub-common-name`; Entra allows 256), no control characters or line breaks, no
    surrounding spaces, no apostrophe (`'`: the azuread provider's duplicate-name check puts the
    name unescaped into the Graph filter `displayName eq '<name>'`, terraform-provider-azuread
    v3.9.0 `internal/services/applications/applications.go:297`, and Graph refuses it at every
    preview and update; a typographic `’` is fine).

    Default: `MyTimetable-<stack>`"""
    permissionMode: str
    """`application` or `delegated`.

    Default: `application`"""
    legacyExchangePermission: bool
    """`true` adds Office 365 Exchange Online's `Calendars.ReadWrite.All` app role (application mode
    only), which MyTimetable's manual lists for older versions. It is not an EWS permission (EWS
    app-only needs `full_access_as_app`); it belongs to the Outlook REST API, decommissioned in
    March 2024, and grants read/write to every mailbox's calendar: the program warns whenever it is
    on.

    Default: `false`"""
    adminConsent: bool
    """Grant consent: app role assignments, or the delegated scope for all users.

    Default: `true` (application), `false` (delegated)"""
    owners: list[str]
    """Object IDs (GUIDs, exactly: nothing before or after, not the all-zero GUID) of
    users/service principals owning app and service principal, besides the deploying identity; at
    most 99 (Entra allows 100 owners, the deploying identity is one); list the pipeline's service
    principal here when people deploy too ([permissions.md](permissions.md)); a pipeline then needs
    Directory.Read.All.

    Default: none"""
    deployerIsOwner: bool
    """`true`: the identity running `pulumi up` is made an owner of app and service principal (a
    pipeline with `Application.ReadWrite.OwnedBy` needs it); `false`: only `owners` (for a person
    deploying with directory roles).

    Default: `true`"""
    certificate: Certificate
    """The certificate MyTimetable signs in with."""
    keystore: Keystore
    """The Java keystore MyTimetable loads."""
    mailboxScope: MailboxScope
    """Scope the application permission to chosen mailboxes (Exchange Online)."""
    outputPrefix: str
    """Not a stack config key: for a program with several integrations, the prefix it exports this
    one's outputs under (`acc` for `accClientId`, `accKeystore`, ...), which the next run's checks
    (rotation due, keystore delivered) read back: letters and digits, starting with a letter.

    Default: none (the outputs' own names)"""


# The inputs that are no stack config key (docs/configuration.md's config table leaves them out).
PACKAGE_ONLY_INPUTS = ("outputPrefix",)


class InvalidInputsError(InvalidConfigError):
    """Inputs that cannot be deployed: the same problems the stack config gets, each naming its input."""

    def __init__(self, problems: list[str]):
        super().__init__(problems)
        self.args = ("invalid inputs, nothing was declared:\n" + "\n".join(f"  - {p}" for p in problems),)


def input_named(line: str) -> str:
    """A problem or warning of the config rules, naming the input instead of the config key: the
    rules start each line with the key in the `mytimetable-o365:` namespace (config_values.key),
    and the input is that key without it (`siteUrl`, `keystore.password`)."""
    return line.removeprefix(f"{NAMESPACE}:")


def integration_args(inputs: Mapping[str, Any], stack: str, now: _dt.datetime, stacks: tuple = ()) -> IntegrationArgs:
    """The component's arguments: the settings, and the output prefix; every problem of both at once."""
    config = {k: v for k, v in inputs.items() if k not in PACKAGE_ONLY_INPUTS}
    prefix, _, unknown = plain_inputs({k: v for k, v in inputs.items() if k in PACKAGE_ONLY_INPUTS})
    output_prefix = prefix.get("outputPrefix", "")
    problems = [f"{path}: is not known before the deployment; give a literal or a config value" for path in unknown]
    if not isinstance(output_prefix, str) or not re.fullmatch(r"([A-Za-z][A-Za-z0-9]*)?", output_prefix):
        problems.append(f"outputPrefix: {output_prefix!r} is not letters and digits starting with a letter; for example: acc")
    try:
        settings = settings_from_inputs(config, stack, now, stacks)
    except InvalidInputsError as exc:
        raise InvalidInputsError(exc.problems + problems) from None
    if problems:
        raise InvalidInputsError(problems)
    return IntegrationArgs(settings, output_prefix)


def settings_from_inputs(inputs: Mapping[str, Any], stack: str, now: _dt.datetime, stacks: tuple = ()) -> Settings:
    """Validate the component's inputs with the stack config's rules; InvalidInputsError names each input."""
    raw, secret, unknown = plain_inputs(inputs)
    if unknown:
        raise InvalidInputsError([f"{path}: is not known before the deployment (another resource's output?); the "
                                  "component needs it to declare its resources: give a literal or a config value"
                                  for path in unknown])
    try:
        settings = parse_settings(whole_numbers(raw), stack, now, stacks, secret_keys=frozenset(secret))
    except InvalidConfigError as exc:
        raise InvalidInputsError([input_named(p) for p in exc.problems]) from None
    return settings._replace(warnings=tuple(input_named(w) for w in settings.warnings))


def plain_inputs(inputs: Mapping[str, Any]) -> tuple[dict[str, Any], set[str], list[str]]:
    """The inputs as plain values, the inputs that held a secret, and the paths of unknown values.

    A provider's Construct hands over each input that is secret or depends on a resource as an
    Output whose value is already there (pulumi/provider/server.py `_select_value`, and
    runtime/rpc.py `deserialize_output_value` for values nested in an object): both resolve the
    Output's data future before they make it. The component's constructor is synchronous and runs
    inside the provider's event loop, so it reads that resolved data rather than awaiting it; an
    Output whose data is not there yet counts as unknown, as does a value unknown in a preview.
    """
    from pulumi.output import Unknown, contains_unknowns
    from pulumi.runtime import rpc

    secret: set[str] = set()
    unknown: list[str] = []

    def plain(value: Any, top: str, path: str) -> Any:
        if isinstance(value, pulumi.Output):
            data = value._data if isinstance(value._data, asyncio.Future) and value._data.done() else None
            if data is None or data.exception() is not None or not data.result().is_known \
                    or contains_unknowns(data.result().value):
                unknown.append(path)
                return None
            if data.result().is_secret:
                secret.add(top)
            return plain(data.result().value, top, path)
        if rpc.is_rpc_secret(value):
            secret.add(top)
            return plain(rpc.unwrap_rpc_secret(value), top, path)
        if isinstance(value, Unknown):
            unknown.append(path)
            return None
        if isinstance(value, Mapping):
            return {k: plain(v, top, f"{path}.{k}") for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [plain(v, top, f"{path}[{i}]") for i, v in enumerate(value)]
        return value

    raw = {name: plain(value, name, name) for name, value in inputs.items() if value is not None}
    return raw, secret, unknown
