"""Local Entra over HTTPS on 127.0.0.1: a CA made for the run, the metadata endpoint, the token
endpoint and Microsoft Graph (`graph.Graph`), with faults injected on request.

Endpoints and their sources:
- `GET /metadata/endpoints?api-version=2022-09-01`: Azure's environment metadata, the shape
  go-azure-sdk's `environments.FromEndpoint` reads (name, resourceManager,
  microsoftGraphResourceId, authentication.loginEndpoint), which the azuread provider's
  `metadata_host` setting points at.
- `GET /login/{tenant}/v2.0/.well-known/openid-configuration` and
  `POST /login/{tenant}/oauth2/v2.0/token`: the Microsoft identity platform's client-credentials flow
  (https://learn.microsoft.com/entra/identity-platform/v2-oauth2-client-creds-grant-flow) with a
  client secret or a certificate assertion
  (https://learn.microsoft.com/entra/identity-platform/certificate-credentials); errors as
  `{"error", "error_description"}` with AADSTS codes; tokens, assertions and the stand-in OIDC
  issuer (`GET /oidc/token`) are tokens.py.
- Faults (faults.py): before a request is handled (429 with Retry-After, a 5xx, a reset) or after it
  was handled (a 5xx or a reset although the write landed).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import os
import secrets
import socket
import ssl
import struct
import sys
import threading
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from .directory import Caller, Directory, GraphError
from .faults import RESET
from .graph import Graph
from .tokens import Tokens

MAX_BODY = 1 << 20


class QuietServer(ThreadingHTTPServer):
    """A threading HTTP server that says nothing when a client goes away mid-request (a reset, a
    broken pipe, a TLS handshake cut short: OSError, ssl.SSLError among them): socketserver's
    handle_error prints a traceback to whatever sys.stderr is then, which in the tests is the
    captured output of the command under test. Any other error is printed as before."""

    def handle_error(self, request, client_address) -> None:
        if isinstance(sys.exc_info()[1], OSError):
            return
        super().handle_error(request, client_address)


def make_ca_and_server_certificate(folder: Path) -> tuple[Path, Path, Path]:
    """(CA certificate, server certificate, server key) as PEM files: the CA is made for this run
    only; the server certificate names 127.0.0.1 and localhost (Go checks IP SANs). Every CA made
    here has the same name: the key identifiers (RFC 5280, 4.2.1.1-2) let a client that trusts
    several of them (a bundle of two servers' CAs) find the one that signed."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = dt.datetime.now(dt.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "local Entra test CA (this run only)")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
          .not_valid_after(now + dt.timedelta(days=2))
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    server = (x509.CertificateBuilder()
              .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
              .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
              .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=2))
              .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                                                          x509.DNSName("localhost")]), critical=False)
              .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
              .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
              .sign(ca_key, hashes.SHA256()))
    folder.mkdir(parents=True, exist_ok=True)
    paths = (folder / "ca.pem", folder / "server.pem", folder / "server-key.pem")
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(server.public_bytes(serialization.Encoding.PEM))
    fd = os.open(paths[2], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))
    return paths


class LocalEntra:
    """`with LocalEntra(folder) as entra:` serves on https://127.0.0.1:<entra.port>."""

    def __init__(self, folder: Path, tenant_id: str | None = None):
        self.folder = Path(folder)
        self.directory = Directory(tenant_id or str(uuid.uuid4()))
        self.graph = Graph(self.directory)
        self.requests: list[tuple[str, str, int | None]] = []  # (method, path, status; None: reset): what was called
        self.bodies: list[tuple[str, str, dict | None]] = []  # (method, path, JSON body) of each Graph request, in order
        self.observers: list = []  # called with (method, path, status) after each Graph request was answered
        # called with (method, path, JSON body) before a Graph request is handled: a test that must
        # hold a client inside a request (its answer not yet sent) blocks there; a gate that returns
        # RESET drops the request unhandled, as a connection lost before it reached Graph
        self.gates: list = []
        self.ca_path, cert, key = make_ca_and_server_certificate(self.folder)
        self._server = QuietServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
        self.port = self._server.server_address[1]
        self.tokens = Tokens(self.directory, self.base)
        # poll_interval: shutdown() waits up to one interval (socketserver.BaseServer.serve_forever,
        # whose default is 0.5 s).
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="local-entra", daemon=True)

    def reset(self, tenant_id: str | None = None) -> None:
        """A new, empty tenant (of `tenant_id`, default the same ID) behind the same server and CA:
        tests that share one server start each test from this."""
        self.directory = Directory(tenant_id or self.directory.tenant_id)
        self.graph = Graph(self.directory)
        self.tokens = Tokens(self.directory, self.base)
        self.requests.clear()
        self.bodies.clear()
        self.observers.clear()
        self.gates.clear()

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def base(self) -> str:
        return f"https://{self.host}"

    def __enter__(self) -> LocalEntra:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()

    # --- tokens (tokens.py) ----------------------------------------------------------------------
    def token_for(self, caller: Caller) -> str:
        return self.tokens.token_for(caller)

    def caller_of(self, authorization: str) -> Caller:
        return self.tokens.caller_of(authorization)

    def issue_token(self, form: dict, tenant: str | None = None) -> tuple[int, dict]:
        """The token endpoint's answer for `tenant` (default: this directory's)."""
        return self.tokens.issue(form, tenant or self.directory.tenant_id)

    def metadata(self) -> list | dict:
        return {"name": "LocalEntra", "resourceManager": f"{self.base}/arm/",
                "microsoftGraphResourceId": f"{self.base}/", "suffixes": {}, "portal": f"{self.base}/portal",
                "authentication": {"loginEndpoint": f"{self.base}/login", "audiences": [f"{self.base}/arm/"],
                                   "tenant": "common", "identityProvider": "AAD"}}

    def oidc_request_token(self, subject: str) -> str:
        """A request token for the stand-in OIDC issuer (tokens.py): its ID tokens carry `subject`."""
        token = secrets.token_urlsafe(24)
        self.tokens.oidc_request_tokens[token] = subject
        return token


