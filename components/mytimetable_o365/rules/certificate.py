"""X.509 certificate material for the app credential: generate, inspect, judge rotation.

Pure functions. `cryptography` is imported inside them so that a program evaluation that
needs no certificate work never loads it.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import re
from typing import NamedTuple

# Generated-certificate inputs whose change asks for a new key pair: an immediate rotation.
KEY_INPUTS = ("commonName", "keySize", "validityDays")
# How long a rotated keystore may take to reach MyTimetable (delivery and restart): a rotation
# sooner than this after the previous one may remove the certificate MyTimetable still runs with.
# The same week as the minimum renewBeforeDays (rules/settings.py, README runbook).
RECENT_ROTATION_DAYS = 7
# The longest certificate validity the project accepts, in days: one number, read by the config
# check (rules/settings.py) and the mandatory policy pack (policy/rules.py). 825 days is the
# CA/Browser Forum's former ceiling for TLS certificates (Baseline Requirements 6.3.2, 2018-2020),
# long enough for a two-year rotation cycle with a month's renewal window.
MAX_VALIDITY_DAYS = 825

# "Microsoft Entra ID currently supports only RSA", with "a 2048-bit key length" highly recommended
# (https://learn.microsoft.com/entra/identity-platform/howto-create-self-signed-certificate).
MIN_RSA_KEY_SIZE = 2048


# SHA-256 digests of the private key encodings (PEM text, DER PKCS#8) that this process generated
# itself or already loaded with cryptography's full RSA key validation. Loading one of these again
# skips that validation (`unsafe_skip_rsa_key_validation`, cryptography >= 40), which costs as
# much as generating a 2048-bit key: a key is checked once per process, never trusted unseen.
# Only digests are kept, never key material.
_CHECKED_KEYS: set = set()


def _key_digest(encoded: bytes) -> bytes:
    return hashlib.sha256(encoded).digest()


def remember_checked_key(*encodings: bytes) -> None:
    """Record key encodings this process generated or fully validated (see _CHECKED_KEYS)."""
    _CHECKED_KEYS.update(_key_digest(e) for e in encodings)


def load_private_key(encoded: bytes, der: bool = False):
    """An unencrypted private key from PEM (or DER PKCS#8) bytes.

    The RSA key validation runs unless this process generated these exact bytes or already
    validated them (a brought-your-own key is validated at its first load, e.g. when the settings
    are checked). ValueError/TypeError as cryptography raises them for what does not parse.
    """
    from cryptography.hazmat.primitives import serialization

    digest = _key_digest(encoded)
    load = serialization.load_der_private_key if der else serialization.load_pem_private_key
    key = load(encoded, password=None, unsafe_skip_rsa_key_validation=digest in _CHECKED_KEYS)
    _CHECKED_KEYS.add(digest)
    return key


class CertificateProblem(ValueError):
    """A brought-your-own certificate that cannot be used; `field` is the config sub-key."""

    def __init__(self, field: str, message: str, example: str):
        super().__init__(message)
        self.field = field
        self.example = example


class CertificateInfo(NamedTuple):
    subject: str
    thumbprint: str  # SHA-1, upper-case hex, as the Entra portal shows it
    thumbprint_sha256: str
    not_before: _dt.datetime
    not_after: _dt.datetime
    key_size: int


def new_rsa_key(key_size: int):
    """A fresh RSA private key (e = 65537). The test suite draws these from a pool of pre-generated
    keys (tests/conftest.py), except where generation itself is tested."""
    from cryptography.hazmat.primitives.asymmetric import rsa

    return rsa.generate_private_key(public_exponent=65537, key_size=key_size)


def generate_certificate(
    common_name: str, key_size: int, validity_days: int, not_before: _dt.datetime
) -> tuple[str, str]:
    """A new RSA key and a self-signed SHA-256 certificate `CN=<common_name>`, as PEM texts."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    key = new_rsa_key(key_size)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    start = not_before.astimezone(_dt.timezone.utc).replace(microsecond=0)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + _dt.timedelta(days=validity_days))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True, content_commitment=False, key_encipherment=True,
                data_encipherment=False, key_agreement=False, key_cert_sign=False,
                crl_sign=False, encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_pem = certificate.public_bytes(serialization.Encoding.PEM).decode()
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    remember_checked_key(key_pem.encode())  # generated here: loading it again needs no validation
    return cert_pem, key_pem


def inspect_certificate(cert_pem: str) -> CertificateInfo:
    """Subject, thumbprints and validity of a PEM certificate (ValueError if it is not one)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes

    certificate = x509.load_pem_x509_certificate(cert_pem.encode())
    public_key = certificate.public_key()
    return CertificateInfo(
        subject=certificate.subject.rfc4514_string(),
        thumbprint=certificate.fingerprint(hashes.SHA1()).hex().upper(),
        thumbprint_sha256=certificate.fingerprint(hashes.SHA256()).hex().upper(),
        not_before=certificate.not_valid_before_utc,
        not_after=certificate.not_valid_after_utc,
        key_size=getattr(public_key, "key_size", 0),
    )


_PEM_CERTIFICATE = re.compile(r"-----BEGIN CERTIFICATE-----\s*([A-Za-z0-9+/=\s]+?)\s*-----END CERTIFICATE-----")


def pem_thumbprint(cert_pem: str) -> str:
    """The SHA-1 thumbprint (upper-case hex) of the first certificate in a PEM text, as
    inspect_certificate gives it, without loading `cryptography`: the SHA-1 of the DER bytes the
    PEM block holds (RFC 7468). ValueError when there is no well-formed block."""
    import base64
    import binascii

    match = _PEM_CERTIFICATE.search(cert_pem) if isinstance(cert_pem, str) else None
    if match is None:
        raise ValueError("is not a PEM certificate (-----BEGIN CERTIFICATE-----)")
    try:
        der = base64.b64decode("".join(match.group(1).split()), validate=True)
    except binascii.Error as exc:
        raise ValueError(f"is not a PEM certificate ({exc})") from None
    return hashlib.sha1(der).hexdigest().upper()


def inspect_own_certificate(cert_pem: str, key_pem: str, now: _dt.datetime) -> CertificateInfo:
    """Check a brought-your-own certificate and key; CertificateProblem names what is wrong."""
    from cryptography.hazmat.primitives.asymmetric import rsa

    cert_example = "pulumi config set --path 'certificate.certificatePem' < certificate.pem"
    key_example = "pulumi config set --secret --path 'certificate.privateKeyPem' < key.pem"
    if not isinstance(cert_pem, str) or "BEGIN CERTIFICATE" not in cert_pem:
        raise CertificateProblem("certificatePem", "is not a PEM certificate (-----BEGIN CERTIFICATE-----)", cert_example)
    try:
        info = inspect_certificate(cert_pem)
    except ValueError as exc:
        raise CertificateProblem("certificatePem", f"does not parse as an X.509 certificate ({exc})", cert_example) from None
    try:
        key = load_private_key(str(key_pem).encode())  # fully validated, unless this process already did
    except (ValueError, TypeError) as exc:
        raise CertificateProblem(
            "privateKeyPem", f"does not parse as an unencrypted PEM private key ({exc})", key_example
        ) from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise CertificateProblem(
            "privateKeyPem", "is not an RSA key; Entra accepts only RSA keys for certificate credentials", key_example
        )
    if key.key_size < MIN_RSA_KEY_SIZE:
        raise CertificateProblem(
            "privateKeyPem", f"is a {key.key_size}-bit RSA key; Entra requires at least {MIN_RSA_KEY_SIZE} bits", key_example
        )
    from cryptography import x509

    cert_public = x509.load_pem_x509_certificate(cert_pem.encode()).public_key()
    if not isinstance(cert_public, rsa.RSAPublicKey) or cert_public.public_numbers() != key.public_key().public_numbers():
        raise CertificateProblem("privateKeyPem", "does not belong to certificate.certificatePem", key_example)
    if info.not_after <= now:
        raise CertificateProblem(
            "certificatePem", f"expired on {info.not_after.isoformat()}", cert_example
        )
    if info.not_before > now:
        # Entra registers it, but MyTimetable's token requests fail until then (AADSTS700027).
        raise CertificateProblem(
            "certificatePem", f"is not valid yet: its validity starts {info.not_before.isoformat()}", cert_example
        )
    return info


def renewal_start(not_after: _dt.datetime, renew_before_days: int) -> _dt.datetime:
    """When the renewal window of a certificate ending at `not_after` opens."""
    return not_after - _dt.timedelta(days=renew_before_days)


def rotation_due(not_after: _dt.datetime, renew_before_days: int, now: _dt.datetime) -> bool:
    """True once `now` is within `renew_before_days` of the certificate's end."""
    return now >= renewal_start(not_after, renew_before_days)


def rfc3339(moment: _dt.datetime) -> str:
    """`2026-11-24T09:06:13Z`: the form Entra and the azuread provider take for credential dates."""
    return moment.astimezone(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


# The one form rfc3339() writes. ASCII digits only ([0-9], not \d, which takes any Unicode digit).
_RFC3339_UTC = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})Z")


