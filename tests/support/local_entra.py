"""Local Entra (emulation/mytimetable_emulation/localentra) as the tests of `verify` and `preflight`
meet it: where its authority is, a certificate as a keyCredential, and an unsigned JWT for the
answers a hostile server or a fake `az` hands out (tokens local Entra never issues)."""

from __future__ import annotations

import base64
import json
import uuid

from cryptography import x509
from cryptography.hazmat.primitives import serialization


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def make_token(claims: dict) -> str:
    """An unsigned JWT carrying `claims`, shaped as Entra's access tokens are (header.payload.signature)."""
    return ".".join([b64url(b'{"alg":"none","typ":"JWT"}'), b64url(json.dumps(claims).encode()), ""])


def authority(entra) -> str:
    """What --authority takes: the login endpoint, under which /<tenant>/oauth2/v2.0/token is."""
    return f"{entra.base}/login"


def key_credential(certificate_pem: str) -> dict:
    """A certificate as Graph stores it on an application (Learn, keyCredential: key is base64 DER)."""
    der = x509.load_pem_x509_certificate(certificate_pem.encode()).public_bytes(serialization.Encoding.DER)
    return {"keyId": str(uuid.uuid4()), "type": "AsymmetricX509Cert", "usage": "Verify",
            "key": base64.b64encode(der).decode()}


def register_app(entra, client_id: str, certificates=(), roles=("Calendars.ReadWrite",)) -> dict:
    """The deployed stack's app registration in local Entra: its certificates, and admin consent to
    these Microsoft Graph application permissions."""
    return entra.directory.add_application(client_id, "MyTimetable (registered by a test)",
                                           [key_credential(pem) for pem in certificates], roles)


def application(entra, client_id: str) -> dict:
    return next(a for a in entra.directory.applications.values() if a["appId"] == client_id)
