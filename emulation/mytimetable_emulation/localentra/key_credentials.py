"""An application's keyCredentials as Graph stores them, with the rules Entra applies. Pure.

Graph replaces the whole list on `PATCH /applications/{id}` (application-update); it returns
existing entries with `key: null`, so a client that sends them back unchanged keeps the stored key:
an entry with a known keyId and no key keeps the stored one (resources/keycredential).
"""

from __future__ import annotations

import base64
import datetime as dt

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import rsa

from .directory import GraphError

CERTIFICATE_TYPE = "AsymmetricX509Cert"


def _bad(message: str) -> GraphError:
    return GraphError(400, "Request_BadRequest", message)


def _when(text: str, name: str) -> dt.datetime:
    try:
        return dt.datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        raise _bad(f"Invalid value specified for property '{name}' of resource 'KeyCredential'.") from None


def certificate_of(credential: dict) -> x509.Certificate:
    """The certificate of a keyCredential's `key`: base64 of the DER bytes (Learn, keyCredential:
    "The certificate's raw data in byte array converted to Base64 string"), or base64 of the PEM
    text, which is what the azuread provider sends for every encoding
    (terraform-provider-azuread internal/helpers/credentials/credentials.go:81-116) and Graph
    accepts (that provider has registered certificates this way since its first release)."""
    try:
        raw = base64.b64decode(credential["key"], validate=True)
        if raw.lstrip().startswith(b"-----BEGIN"):
            return x509.load_pem_x509_certificate(raw)
        return x509.load_der_x509_certificate(raw)
    except (ValueError, TypeError, KeyError):
        raise _bad("Key credential's key is not a valid X.509 certificate.") from None


def _checked(credential: dict) -> dict:
    if credential.get("type") != CERTIFICATE_TYPE:
        raise _bad("Invalid value specified for property 'type' of resource 'KeyCredential'.")
    certificate = certificate_of(credential)
    if not isinstance(certificate.public_key(), rsa.RSAPublicKey):
        raise _bad("Key credential's key must be an RSA certificate.")
    # Dates are optional (Learn, keyCredential); without them the credential spans the certificate's
    # validity, the dates the Microsoft Entra admin center shows for an uploaded certificate.
    entry = dict(credential)
    if entry.get("startDateTime") is None:
        entry["startDateTime"] = certificate.not_valid_before_utc.strftime("%Y-%m-%dT%H:%M:%SZ")
    if entry.get("endDateTime") is None:
        entry["endDateTime"] = certificate.not_valid_after_utc.strftime("%Y-%m-%dT%H:%M:%SZ")
    start = _when(str(entry["startDateTime"]), "startDateTime")
    end = _when(str(entry["endDateTime"]), "endDateTime")
    if end > certificate.not_valid_after_utc or start < certificate.not_valid_before_utc - dt.timedelta(seconds=1):
        raise _bad("Key credential end date is invalid.")
    entry.setdefault("usage", "Verify")
    entry["customKeyIdentifier"] = certificate.fingerprint(hashes.SHA1()).hex().upper()
    return entry


def merge_key_credentials(stored: list[dict], sent: list[dict]) -> list[dict]:
    """The list after a PATCH that sent `sent`; raises GraphError as Graph does."""
    by_id = {k["keyId"]: k for k in stored}
    result, seen = [], set()
    for credential in sent:
        key_id = str(credential.get("keyId") or "").lower()
        if not key_id:
            raise _bad("Property keyId is required on keyCredentials.")
        if key_id in seen:
            raise _bad("Key credential keyId values must be unique.")
        seen.add(key_id)
        if not credential.get("key"):
            if key_id not in by_id:
                raise _bad("Key credential's key is required for a new credential.")
            result.append(by_id[key_id])
            continue
        result.append(_checked({**credential, "keyId": key_id}))
    return result
