"""Reaching Entra and Graph, for every command that does (preflight, verify): one bounded HTTP
session and one client-credentials token request through MSAL.

- The session: the CA bundle the user chose wins over REQUESTS_CA_BUNDLE (requests lets the
  environment override a session's `verify`); each request, answer included, ends within the
  timeout in total and reads at most MAX_ANSWER_BYTES (requests' own timeout bounds each read, not
  the whole: a server that sends a byte a second, or never stops, would hold it for ever); no
  redirect is followed: a request to Entra or Graph carries credentials (a client secret or
  assertion in the form, a bearer token), and requests re-posts a form to a 307's target, on any
  host. Entra's token and OpenID endpoints and Graph answer these requests without redirects.
- The token: MSAL's ConfidentialClientApplication for `<authority>/<tenant>`; instance discovery only
  against Microsoft's own authority (a local or sovereign one has no discovery endpoint). An answer
  of the wrong shape (an OpenID configuration or a token response that is no JSON object, an
  access token that is no text) is an AnswerRefused, never a traceback.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.parse
from typing import Any

# Microsoft's public cloud: Entra's sign-in authority and Microsoft Graph (Learn: national cloud deployments).
DEFAULT_AUTHORITY = "https://login.microsoftonline.com"
GRAPH = "https://graph.microsoft.com"
# An OpenID configuration, a token response or a calendar is a few KiB; more is not one of them.
MAX_ANSWER_BYTES = 1 << 20
_REDIRECTS = (301, 302, 303, 307, 308)


class AnswerRefused(Exception):
    """An answer the commands do not take: a redirect, one that is not complete within the timeout
    or is too large, or one of the wrong shape. Its message is one line of the commands' own words
    (origins, sizes, types), never the answer's text."""


def origin(url: str) -> str:
    """`https://host:port` of a URL, without user, path or query: how messages name a server."""
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or "?"
    host = f"[{host}]" if ":" in host else host
    return f"{parts.scheme}://{host}" + (f":{parts.port}" if parts.port else "")


def _what(url: str) -> str:
    path = urllib.parse.urlsplit(url).path
    if path.endswith("/.well-known/openid-configuration"):
        return f"the OpenID configuration at {origin(url)}{path}"
    return f"the answer of {origin(url)}{path}"


def _read_bounded(response, url: str, deadline: float, limit: int, timeout: float) -> bytes:
    chunks, size = [], 0
    for chunk in response.iter_content(64 * 1024):
        size += len(chunk)
        if size > limit:
            raise AnswerRefused(f"{_what(url)} is larger than {limit} bytes: not read further")
        if time.monotonic() > deadline:
            raise AnswerRefused(f"{origin(url)} sent no complete answer within {timeout:g} s")
        chunks.append(chunk)
    return b"".join(chunks)


def _check_shape(url: str, body: bytes) -> None:
    """Every answer the commands and MSAL read is a JSON object (an OpenID configuration, a token
    response, Graph's object or error): JSON of another shape is refused here, by name."""
    if body.lstrip()[:1] in (b"", b"<"):
        return  # empty, or an HTML page: the caller judges it
    try:
        value = json.loads(body)
    except RecursionError:
        raise AnswerRefused(f"{_what(url)} is JSON nested too deep to be an answer of Entra or Graph") from None
    except ValueError:
        return  # not JSON: the caller says so
    if not isinstance(value, dict):
        raise AnswerRefused(f"{_what(url)} is JSON but not an object (a {type(value).__name__})")


def bounded_session(verify_tls: Any, timeout: float, limit: int = MAX_ANSWER_BYTES):
    """A requests session that always verifies with `verify_tls`, follows no redirect, and ends every
    request, answer included, within `timeout` seconds in total with at most `limit` bytes read;
    otherwise AnswerRefused. A request may ask for less: a smaller `timeout` (a number) bounds it in
    total too, and `max_bytes` its answer (what a caller has left of a budget over several requests,
    graph_reads.py values()). The session's `timeout` and `limit` are its attributes."""
    import requests

    class Session(requests.Session):
        def get_redirect_target(self, resp):  # never followed: request() refuses a redirect by name
            return None

        def request(self, method, url, **kwargs):  # type: ignore[override]  # the same call, bounded
            asked, most = kwargs.get("timeout"), kwargs.pop("max_bytes", None)
            seconds = min(asked, timeout) if isinstance(asked, (int, float)) and asked > 0 else timeout
            size = min(most, limit) if isinstance(most, int) and most >= 0 else limit
            deadline = time.monotonic() + seconds
            kwargs.setdefault("verify", verify_tls)
            kwargs["timeout"] = seconds
            kwargs.update(allow_redirects=False, stream=True)
            box: dict = {}

            def exchange() -> None:
                try:
                    response = requests.Session.request(self, method, url, **kwargs)
                    try:
                        if response.status_code in _REDIRECTS:
                            target = urllib.parse.urljoin(url, response.headers.get("location", ""))
                            raise AnswerRefused(
                                f"{origin(url)} answered {response.status_code}, a redirect to {origin(target)}: not "
                                "followed (the request carries credentials; Entra and Graph answer it without redirects)")
                        response._content = _read_bounded(response, url, deadline, size, seconds)
                    finally:
                        response.close()
                    box["response"] = response
                except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread as it is
                    box["error"] = exc

            # The exchange runs in a thread of its own so that the caller's wait is bounded in total:
            # a server that trickles its headers holds the thread, never the command (a daemon
            # thread, gone with the process).
            worker = threading.Thread(target=exchange, name=f"request to {origin(url)}", daemon=True)
            worker.start()
            worker.join(max(0.0, deadline - time.monotonic()))
            if worker.is_alive():
                raise AnswerRefused(f"{origin(url)} sent no complete answer within {seconds:g} s")
            if "error" in box:
                raise box["error"]
            _check_shape(url, box["response"].content)
            return box["response"]

    session = Session()
    session.timeout, session.limit = timeout, limit  # type: ignore[attr-defined]
    return session


