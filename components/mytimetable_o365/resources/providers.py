"""Dynamic resources that create the certificate credential and the keystore once and keep them.

Both providers implement `diff` explicitly, so the engine never falls back to comparing the
pickled provider, and `update` returns every output. Crypto happens only in create/update,
never in check/diff, so a no-op preview or up does no key or keystore work.

Certificate slots: the certificate resource always holds two certificates, slots "a" and "b",
each registered with Entra as its own ApplicationCertificate. `active` names the one in the
keystore. At creation "a" is active and "b" a standby. When the active certificate enters the
renewal window (or key parameters change), `update` generates a successor into the other slot
and makes it active; the predecessor stays registered until the next rotation replaces it.
So Entra accepts the certificate a running MyTimetable holds at every moment, and each
rotation replaces exactly one credential.

This module's path and the provider classes' names are recorded in every stack's state: the
engine stores each dynamic resource's provider pickled by reference in its `__provider` input
(pulumi/sdk/python/lib/pulumi/dynamic/dynamic.py, serialize_provider), and the provider host of
every later preview/up (`python -m pulumi.dynamic`, started in the project root with the stack's
virtualenv) imports exactly `mytimetable_o365.resources.providers.CertificateProvider` /
`.KeystoreProvider` to unpickle it. Moving or renaming them strands every deployed stack, so
tests/resources/test_provider_module_path.py pins them; the package must stay installed in that
virtualenv.

Each secret once in state. The active certificate's private key is held once, in its slot of the
Certificate's outputs; the standby slot keeps no key (a rotation always generates a new one into
it, so its key would never reach a keystore). The keystore bytes and their password are held once,
in the Keystore's outputs, which the post-deploy hook reads. The Keystore is built from the active
certificate and key, which the program passes as its inputs; the engine would keep them in state
as the Keystore's inputs, but it keeps what the provider's Check returns, not what the program
passed (pulumi/pulumi pkg/v3 resource/deploy/step_generator.go, generateSteps: `new.Inputs =
inputs`, the checked inputs), and passes those same checked inputs to Diff, Create and Update. So
the Keystore's Check hands the certificate, the key and a requested password over to this
process, keyed by the certificate's thumbprint and the password's digest, and returns only those
(`_hand_over`); Create and Update, which the engine sends to the same provider process in the same
deployment (one plugin per provider per deployment: resource/deploy/providers/registry.go), take
them from there. A stack deployed before keeps its standby slot's key until the next rotation:
dropping it at the upgrade would take an update of the Certificate, and the engine does not know a
dynamic resource's outputs during a preview of an update (this host answers Configure without
supportsPreview: resource/plugin/provider_plugin.go, Update, returns the new inputs as outputs), so
that preview would show both ApplicationCertificates replaced. Its Keystore is rewritten to the
new layout by the first update, with the same keystore bytes.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import threading
import uuid
from typing import Any

import pulumi
from pulumi.dynamic import CheckFailure, CheckResult, CreateResult, DiffResult, Resource, ResourceProvider, UpdateResult
from pulumi.runtime.rpc import UNKNOWN

from .. import clock
from ..rules.certificate import generate_certificate, inspect_certificate, parse_rfc3339, pem_thumbprint, rfc3339, rotation_due
from ..rules.keystore import build_keystore, stored_alias
from ..rules.keystore_config import MIN_KEYSTORE_PASSWORD
from ..rules.outputs import whole_numbers

SLOTS = ("a", "b")
CERTIFICATE_INPUTS = ("commonName", "keySize", "validityDays", "renewBeforeDays")
# A change of these asks for a new key pair: it is handled as an immediate rotation.
CERTIFICATE_KEY_INPUTS = ("commonName", "keySize", "validityDays")  # = rules.certificate.KEY_INPUTS
SLOT_FIELDS = ("CertificatePem", "PrivateKeyPem", "Thumbprint", "NotBefore", "NotAfter")
# When the slot's certificate became the active one (RFC 3339), "" if it never was: lets the
# preview warn before a rotation removes a certificate MyTimetable may still hold
# (rules.certificate.recent_rotation_warning).
ACTIVE_SINCE = "ActiveSince"
CERTIFICATE_SECRETS = [f"{slot}PrivateKeyPem" for slot in SLOTS]

# The Keystore's inputs as the engine keeps them (what its Check returns): the certificate by its
# thumbprint, a requested password by its digest (a secret still: the engine marks a checked input
# secret when the program's input was), never the key.
KEYSTORE_INPUTS = ("thumbprint", "format", "alias", "requestedPassword", "path")
KEYSTORE_CONTENT_INPUTS = ("thumbprint", "format", "alias")
KEYSTORE_SECRETS = ["keystore", "password"]
# Outputs of the layout before each secret was held once: the certificate, the key and the requested
# password, copied from the inputs. Their presence asks for one update, which drops them.
KEYSTORE_RETIRED = ("certificatePem", "privateKeyPem", "requestedPassword")


def other_slot(slot: str) -> str:
    return "b" if slot == "a" else "a"


def certificate_rotation_due(state: dict[str, Any], renew_before_days: int, now) -> bool:
    """Is the active certificate recorded in `state` inside the renewal window at `now`?"""

    not_after = state.get(f"{state.get('active', 'a')}NotAfter")
    if not not_after:
        return False
    return rotation_due(parse_rfc3339(not_after), int(renew_before_days), now)


def _new_slot(slot: str, props: dict[str, Any], now, keep_key: bool) -> dict[str, str]:
    """A new key pair and certificate for `slot`; the key is kept only for the slot that becomes
    active (see the module docstring): "" for a standby, which is never in a keystore."""
    cert_pem, key_pem = generate_certificate(
        props["commonName"], int(props["keySize"]), int(props["validityDays"]), now
    )
    info = inspect_certificate(cert_pem)
    return {
        f"{slot}CertificatePem": cert_pem,
        f"{slot}PrivateKeyPem": key_pem if keep_key else "",
        f"{slot}Thumbprint": info.thumbprint,
        f"{slot}NotBefore": rfc3339(info.not_before),
        f"{slot}NotAfter": rfc3339(info.not_after),
    }


# The Certificate's outputs that recent_rotation_warning reads; none of them is secret, so the
# program may export them and read them back next time (component/last_deployment.py).
CERTIFICATE_STATE = ("active", *CERTIFICATE_INPUTS,
                     *(f"{slot}{field}" for slot in SLOTS for field in ("Thumbprint", "NotBefore", "NotAfter", ACTIVE_SINCE)))


class CertificateProvider(ResourceProvider):
    """Generates the key pairs and self-signed certificates; rotates inside the renewal window."""

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        failures = [
            CheckFailure(name, f"{name} is required")
            for name in CERTIFICATE_INPUTS
            if news.get(name) in (None, "")
        ]
        return CheckResult(news, failures)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        changed = [name for name in CERTIFICATE_INPUTS if olds.get(name) != news.get(name)]
        due = certificate_rotation_due(olds, news["renewBeforeDays"], clock.utcnow())
        return DiffResult(changes=bool(changed) or due, replaces=[], stables=[], delete_before_replace=False)

    def create(self, props: dict[str, Any]) -> CreateResult:
        now = clock.utcnow()
        outs = {name: props[name] for name in CERTIFICATE_INPUTS}
        # The two key generations run side by side: cryptography releases the GIL while OpenSSL
        # searches for primes, so on two cores a creation waits for the slower key, not for both.
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=len(SLOTS)) as pool:
            for slot_outs in pool.map(lambda slot: _new_slot(slot, props, now, keep_key=slot == "a"), SLOTS):
                outs.update(slot_outs)
        outs["active"] = "a"
        outs[f"a{ACTIVE_SINCE}"] = rfc3339(now)
        outs[f"b{ACTIVE_SINCE}"] = ""
        return CreateResult(str(uuid.uuid4()), outs)

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        now = clock.utcnow()
        outs = {name: olds[name] for name in olds if name != "__provider"}
        outs.update({name: news[name] for name in CERTIFICATE_INPUTS})
        rekey = any(olds.get(name) != news.get(name) for name in CERTIFICATE_KEY_INPUTS)
        if rekey or certificate_rotation_due(olds, news["renewBeforeDays"], now):
            predecessor = olds.get("active", "a")
            successor = other_slot(predecessor)
            outs.update(_new_slot(successor, news, now, keep_key=True))
            outs[f"{predecessor}PrivateKeyPem"] = ""  # its keystore is replaced by this rotation's
            outs["active"] = successor
            outs[f"{successor}{ACTIVE_SINCE}"] = rfc3339(now)
        return UpdateResult(outs)


class Certificate(Resource, module="mytimetable", name="Certificate"):
    """Two-slot certificate credential material; see the module docstring."""

    active: pulumi.Output[str]

    def __init__(self, name: str, *, common_name: pulumi.Input[str], key_size: int, validity_days: int,
                 renew_before_days: int, opts: pulumi.ResourceOptions | None = None):
        props = {
            "commonName": common_name,
            "keySize": key_size,
            "validityDays": validity_days,
            "renewBeforeDays": renew_before_days,
            "active": None,
        }
        for slot in SLOTS:
            props.update({f"{slot}{f}": None for f in SLOT_FIELDS + (ACTIVE_SINCE,)})
        opts = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(additional_secret_outputs=CERTIFICATE_SECRETS))
        super().__init__(CertificateProvider(), name, props, opts)

    def state_output(self) -> pulumi.Output:
        """The non-secret outputs recent_rotation_warning needs, as one dict (for a stack output)."""
        # Whole numbers come back from the engine as floats (2048.0); the output shows them as given.
        return pulumi.Output.all(*(getattr(self, name) for name in CERTIFICATE_STATE)).apply(
            lambda values: whole_numbers(dict(zip(CERTIFICATE_STATE, values, strict=True))))

    def slot_output(self, slot: str, field: str) -> pulumi.Output:
        return getattr(self, f"{slot}{field}")

    def active_output(self, field: str) -> pulumi.Output:
        """The active slot's `field` (e.g. "CertificatePem")."""
        return self.active.apply(lambda active: self.slot_output("a" if active == "a" else "b", field))


