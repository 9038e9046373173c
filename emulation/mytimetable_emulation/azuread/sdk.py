"""go-azure-sdk's base client as the upstream provider uses it (github.com/hashicorp/go-azure-sdk/sdk
v0.20260212.1143955, cited `sdk:<file>:<line>`; go-retryablehttp v0.7.7 cited `rhttp:`).

- One retryable client per request, its retry budget computed from the time left before the
  operation's deadline (sdk:client/client.go:674-724): `t <= 63 s -> floor(log2(t+1)) - 1`, else
  `(int(t) - 63) // 61 + 6`.
- CheckRetry after every attempt (sdk:client/client.go:447-486): 424 and 408 retried; then the
  request's RetryFunc; then, without a response, POST/PATCH/DELETE fail at once with "HTTP response
  was nil; connection may have been reset" and GETs follow extendedRetryPolicy (:763-848); then
  retryablehttp.DefaultRetryPolicy: retry 429, 0 and every 5xx except 501 (rhttp:client.go:472-542).
  Bodies are buffered and replayed: a POST that landed and was answered 5xx is sent again.
- Back-off: Retry-After (whole seconds, any status, no cap) or 2^i seconds capped at 61
  (sdk:client/client.go:677-700); when retries run out the last response is used
  (RetryableErrorHandler, :75-81) and worded as `unexpected status <n> (<status>) with error:
  <code>: <message>` (:527-577; sdk:odata/errors.go:105-119).
- Errors without a response are Go's `*url.Error`: `<Method> "<url>": <err>`, wrapped twice when the
  retry loop gave up on a transport error (net/http's Client.Do wraps the RoundTripper's error).
"""

from __future__ import annotations

import json
import math
import os
import re
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import requests

from .clock import DeadlineExceeded, Operation

RetryFunc = Callable[["Response", "OData | None"], bool]
# Valid status codes per operation kind (graph:<package>/method_*.go, ExpectedStatusCodes).
CREATE = (200, 201, 202, 204)
UPDATE = (200, 202, 204)
READ = (200,)
DELETE = (200, 204)
_IDEMPOTENT = ("GET", "HEAD", "OPTIONS")  # sdk:client/client.go:157-163
# extendedRetryPolicy's refusals for requests without a response (sdk:client/client.go:763-848)
_NO_RETRY = re.compile(r"stopped after \d+ redirects\Z|unsupported protocol scheme|invalid header|"
                       r"certificate is not trusted|dial tcp|EOF")
USER_AGENT = ("HashiCorp Terraform/ (+https://www.terraform.io) Terraform Plugin SDK/2.40.0 terraform-provider-azuread/dev "
              "HashiCorp/go-azure-sdk (Go-http-Client/1.1 MicrosoftGraph-{service}/{version}) "
              "pid-222c6c49-1b0a-5959-a213-6608f9eb8820")  # internal/common/client_options.go:108-123


@dataclass
class OData:
    """The `error` object of a Graph answer (sdk:odata/errors.go)."""

    code: str | None
    message: str | None
    inner: OData | None = None

    def text(self) -> str:
        """Error.String(): code, message and the inner error's text joined by ": " (:105-119)."""
        parts = [p for p in (self.code, self.message) if p is not None]
        inner = self.inner.text() if self.inner else ""
        return ": ".join(parts + ([inner] if inner else []))

    def match(self, pattern: str) -> bool:
        return re.search(pattern, self.text()) is not None


@dataclass
class Response:
    status: int
    reason: str
    headers: dict
    body: bytes
    odata: OData | None = None
    model: Any = None


class GraphError(Exception):
    """A Graph call that failed. `response` is None when no answer came (a transport error)."""

    def __init__(self, text: str, response: Response | None = None):
        super().__init__(text)
        self.response = response

    @property
    def status(self) -> int | None:
        return self.response.status if self.response is not None else None

    def not_found(self) -> bool:
        """response.WasNotFound (go-azure-helpers lang/response)."""
        return self.status == 404