def parse_rfc3339(text: str) -> _dt.datetime:
    """`2026-11-24T09:06:13Z` (the form rfc3339() writes) as an aware UTC datetime; ValueError for
    anything else, TypeError for what is not a string.

    Not datetime.strptime: its first use in a process builds the `_strptime` module's regular
    expressions, about 4 ms measured, and every preview and up parses these dates."""
    if not isinstance(text, str):
        raise TypeError(f"an RFC 3339 time must be a string, not {type(text).__name__}")
    match = _RFC3339_UTC.fullmatch(text)
    if match is None:
        raise ValueError(f"{text!r} is not a UTC time of the form 2026-11-24T09:06:13Z")
    year, month, day, hour, minute, second = (int(part) for part in match.groups())
    return _dt.datetime(year, month, day, hour, minute, second, tzinfo=_dt.timezone.utc)


def renew_at(not_after: str, renew_before_days: int) -> str:
    """The start of the renewal window of a certificate ending at `not_after` (RFC 3339 in and out)."""
    return rfc3339(renewal_start(parse_rfc3339(not_after), renew_before_days))


def rotation_notice(renew_at_text: str | None, now: _dt.datetime) -> str | None:
    """The preview's message when the last deployment's certificate is due for rotation."""
    if not renew_at_text or now < parse_rfc3339(renew_at_text):
        return None
    return (
        f"certificate rotation is due (renewal window opened {renew_at_text}): this update generates a "
        "successor certificate, registers it next to the current one and switches the keystore to it; "
        "deliver the new keystore to MyTimetable (see README, 'Certificates and rotation runbook')"
    )