def password_digest(password: str) -> str:
    """What the engine keeps of a requested keystore password (a secret input): its SHA-256."""
    return "sha256:" + hashlib.sha256(password.encode()).hexdigest()


# What each Check handed over to this process (see the module docstring): thumbprint -> (certificate
# PEM, private key PEM), and password digest -> password. A process serves one deployment.
_handed_over: dict[str, tuple[str, str]] = {}
_requested_passwords: dict[str, str] = {}
_hand_over_lock = threading.Lock()


def _unknown(value: Any) -> bool:
    """Not known yet: the engine's unknown sentinel in a preview (or the SDK's Unknown, as an
    engine emulator may pass it); no value at all counts too, and Create then says it was not
    handed over."""
    return value is None or (isinstance(value, str) and value == UNKNOWN) or type(value).__name__ == "Unknown"


def _hand_over(news: dict[str, Any]) -> dict[str, Any]:
    """The Keystore's inputs as the engine is to keep them: the certificate and key handed over to
    this process under the certificate's thumbprint, a requested password under its digest.
    An unknown value (a preview of an update upstream) stays unknown."""
    cert_pem, key_pem = news.get("certificatePem"), news.get("privateKeyPem")
    requested = news.get("requestedPassword") or ""
    if _unknown(cert_pem) or _unknown(key_pem):
        thumbprint = UNKNOWN
    else:
        thumbprint = pem_thumbprint(str(cert_pem))
        with _hand_over_lock:
            _handed_over[thumbprint] = (str(cert_pem), str(key_pem))
    digest = UNKNOWN if _unknown(requested) else password_digest(requested) if requested else ""
    if digest not in ("", UNKNOWN):
        with _hand_over_lock:
            _requested_passwords[digest] = requested
    checked = {"thumbprint": thumbprint, "format": news.get("format"), "alias": news.get("alias"),
               "requestedPassword": digest, "path": news.get("path")}
    return {name: checked[name] for name in KEYSTORE_INPUTS}


