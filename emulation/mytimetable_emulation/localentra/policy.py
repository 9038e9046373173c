"""The tenant's default app management policy as it restricts certificate credentials
(Learn: tenantAppManagementPolicy, https://learn.microsoft.com/graph/api/resources/tenantappmanagementpolicy;
keyCredentialConfiguration, https://learn.microsoft.com/graph/api/resources/keycredentialconfiguration;
certificateBasedApplicationConfiguration,
https://learn.microsoft.com/graph/api/resources/certificatebasedapplicationconfiguration).

- The policy applies when `isEnabled`; each `applicationRestrictions.keyCredentials` entry applies
  when its `state` is `enabled`, and only to applications created after its
  `restrictForAppsCreatedAfterDateTime` (Learn, keyCredentialConfiguration).
- `asymmetricKeyLifetime`: a new certificate credential whose end minus start exceeds `maxLifetime`
  (an ISO 8601 duration) is refused with 400 CredentialInvalidLifetimeAsPerAppPolicy "Credential
  lifetime exceeds the max value allowed as per assigned policy '<id>'." and a detail InvalidKeyEndDate
  on EndDate, the answer Graph gives (microsoft/PubSec-Info-Assistant#681,
  OfficeDev/microsoft-365-agents-toolkit#10998).
- `trustedCertificateAuthority`: a new certificate not issued by a CA of the listed
  certificateBasedApplicationConfigurations is refused. No public source shows Graph's text for this
  refusal; local Entra answers 400 with the same shape, code CredentialInvalidAsPerAppPolicy
  (reconstructed, docs/real-engine.md).
Only credentials a PATCH adds are checked; ones sent back unchanged were accepted when added.
"""

from __future__ import annotations

import datetime as dt
import re

from cryptography import x509

from .errors import GraphError

DEFAULT_POLICY_ID = "00000000-0000-0000-0000-000000000000"  # Learn: tenantappmanagementpolicy-get, the response's id
_DURATION = re.compile(r"^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$")


def duration(text: str) -> dt.timedelta:
    """An ISO 8601 duration; a year counts 365 days and a month 30 (calendar arithmetic is not modelled)."""
    match = _DURATION.match(text or "")
    if not match or text in ("P", "PT"):
        raise GraphError(400, "Request_BadRequest", f"Invalid duration '{text}'.")
    years, months, weeks, days, hours, minutes = (int(g or 0) for g in match.groups()[:6])
    seconds = float(match.group(7) or 0)
    return dt.timedelta(days=years * 365 + months * 30 + weeks * 7 + days, hours=hours, minutes=minutes, seconds=seconds)


def _when(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(str(text).replace("Z", "+00:00"))


def _refusal(code: str, message: str, detail: str, target: str) -> GraphError:
    error = GraphError(400, code, message)
    error.details = [{"code": detail, "message": message, "target": target}]  # type: ignore[attr-defined]
    return error


def check_new_credentials(policy: dict, authorities: dict, app_created: str, added: list[dict], certificate_of) -> None:
    """Raise what Graph answers when `added` (keyCredentials a PATCH adds) breaks the policy."""
    if not policy.get("isEnabled"):
        return
    policy_id = policy.get("id") or DEFAULT_POLICY_ID
    for restriction in (policy.get("applicationRestrictions") or {}).get("keyCredentials") or []:
        if restriction.get("state", "enabled") != "enabled":
            continue
        after = restriction.get("restrictForAppsCreatedAfterDateTime")
        if after and _when(app_created) <= _when(after):
            continue
        kind = restriction.get("restrictionType")
        for credential in added:
            if kind == "asymmetricKeyLifetime":
                lifetime = _when(credential["endDateTime"]) - _when(credential["startDateTime"])
                if lifetime > duration(restriction.get("maxLifetime") or ""):
                    message = f"Credential lifetime exceeds the max value allowed as per assigned policy '{policy_id}'."
                    raise _refusal("CredentialInvalidLifetimeAsPerAppPolicy", message, "InvalidKeyEndDate", "EndDate")
            elif kind == "trustedCertificateAuthority":
                trusted = [ca for config in restriction.get("certificateBasedApplicationConfigurationIds") or []
                           for ca in authorities.get(config, [])]
                if not _issued_by_any(certificate_of(credential), trusted):
                    message = (f"Certificate is not issued by a trusted certificate authority as per assigned policy "
                               f"'{policy_id}'.")
                    raise _refusal("CredentialInvalidAsPerAppPolicy", message, "InvalidKeyCredential", "Key")


def _issued_by_any(certificate: x509.Certificate, authorities: list[str]) -> bool:
    for pem in authorities:
        issuer = x509.load_pem_x509_certificate(pem.encode())
        try:
            certificate.verify_directly_issued_by(issuer)
        except (ValueError, TypeError, Exception):  # noqa: BLE001 - any failed check is "not issued by"
            continue
        return True
    return False
