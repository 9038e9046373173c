"""Reaching Entra and Graph, for every command that does (preflight, verify): one bounded HTTP
session and one client-credentials token request through MSAL.

- The session: the CA bundle the user chose wins over REQUESTS_CA_BUNDLE (requests lets the
  environment override a session's `verify`), and every request is bounded by a timeout (MSAL
  passes none of its own).
- The token: MSAL's ConfidentialClientApplication for `<authority>/<tenant>`; instance discovery only
  against Microsoft's own authority (a local or sovereign one has no discovery endpoint).
"""

from __future__ import annotations

from typing import Any

# Microsoft's public cloud: Entra's sign-in authority and Microsoft Graph (Learn: national cloud deployments).
DEFAULT_AUTHORITY = "https://login.microsoftonline.com"
GRAPH = "https://graph.microsoft.com"


def bounded_session(verify_tls: Any, timeout: float):
    """A requests session that always verifies with `verify_tls` and never waits without a timeout."""
    import requests

    class Session(requests.Session):
        def request(self, method, url, **kwargs):  # type: ignore[override]  # the same call, with two defaults
            kwargs.setdefault("verify", verify_tls)
            if kwargs.get("timeout") is None:
                kwargs["timeout"] = timeout
            return super().request(method, url, **kwargs)

    return Session()


def client_credentials_token(client_id: str, tenant_id: str, credential: Any, authority: str, resource: str,
                             session, timeout: float) -> dict:
    """MSAL's answer to a client-credentials request for `<resource>/.default`: a dict with
    `access_token`, or with `error`/`error_description`. MSAL's and requests' exceptions pass through."""
    import msal

    authority = authority.rstrip("/")
    app = msal.ConfidentialClientApplication(
        client_id, authority=f"{authority}/{tenant_id}", client_credential=credential, http_client=session,
        instance_discovery=None if authority == DEFAULT_AUTHORITY else False, token_cache=msal.TokenCache(),
        timeout=timeout)
    return app.acquire_token_for_client(scopes=[f"{resource.rstrip('/')}/.default"])