def _handler_for(entra: LocalEntra):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # TCP_NODELAY on each accepted connection (socketserver.StreamRequestHandler.setup). _send
        # writes the headers and then the body, two small writes on an unbuffered socket: with
        # Nagle's algorithm the body waits for the client's delayed ACK of the headers, about 40 ms
        # on Linux, on every answer. Graph itself answers without that delay, and the wait pulled
        # every timing of the real-engine tests and benchmark toward the same constant.
        disable_nagle_algorithm = True

        def log_message(self, *args) -> None:  # quiet: tests read `entra.requests`
            pass

        def _record(self, status: int | None) -> None:
            # recorded before the answer goes out, so a caller that got its answer sees the request listed
            entra.requests.append((self.command, urllib.parse.urlsplit(self.path).path, status))

        def _send(self, status: int, body, headers: dict | None = None, record: bool = True) -> None:
            data = b"" if body is None else json.dumps(body).encode()
            if record:
                self._record(status)
            self.send_response(status)
            if body is not None:
                self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("request-id", str(uuid.uuid4()))
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(data)
            path = urllib.parse.urlsplit(self.path).path
            for observe in entra.observers:
                observe(self.command, path, status)

        def _reset(self) -> None:
            """Close the connection without an answer (a TCP reset where the socket allows it)."""
            self._record(None)
            self.close_connection = True
            try:
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            except OSError:
                pass
            self.connection.close()

        def _injected(self, fault) -> bool:
            """Act on a fault the test injected (faults.py): True when the connection was reset and
            nothing more is sent; a GraphError is raised, to be answered as Graph's error."""
            if fault == RESET:
                self._reset()
                return True
            if isinstance(fault, GraphError):
                raise fault
            return False

        def _error(self, error: GraphError) -> None:
            payload = {"code": error.code, "message": error.message, "innerError": {"request-id": str(uuid.uuid4())}}
            if getattr(error, "details", None):
                payload["details"] = error.details  # type: ignore[attr-defined]
            self._send(error.status, {"error": payload}, error.headers)

        def _body(self) -> bytes:
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_BODY:
                raise GraphError(413, "Request_EntityTooLarge", "The request body is too large.")
            return self.rfile.read(length) if length else b""

        def _dispatch(self) -> None:
            url = urllib.parse.urlsplit(self.path)
            query = dict(urllib.parse.parse_qsl(url.query, keep_blank_values=True))
            path = url.path
            try:
                raw = self._body()
                if path == "/metadata/endpoints":
                    return self._send(200, entra.metadata())
                if path == "/oidc/token" and self.command == "GET":
                    return self._send(*entra.tokens.oidc_token(self.headers.get("Authorization", ""), query.get("audience", "")))
                parts = path.strip("/").split("/")
                if parts[0] == "login" and len(parts) >= 3:
                    if path.endswith("/v2.0/.well-known/openid-configuration"):
                        return self._send(200, entra.tokens.openid_configuration(parts[1]))
                    if path.endswith("/oauth2/v2.0/token") and self.command == "POST":
                        form = dict(urllib.parse.parse_qsl(raw.decode()))
                        return self._send(*entra.issue_token(form, parts[1]))
                body = json.loads(raw) if raw else None
                entra.bodies.append((self.command, path, body))
                if any([gate(self.command, path, body) == RESET for gate in list(entra.gates)]):
                    return self._reset()
                with entra.directory.lock:
                    fault = entra.directory.faults.before(self.command, path)
                if self._injected(fault):
                    return
                caller = entra.caller_of(self.headers.get("Authorization", ""))
                if body is not None and not isinstance(body, dict):
                    raise GraphError(400, "BadRequest", "The request body must be a JSON object.")
                status, answer, headers = entra.graph.handle(caller, self.command, path, query, body)
                with entra.directory.lock:
                    fault = entra.directory.faults.after(self.command, path)
                if self._injected(fault):
                    return
                self._send(status, answer, headers)
            except GraphError as error:
                self._error(error)
            except (ValueError, KeyError) as error:
                self._send(400, {"error": {"code": "BadRequest", "message": f"Unable to read the request: {type(error).__name__}"}})

        do_GET = do_POST = do_PATCH = do_DELETE = do_PUT = _dispatch

    return Handler