def _odata_of(body: bytes, content_type: str) -> OData | None:
    """odata.FromResponse (sdk:odata/http.go:17-47): only JSON bodies are read."""
    if not content_type.lower().startswith("application/json"):
        return None
    try:
        parsed = json.loads(body or b"null")
    except ValueError:
        return None
    return _error_of(parsed.get("error")) if isinstance(parsed, dict) else None


def _error_of(raw: Any) -> OData | None:
    if not isinstance(raw, dict):
        return None
    message = raw.get("message")
    if isinstance(message, dict):
        message = message.get("value") if isinstance(message.get("value"), str) else None
    return OData(raw.get("code"), message if isinstance(message, str) else None, _error_of(raw.get("innerError")))


def safe_retry_number(seconds: float) -> int:
    """RetryMax from the time left (sdk:client/client.go:709-724)."""
    if seconds <= 63:
        return int(math.floor(math.log2(seconds + 1))) - 1 if seconds > -1 else -1
    return (int(seconds) - 63) // 61 + 6


def backoff(attempt: int, response: Response | None) -> float:
    """The wait before retry `attempt` (0-based) (sdk:client/client.go:677-692)."""
    if response is not None and "Retry-After" in response.headers:
        try:
            return float(int(response.headers["Retry-After"]))
        except ValueError:
            pass
    return float(min(2 ** attempt, 61))


def marshal(odata_type: str | None, fields: dict) -> bytes:
    """A model as go-azure-sdk sends it: keys sorted at every level (struct -> map -> JSON,
    graph:common-types/stable/model_application.go:245-276), `@odata.type` added, and Go's
    encoding/json escaping of <, > and &."""
    body = dict(fields)
    if odata_type:
        body["@odata.type"] = odata_type
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026").encode()


def _url_error(method: str, url: str, text: str) -> str:
    """Go's *url.Error text: `Post "<url>": <err>` (net/url, urlErrorOp)."""
    return f'{method.capitalize()} "{url}": {text}'


def _transport_text(error: requests.RequestException) -> str:
    """What Go's net/http reports for a failure without a response, as nearly as Python can tell."""
    text = str(error)
    if "RemoteDisconnected" in text or "without response" in text or "Connection reset" in text or "ECONNRESET" in text:
        # local Entra's resets are TCP RSTs (SO_LINGER 0), which Go reports as a reset, not EOF;
        # Python's TLS layer sees the same close as RemoteDisconnected
        return "read: connection reset by peer"
    if "refused" in text:
        return "dial tcp: connect: connection refused"
    if isinstance(error, requests.exceptions.SSLError):
        return "tls: failed to verify certificate: x509: certificate signed by unknown authority"
    return text