def client_credentials_token(client_id: str, tenant_id: str, credential: Any, authority: str, resource: str,
                             session, timeout: float) -> dict:
    """MSAL's answer to a client-credentials request for `<resource>/.default`: `{"access_token": text}`,
    or `{"error", "error_description"}` texts and `error_codes` (whole numbers). requests' exceptions,
    MSAL's ValueError and AnswerRefused pass through; what MSAL trips over in an answer of the wrong
    shape becomes an AnswerRefused."""
    import msal
    import requests

    authority = authority.rstrip("/")
    try:
        app = msal.ConfidentialClientApplication(
            client_id, authority=f"{authority}/{tenant_id}", client_credential=credential, http_client=session,
            instance_discovery=None if authority == DEFAULT_AUTHORITY else False, token_cache=msal.TokenCache(),
            timeout=timeout)
        result = app.acquire_token_for_client(scopes=[f"{resource.rstrip('/')}/.default"])
    except (AnswerRefused, requests.RequestException):
        raise
    except (TypeError, KeyError, AttributeError, IndexError, RuntimeError, RecursionError) as exc:
        raise AnswerRefused(f"Entra's OpenID configuration or token response is not of the form Entra sends "
                            f"(MSAL could not read it: {type(exc).__name__})") from None
    return token_result(result)


def token_result(result: Any) -> dict:
    """MSAL's result with the types the commands rely on, or AnswerRefused naming what is wrong."""
    if not isinstance(result, dict):
        raise AnswerRefused(f"the token response is no JSON object (a {type(result).__name__})")
    if "access_token" in result:
        token = result["access_token"]
        if not isinstance(token, str) or not token:
            raise AnswerRefused(f"the token response's access_token is not a text (a {type(token).__name__})")
        return {"access_token": token}
    codes = result.get("error_codes")
    return {
        "error": str(result.get("error") or ""),
        "error_description": str(result.get("error_description") or ""),
        "error_codes": [c for c in codes if isinstance(c, int) and not isinstance(c, bool)] if isinstance(codes, list) else [],
    }


def cloud_endpoints(metadata_host: str, session) -> tuple[str, str]:
    """(sign-in authority, Microsoft Graph) of the cloud the azuread provider's metadata host names:
    the provider reads `https://<host>/metadata/endpoints?api-version=2022-09-01` (go-azure-sdk
    environments.FromEndpoint, called by terraform-provider-azuread internal/provider/provider.go) and
    takes `authentication.loginEndpoint` and `microsoftGraphResourceId`. AnswerRefused, or ValueError
    naming what is missing; requests' exceptions pass through."""
    url = f"https://{metadata_host}/metadata/endpoints?api-version=2022-09-01"
    answer = session.get(url)
    if answer.status_code != 200:
        raise ValueError(f"{origin(url)} answered {answer.status_code} for its cloud's endpoints")
    try:
        body = json.loads(answer.content)
    except RecursionError:
        raise ValueError(f"{origin(url)}'s endpoints are JSON nested too deep to be an answer") from None
    # The shape go-azure-sdk decodes it into (sdk/environments, FromEndpoint's metadata struct): an object
    # whose `authentication` is an object with the string `loginEndpoint`, and the string
    # `microsoftGraphResourceId`; Go's json.Unmarshal refuses another type there, so the provider would
    # not start either. Anything else is this ValueError, never an AttributeError.
    authentication = body.get("authentication") if isinstance(body, dict) else None
    login = authentication.get("loginEndpoint") if isinstance(authentication, dict) else None
    graph = body.get("microsoftGraphResourceId") if isinstance(body, dict) else None
    if not isinstance(login, str) or not isinstance(graph, str) or not login or not graph:
        raise ValueError(f"{origin(url)}'s endpoints name no loginEndpoint (in an `authentication` object) and "
                         "microsoftGraphResourceId as texts")
    return login.rstrip("/"), graph.rstrip("/")
