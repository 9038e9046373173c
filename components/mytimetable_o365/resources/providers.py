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
tests/test_credentials.py pins them; the package must stay installed in that virtualenv.
"""

from __future__ import annotations

import base64
import secrets
import uuid
from typing import Any

import pulumi
from pulumi.dynamic import CheckFailure, CheckResult, CreateResult, DiffResult, Resource, ResourceProvider, UpdateResult

from .. import clock
from ..rules.certificate import generate_certificate, inspect_certificate, parse_rfc3339, rfc3339, rotation_due
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

KEYSTORE_INPUTS = ("certificatePem", "privateKeyPem", "format", "alias", "requestedPassword", "path")
KEYSTORE_CONTENT_INPUTS = ("certificatePem", "privateKeyPem", "format", "alias", "requestedPassword")
KEYSTORE_SECRETS = ["privateKeyPem", "requestedPassword", "keystore", "password"]


def other_slot(slot: str) -> str:
    return "b" if slot == "a" else "a"


def certificate_rotation_due(state: dict[str, Any], renew_before_days: int, now) -> bool:
    """Is the active certificate recorded in `state` inside the renewal window at `now`?"""

    not_after = state.get(f"{state.get('active', 'a')}NotAfter")
    if not not_after:
        return False
    return rotation_due(parse_rfc3339(not_after), int(renew_before_days), now)


def _new_slot(slot: str, props: dict[str, Any], now) -> dict[str, str]:
    cert_pem, key_pem = generate_certificate(
        props["commonName"], int(props["keySize"]), int(props["validityDays"]), now
    )
    info = inspect_certificate(cert_pem)
    return {
        f"{slot}CertificatePem": cert_pem,
        f"{slot}PrivateKeyPem": key_pem,
        f"{slot}Thumbprint": info.thumbprint,
        f"{slot}NotBefore": rfc3339(info.not_before),
        f"{slot}NotAfter": rfc3339(info.not_after),
    }


# The Certificate's outputs that recent_rotation_warning reads; none of them is secret, so the
# program may export them and read them back next time through a StackReference to itself.
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
            for slot_outs in pool.map(lambda slot: _new_slot(slot, props, now), SLOTS):
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
            successor = other_slot(olds.get("active", "a"))
            outs.update(_new_slot(successor, news, now))
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


def _keystore_outputs(props: dict[str, Any], password: str) -> dict[str, Any]:
    data = build_keystore(props["certificatePem"], props["privateKeyPem"], props["format"], props["alias"], password)
    outs = {name: props[name] for name in KEYSTORE_INPUTS}
    outs.update(
        keystore=base64.b64encode(data).decode(),
        password=password,
        storedAlias=stored_alias(props["format"], props["alias"]),
        thumbprint=inspect_certificate(props["certificatePem"]).thumbprint,
    )
    return outs


class KeystoreProvider(ResourceProvider):
    """Builds the keystore file's bytes once per certificate/format/alias/password."""

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        failures = []
        if news.get("format") not in ("jks", "pkcs12"):
            failures.append(CheckFailure("format", "format must be jks or pkcs12"))
        requested = news.get("requestedPassword") or ""
        if requested and len(requested) < MIN_KEYSTORE_PASSWORD:
            failures.append(CheckFailure("requestedPassword",
                                         f"a keystore password needs at least {MIN_KEYSTORE_PASSWORD} characters"))
        return CheckResult(news, failures)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        changed = [name for name in KEYSTORE_INPUTS if (olds.get(name) or "") != (news.get(name) or "")]
        return DiffResult(changes=bool(changed), replaces=[], stables=[], delete_before_replace=False)

    def create(self, props: dict[str, Any]) -> CreateResult:
        password = props.get("requestedPassword") or secrets.token_urlsafe(24)
        return CreateResult(str(uuid.uuid4()), _keystore_outputs(props, password))

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        if all((olds.get(n) or "") == (news.get(n) or "") for n in KEYSTORE_CONTENT_INPUTS):
            outs = {name: olds[name] for name in olds if name != "__provider"}
            outs["path"] = news["path"]  # only the destination moved: same bytes, the hook rewrites
            return UpdateResult(outs)
        requested = news.get("requestedPassword") or ""
        keep_generated = not requested and not (olds.get("requestedPassword") or "")
        password = requested or (olds["password"] if keep_generated else secrets.token_urlsafe(24))
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