def _taken_over(name: str, store: dict[str, Any], key: str) -> Any:
    with _hand_over_lock:
        found = store.get(key)
    if found is None:
        raise RuntimeError(f"the keystore's {name} was not handed over to this provider process by its Check "
                           "(the engine checks a resource's inputs in the process that then creates or updates it)")
    return found


def _password_changed(olds: dict[str, Any], requested_digest: str) -> bool:
    """A requested password set, changed or removed since the keystore was built."""
    if any(name in olds for name in KEYSTORE_RETIRED):  # the earlier layout kept the request itself
        was_requested = bool(olds.get("requestedPassword"))
    else:
        was_requested = bool(olds.get("passwordRequested"))
    if not requested_digest:
        return was_requested
    return not was_requested or password_digest(olds.get("password") or "") != requested_digest


def _keystore_outputs(news: dict[str, Any], password: str) -> dict[str, Any]:
    cert_pem, key_pem = _taken_over("certificate and key", _handed_over, news["thumbprint"])
    data = build_keystore(cert_pem, key_pem, news["format"], news["alias"], password)
    return {
        "thumbprint": news["thumbprint"], "format": news["format"], "alias": news["alias"], "path": news["path"],
        "passwordRequested": bool(news.get("requestedPassword")),
        "keystore": base64.b64encode(data).decode(),
        "password": password,
        "storedAlias": stored_alias(news["format"], news["alias"]),
    }


