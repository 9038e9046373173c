"""The `certificate` config key: a generated certificate's size, validity and renewal window, or
your own certificate and key (and the one it replaces). Pure."""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping
from typing import Any, NamedTuple

from .certificate import (
    MAX_VALIDITY_DAYS,
    MIN_RSA_KEY_SIZE,
    RECENT_ROTATION_DAYS,
    CertificateProblem,
    inspect_certificate,
    inspect_own_certificate,
    rotation_due,
)
from .config_values import integer, key, repr_without, structured, unknown_subkeys

CERTIFICATE_KEYS = ("keySize", "validityDays", "renewBeforeDays", "certificatePem", "privateKeyPem",
                    "retiringCertificatePem")
KEY_SIZES = (2048, 3072, 4096)
# A rotated keystore has to reach MyTimetable (make keystore, delivery, restart) before the
# predecessor expires; with renewBeforeDays 0 rotation would start at the moment of expiry.
# Our own delivery rule (README, "Certificates and rotation runbook"): at least a week.
MIN_RENEW_BEFORE_DAYS = 7


class CertificateSettings(NamedTuple):
    """The certificate config: generated (key size, validity, renewal) or brought."""
    key_size: int = 2048
    validity_days: int = 730
    renew_before_days: int = 30
    certificate_pem: str | None = None
    private_key_pem: str | None = None  # never in repr (below)
    # Your previous certificate, kept registered while the new keystore is delivered (README,
    # "Replacing your own certificate"); public, so no key.
    retiring_certificate_pem: str | None = None

    @property
    def bring_your_own(self) -> bool:
        return self.certificate_pem is not None

    def __repr__(self) -> str:
        return repr_without(self, "private_key_pem")


def certificate_settings(raw, now, problem, warnings) -> CertificateSettings:
    example = '{"keySize": 2048, "validityDays": 730, "renewBeforeDays": 30}'
    value = structured(raw, "certificate", dict, problem, example) or {}
    unknown_subkeys("certificate", value, CERTIFICATE_KEYS, problem, example)
    defaults = CertificateSettings()
    key_size = defaults.key_size
    if "keySize" in value:
        key_size = integer(value["keySize"], "certificate.keySize", problem, "2048", 0, 1 << 20)
        if key_size is not None and key_size not in KEY_SIZES:
            problem("certificate.keySize", f"{key_size} is not one of 2048, 3072, 4096", "2048")
        key_size = key_size if key_size in KEY_SIZES else defaults.key_size
    validity = defaults.validity_days
    if "validityDays" in value:
        validity = integer(
            value["validityDays"], "certificate.validityDays", problem, "730", 1, MAX_VALIDITY_DAYS
        ) or defaults.validity_days
    renew = defaults.renew_before_days
    if "renewBeforeDays" in value:
        renew = integer(value["renewBeforeDays"], "certificate.renewBeforeDays", problem, "30", 0, MAX_VALIDITY_DAYS)
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
        try:
            info = inspect_own_certificate(cert_pem, str(key_pem), now)
        except CertificateProblem as exc:
            problem(f"certificate.{exc.field}", str(exc), exc.example)
        else:
            _within_the_guard_rails(str(cert_pem), "certificate.certificatePem", problem)
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

    try:
        old, new = inspect_certificate(str(retiring)), inspect_certificate(str(cert_pem))
    except (ValueError, TypeError):
        problem("certificate.retiringCertificatePem", "is not a PEM certificate", example)
        return None
    if not _within_the_guard_rails(str(retiring), "certificate.retiringCertificatePem", problem):
        return None
    if old.thumbprint == new.thumbprint:
        problem("certificate.retiringCertificatePem", f"is the same certificate as certificatePem ({new.thumbprint}); "
                "remove it once the new keystore is delivered", example)
        return None
    return str(retiring)


CERTIFICATE_EXAMPLE = "pulumi config set --path 'certificate.certificatePem' < certificate.pem"


def _within_the_guard_rails(cert_pem: str, name: str, problem) -> bool:
    """Does a certificate this stack registers pass the policy pack's certificate rule (policy/rules.py,
    strong-certificates): an RSA key of at least MIN_RSA_KEY_SIZE bits, valid at most
    MAX_VALIDITY_DAYS days from notBefore to notAfter? Each shortfall is a problem, so that `plan`
    and `preflight` refuse what `up` would be refused. Only the certificate is read, no key."""
    try:
        info = inspect_certificate(cert_pem)
    except (ValueError, TypeError):
        problem(name, "is not a PEM certificate", CERTIFICATE_EXAMPLE)
        return False
    fine = True
    if info.key_size < MIN_RSA_KEY_SIZE:
        problem(name, f"has a {info.key_size}-bit key; Entra and the policy pack require an RSA key of at least "
                      f"{MIN_RSA_KEY_SIZE} bits", CERTIFICATE_EXAMPLE)
        fine = False
    days = (info.not_after - info.not_before) / _dt.timedelta(days=1)
    if days > MAX_VALIDITY_DAYS:
        problem(name, f"is valid {days:.0f} days ({info.not_before.date()} to {info.not_after.date()}), longer than "
                      f"{MAX_VALIDITY_DAYS} days, the most the policy pack accepts: `pulumi up` would be refused; "
                      f"use a certificate valid at most {MAX_VALIDITY_DAYS} days", CERTIFICATE_EXAMPLE)
        fine = False
    return fine


def readable_certificate_problems(certificate: Mapping[str, Any] | Any) -> list[str]:
    """For a certificate config whose private key is encrypted (a `secure:` value that only the
    Pulumi CLI can read): the guard-rail problems of its certificates, which are public and readable
    here (certificatePem, retiringCertificatePem), as `key: text; for example: ...` lines."""
    problems: list[str] = []

    def problem(name: str, text: str, example: str) -> None:
        problems.append(f"{key(name)}: {text}; for example: {example}")

    if isinstance(certificate, Mapping):
        for field in ("certificatePem", "retiringCertificatePem"):
            if isinstance(certificate.get(field), str):
                _within_the_guard_rails(certificate[field], f"certificate.{field}", problem)
    return problems
