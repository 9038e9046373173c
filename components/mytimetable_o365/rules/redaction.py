"""Secrets out of what a command prints. Pure.

A server's error text may echo the request it refused: the form with `client_secret` or
`client_assertion`, the `Authorization: Bearer` header. Whatever a command prints passes through a
Redactor that knows every secret the process holds, in the forms an echo takes (as written,
form-encoded, JSON-escaped), and anything shaped like a token (a JWT) or a PEM private key, which
covers the assertions MSAL makes and the tokens Entra hands out even where the command never saw
them as values.
"""

from __future__ import annotations

import json
import re
import urllib.parse
from collections.abc import Iterable, Mapping

REDACTED = "[redacted]"
# Environment variables that hold a secret the azuread provider, MSAL, GitHub or Pulumi reads
# (azuread provider docs, "Authenticating to Azure AD"; GitHub's OIDC request token; Pulumi's passphrase).
SECRET_ENVIRONMENT_VARIABLES = ("ARM_CLIENT_SECRET", "ARM_CLIENT_CERTIFICATE", "ARM_CLIENT_CERTIFICATE_PASSWORD",
                                "ARM_OIDC_TOKEN", "ARM_OIDC_REQUEST_TOKEN", "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
                                "ACTIONS_RUNTIME_TOKEN", "AZURE_CLIENT_SECRET", "PULUMI_CONFIG_PASSPHRASE",
                                "PULUMI_ACCESS_TOKEN")
# A JWT (RFC 7519: base64url header, payload and signature; a JSON header starts `{"`, eyJ in
# base64url) and a PEM private key block of any kind (RFC 7468).
_JWT = re.compile(r"eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*")
_PRIVATE_KEY = re.compile(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----.*?(?:-----END [A-Z0-9 ]*PRIVATE KEY-----|\Z)", re.S)


def _forms(secret: str) -> set[str]:
    """The forms an echo of `secret` takes: as written, form- or URL-encoded, JSON-escaped."""
    return {secret, urllib.parse.quote_plus(secret), urllib.parse.quote(secret, safe=""),
            json.dumps(secret)[1:-1], json.dumps(secret, ensure_ascii=False)[1:-1]} - {""}


class Redactor:
    """The secrets a command holds, and `scrub` for every text it prints."""

    def __init__(self, *secrets: str | None):
        self._forms: set[str] = set()
        self.hold(*secrets)

    def hold(self, *secrets: str | None) -> None:
        for secret in secrets:
            if isinstance(secret, str) and secret.strip():
                self._forms |= _forms(secret) | _forms(secret.strip())

    def hold_environment(self, environ: Mapping[str, str], names: Iterable[str] = SECRET_ENVIRONMENT_VARIABLES) -> None:
        self.hold(*(environ.get(name) for name in names))

    def scrub(self, text: str) -> str:
        for form in sorted(self._forms, key=len, reverse=True):  # the longest first: no half-replaced secret
            text = text.replace(form, REDACTED)
        text = _PRIVATE_KEY.sub(REDACTED, text)
        return _JWT.sub(REDACTED, text)