def _password_for(news: dict[str, Any]) -> str:
    digest = news.get("requestedPassword") or ""
    return _taken_over("requested password", _requested_passwords, digest) if digest else secrets.token_urlsafe(24)


class KeystoreProvider(ResourceProvider):
    """Builds the keystore file's bytes once per certificate/format/alias/password."""

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        failures = []
        if news.get("format") not in ("jks", "pkcs12"):
            failures.append(CheckFailure("format", "format must be jks or pkcs12"))
        requested = news.get("requestedPassword") or ""
        if requested and not _unknown(requested) and len(requested) < MIN_KEYSTORE_PASSWORD:
            failures.append(CheckFailure("requestedPassword",
                                         f"a keystore password needs at least {MIN_KEYSTORE_PASSWORD} characters"))
        try:
            inputs = _hand_over(news)
        except ValueError as exc:
            return CheckResult(news, [*failures, CheckFailure("certificatePem", str(exc))])
        return CheckResult(inputs, failures)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        changed = [name for name in (*KEYSTORE_CONTENT_INPUTS, "path") if (olds.get(name) or "") != (news.get(name) or "")]
        retired = any(name in olds for name in KEYSTORE_RETIRED)
        changes = bool(changed) or retired or _password_changed(olds, news.get("requestedPassword") or "")
        return DiffResult(changes=changes, replaces=[], stables=[], delete_before_replace=False)

    def create(self, props: dict[str, Any]) -> CreateResult:
        return CreateResult(str(uuid.uuid4()), _keystore_outputs(props, _password_for(props)))

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        requested = news.get("requestedPassword") or ""
        same_content = all((olds.get(n) or "") == (news.get(n) or "") for n in KEYSTORE_CONTENT_INPUTS)
        if same_content and not _password_changed(olds, requested):
            # The same bytes (a moved destination, or the earlier layout rewritten): the hook
            # writes them again.
            return UpdateResult({
                "thumbprint": news["thumbprint"], "format": news["format"], "alias": news["alias"],
                "path": news["path"], "passwordRequested": bool(requested), "keystore": olds["keystore"],
                "password": olds["password"], "storedAlias": olds["storedAlias"]})
        if requested:
            password = _password_for(news)
        elif not _password_changed(olds, requested):
            password = olds["password"]  # a generated password stays
        else:
            password = secrets.token_urlsafe(24)
        return UpdateResult(_keystore_outputs(news, password))


class Keystore(Resource, module="mytimetable", name="Keystore"):
    """The keystore MyTimetable loads, base64 in `keystore`, with its `password`."""

    keystore: pulumi.Output[str]
    password: pulumi.Output[str]

    def __init__(self, name: str, *, certificate_pem: pulumi.Input[str], private_key_pem: pulumi.Input[str],
                 format: str, alias: str, requested_password: pulumi.Input[str], path: str,
                 opts: pulumi.ResourceOptions | None = None):
        props = {
            "certificatePem": certificate_pem,
            "privateKeyPem": pulumi.Output.secret(private_key_pem),
            "format": format,
            "alias": alias,
            "requestedPassword": pulumi.Output.secret(requested_password),
            "path": path,
            "keystore": None,
            "password": None,
            "storedAlias": None,
            "thumbprint": None,
        }
        opts = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(additional_secret_outputs=KEYSTORE_SECRETS))
        super().__init__(KeystoreProvider(), name, props, opts)
