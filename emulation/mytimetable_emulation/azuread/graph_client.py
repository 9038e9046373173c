"""The Graph client of the project's azuread provider: what go-azure-sdk does for the upstream one.

- Endpoints from `https://<metadataHost>/metadata/endpoints?api-version=2022-09-01` (go-azure-sdk
  environments.FromEndpoint); a client-credentials token for `<graph>/.default`.
- TLS trusts SSL_CERT_FILE, as Go's crypto/x509 does on Linux.
- 429: waits Retry-After and tries again; 5xx: a few tries with backoff (go-azure-sdk's retry
  policy); anything else is an error worded as go-azure-sdk words it
  ("unexpected status 404 (404 Not Found) with error: Request_ResourceNotFound: ..."), which is what
  the program's replication retry hook matches.
"""

from __future__ import annotations

import http
import os
import time
import urllib.parse
from typing import Any

import requests

from mytimetable_o365.rules.token_claims import read_claims

TIMEOUT = 30
MAX_TRIES = 5


class GraphCallError(Exception):
    def __init__(self, status: int, code: str, message: str):
        reason = http.HTTPStatus(status).phrase if status in http.HTTPStatus._value2member_map_ else ""
        super().__init__(f"unexpected status {status} ({status} {reason}) with error: {code}: {message}")
        self.status, self.code = status, code


class GraphClient:
    def __init__(self, metadata_host: str, tenant_id: str, client_id: str, client_secret: str):
        self.session = requests.Session()
        self.session.trust_env = False  # proxies and CA bundles from the environment: only SSL_CERT_FILE, as Go
        self.verify: Any = os.environ.get("SSL_CERT_FILE") or True
        self.tenant_id, self.client_id, self._secret = tenant_id, client_id, client_secret
        endpoints = self._json("GET", f"https://{metadata_host}/metadata/endpoints?api-version=2022-09-01", auth=False)
        self.graph = endpoints["microsoftGraphResourceId"].rstrip("/")
        self.login = endpoints["authentication"]["loginEndpoint"].rstrip("/")
        self._token: str | None = None
        self._expires = 0.0

    def token(self) -> str:
        if self._token is None or time.time() > self._expires - 300:
            answer = self.session.post(f"{self.login}/{self.tenant_id}/oauth2/v2.0/token", timeout=TIMEOUT, verify=self.verify,
                                       data={"grant_type": "client_credentials", "client_id": self.client_id,
                                             "client_secret": self._secret, "scope": f"{self.graph}/.default"})
            body = answer.json()
            if answer.status_code != 200:
                raise GraphCallError(answer.status_code, body.get("error", "invalid_client"), body.get("error_description", ""))
            self._token, self._expires = body["access_token"], time.time() + float(body.get("expires_in", 3600))
        return self._token

    def claims(self) -> dict:
        return read_claims(self.token())

    def _json(self, method: str, url: str, body: dict | None = None, auth: bool = True) -> Any:
        for attempt in range(1, MAX_TRIES + 1):
            headers = {"Authorization": f"Bearer {self.token()}"} if auth else {}
            answer = self.session.request(method, url, json=body, headers=headers, timeout=TIMEOUT, verify=self.verify)
            if answer.status_code == 429 and attempt < MAX_TRIES:
                time.sleep(min(float(answer.headers.get("Retry-After", "1")), 30))
                continue
            if answer.status_code >= 500 and attempt < MAX_TRIES:
                time.sleep(0.2 * 2 ** attempt)
                continue
            if answer.status_code >= 400:
                try:
                    error = answer.json()["error"]
                    code, message = error.get("code", ""), error.get("message", "")
                except (ValueError, KeyError, TypeError):
                    code, message = "", answer.text[:200]
                raise GraphCallError(answer.status_code, code, message)
            return answer.json() if answer.content else None
        raise AssertionError("unreachable")

    def call(self, method: str, path: str, body: dict | None = None, version: str = "v1.0") -> Any:
        return self._json(method, f"{self.graph}/{version}{path}", body)

    def find(self, collection: str, prop: str, value: str) -> list[dict]:
        query = urllib.parse.quote(f"{prop} eq '{value.replace(chr(39), chr(39) * 2)}'")
        return self.call("GET", f"/{collection}?$filter={query}")["value"]

    def reference(self, object_id: str) -> dict:
        return {"@odata.id": f"{self.graph}/v1.0/directoryObjects/{object_id}"}