def _differs(old, new) -> bool:
    """Numbers come back from the engine as floats (2048.0) while the program's are ints (2048)."""
    if isinstance(old, (int, float)) and isinstance(new, (int, float)) and not isinstance(old, bool):
        return float(old) != float(new)
    return old != new


def recent_rotation_warning(prior: dict, news: dict, now: _dt.datetime,
                            days: int = RECENT_ROTATION_DAYS) -> str | None:
    """The preview's loud warning when the coming update of the two-slot Certificate would remove a
    certificate that MyTimetable may still be using, else None. Pure.

    `prior`: the Certificate provider's outputs from the last deployment (slots a/b with
    CertificatePem, Thumbprint, NotBefore, NotAfter, ActiveSince, and `active`); `news`: its new
    inputs (commonName, keySize, validityDays, renewBeforeDays); `now`: the clock.
    A rotation generates the successor into the standby slot, removing the certificate there: the
    one that was active before the current one. If the current one became active less than `days`
    ago, its keystore may not have reached MyTimetable yet, which then still runs with the one
    about to be removed.
    """
    active = prior.get("active")
    if active not in ("a", "b"):
        return None
    standby = "b" if active == "a" else "a"
    rekey = [name for name in KEY_INPUTS if _differs(prior.get(name), news.get(name))]
    not_after = prior.get(f"{active}NotAfter")
    try:
        due = bool(not_after) and rotation_due(parse_rfc3339(str(not_after)), int(news.get("renewBeforeDays")), now)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        due = False
    if not rekey and not due:
        return None
    # When each slot became active: recorded since issue 11; before that, a generated certificate
    # became active when it was made (its NotBefore), and a standby made with slot a never was.
    active_since = prior.get(f"{active}ActiveSince") or prior.get(f"{active}NotBefore")
    if f"{standby}ActiveSince" in prior:
        standby_since = prior.get(f"{standby}ActiveSince") or None
    else:
        standby_since = prior.get(f"{standby}NotBefore")
        if not standby_since or not active_since or parse_rfc3339(standby_since) >= parse_rfc3339(active_since):
            standby_since = None
    if not active_since or standby_since is None:
        return None  # the standby certificate was never in a keystore: removing it is harmless
    since = parse_rfc3339(active_since)
    if now - since >= _dt.timedelta(days=days):
        return None
    reason = f"{', '.join(rekey)} changed" if rekey else "the renewal window is open"
    age = now - since
    return (
        f"CERTIFICATE IN USE MAY BE REMOVED: this update rotates the certificate again ({reason}) and removes "
        f"certificate {prior.get(f'{standby}Thumbprint')} (active from {standby_since}), although its successor "
        f"{prior.get(f'{active}Thumbprint')} became active only {active_since} ({age.days} days "
        f"{age.seconds // 3600} hours ago, less than {days} days). If MyTimetable has not loaded the keystore with "
        f"{prior.get(f'{active}Thumbprint')} yet, it stops getting tokens. Deliver that keystore first, or wait "
        f"until {rfc3339(since + _dt.timedelta(days=days))} (README, 'Certificates and rotation runbook')"
    )