@dataclass
class GraphClient:
    """Requests to Microsoft Graph with the provider's token; `base` is the Graph endpoint."""

    base: str
    token: Callable[[Operation], str]
    verify: Any = field(default_factory=lambda: os.environ.get("SSL_CERT_FILE") or True)
    log: list = field(default_factory=list)  # (method, url, status or None): what was sent, in order

    def url(self, path: str, version: str = "v1.0", query: dict | None = None) -> str:
        """Base + path; the query encoded as Go's url.Values.Encode: keys sorted, space as `+`
        (sdk:client/msgraph/client.go:75-98, sdk:odata/query.go:103-140)."""
        url = f"{self.base}/{version}{path}"
        if query:
            url += "?" + urllib.parse.urlencode(sorted(query.items()), quote_via=urllib.parse.quote_plus)
        return url

    def execute(self, op: Operation, method: str, path: str, *, valid: tuple[int, ...], version: str = "v1.0",
                query: dict | None = None, body: bytes | None = None, retry: RetryFunc | None = None) -> Response:
        url = self.url(path, version, query)
        return self._execute(op, method, url, valid, body, retry, version)

    def _execute(self, op, method, url, valid, body, retry, version) -> Response:
        retry_max = safe_retry_number(op.remaining())  # computed once per request (:722-724)
        headers = {"Accept": "application/json; charset=utf-8; IEEE754Compatible=false",
                   "Odata-Maxversion": "4.0", "Odata-Version": "4.0",
                   "User-Agent": USER_AGENT.format(service="Applications", version=version)}
        if body is not None:
            headers["Content-Type"] = "application/json; charset=utf-8"
        attempt = 0
        response: Response | None = None
        while True:
            response, transport = self._attempt(op, method, url, headers, body)
            should_retry, check_error = self._check_retry(op, method, response, transport, retry)
            if not should_retry or retry_max - attempt <= 0:
                break
            try:
                op.sleep(backoff(attempt, response))
            except DeadlineExceeded:
                raise GraphError(_url_error(method, url, "context deadline exceeded")) from None
            attempt += 1
        if response is None:
            inner = check_error or _url_error(method, url, transport or "")
            raise GraphError(_url_error(method, url, inner))
        if response.status not in valid:
            if (response.odata is None or not response.odata.text()) and not response.body:
                raise GraphError(f"unexpected status {_status_words(response)} received with no body", response)
            raise GraphError(f"unexpected status {_status_words(response)} with {_error_text(response)}", response)
        return response

    def _attempt(self, op: Operation, method: str, url: str, headers: dict, body: bytes | None):
        try:
            op.check()
        except DeadlineExceeded:
            return None, "context deadline exceeded"
        sent = {**headers, "Authorization": f"Bearer {self.token(op)}"}
        try:
            with requests.Session() as session:  # a new transport per request, as go-azure-sdk makes one
                session.trust_env = False
                # Go's request has no timeout of its own: the operation's deadline ends it.
                answer = session.request(method, url, data=body, headers=sent, verify=self.verify,
                                         timeout=max(op.remaining(), 0.001), allow_redirects=False)
        except requests.RequestException as error:
            self.log.append((method, url, None))
            if isinstance(error, requests.Timeout) and op.expired():
                return None, "context deadline exceeded"
            return None, _transport_text(error)
        self.log.append((method, url, answer.status_code))
        content_type = answer.headers.get("Content-Type", "")
        response = Response(answer.status_code, answer.reason or "", dict(answer.headers), answer.content,
                            _odata_of(answer.content, content_type))
        if answer.content and content_type.lower().startswith("application/json"):
            try:
                response.model = json.loads(answer.content)
            except ValueError:
                response.model = None
        return response, None

    @staticmethod
    def _check_retry(op: Operation, method: str, response: Response | None, transport: str | None,
                     retry: RetryFunc | None) -> tuple[bool, str | None]:
        """go-azure-sdk's CheckRetry (sdk:client/client.go:447-486)."""
        if response is not None:
            if response.status in (424, 408):
                return True, None
            if retry is not None and retry(response, response.odata):
                return True, None
        if response is None:
            if method in _IDEMPOTENT:
                # extendedRetryPolicy: the transport error as *url.Error text
                if transport and _NO_RETRY.search(transport):
                    return False, None
                return True, None
            return False, "HTTP response was nil; connection may have been reset"
        if op.expired():  # DefaultRetryPolicy: ctx.Err() stops the retries (rhttp:client.go:472-478)
            return False, None
        return response.status == 429 or response.status == 0 or (response.status >= 500 and response.status != 501), None

    def list_paged(self, op: Operation, path: str, query: dict | None = None, version: str = "v1.0") -> list:
        """ExecutePaged: follows @odata.nextLink and concatenates `value` (sdk:client/client.go:584-671)."""
        url = self.url(path, version, query)
        items: list = []
        while url:
            response = self._execute(op, "GET", url, READ, None, None, version)
            page = response.model if isinstance(response.model, dict) else {}
            items.extend(page.get("value") or [])
            url = page.get("@odata.nextLink") or ""
        return items


def _status_words(response: Response) -> str:
    """`404 (404 Not Found)`: Go's resp.Status is the code and the reason (sdk:client/client.go:531-541)."""
    status_text = f"{response.status} {response.reason}".strip()
    return f"{response.status} ({status_text})"


def _error_text(response: Response) -> str:
    """`error: <odata>`, or the raw body (sdk:client/client.go:556-573)."""
    if response.odata is not None and response.odata.text():
        return f"error: {response.odata.text()}"
    return f"response: {response.body.decode(errors='replace')}"
