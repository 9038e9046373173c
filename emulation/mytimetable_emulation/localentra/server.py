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
  `{"error", "error_description"}` with AADSTS codes. Access tokens carry the claims Graph's
  callers read (https://learn.microsoft.com/entra/identity-platform/access-token-claims-reference).
- Throttling: 429 with Retry-After (https://learn.microsoft.com/graph/throttling).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import ipaddress
import json
import os
import secrets
import ssl
import threading
import time
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from mytimetable_o365.rules.access import DIRECTORY_ROLE_IDS

from .directory import Caller, Directory, GraphError
from .graph import Graph
from .key_credentials import certificate_of

MAX_BODY = 1 << 20
TOKEN_LIFETIME = 3600


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def make_ca_and_server_certificate(folder: Path) -> tuple[Path, Path, Path]:
    """(CA certificate, server certificate, server key) as PEM files: the CA is made for this run
    only; the server certificate names 127.0.0.1 and localhost (Go checks IP SANs)."""
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
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    server = (x509.CertificateBuilder()
              .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
              .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
              .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=2))
              .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                                                          x509.DNSName("localhost")]), critical=False)
              .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
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
        self._signing_key = secrets.token_bytes(32)
        self.requests: list[tuple[str, str, int]] = []  # (method, path, status): what was called
        self.observers: list = []  # called with (method, path, status) after each Graph request
        self.ca_path, cert, key = make_ca_and_server_certificate(self.folder)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
        self.port = self._server.server_address[1]
        # poll_interval: shutdown() waits up to one interval (socketserver.BaseServer.serve_forever,
        # whose default is 0.5 s).
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="local-entra", daemon=True)

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

    # --- tokens --------------------------------------------------------------------------------
    def token_for(self, caller: Caller) -> str:
        now = int(time.time())
        claims = {"aud": self.base, "iss": f"{self.base}/login/{self.directory.tenant_id}/v2.0",
                  "iat": now, "nbf": now, "exp": now + TOKEN_LIFETIME, "tid": self.directory.tenant_id,
                  "oid": caller.object_id, "sub": caller.object_id, "appid": caller.app_id, "azp": caller.app_id,
                  "idtyp": caller.kind, "ver": "2.0"}
        if caller.kind == "app":
            claims["roles"] = sorted(caller.roles)
            claims["app_displayname"] = caller.display_name
        else:
            claims["wids"] = sorted(DIRECTORY_ROLE_IDS[r] for r in caller.directory_roles)
            claims["scp"] = "Application.ReadWrite.All Directory.Read.All"
            claims["upn"] = f"{caller.display_name}@localentra.example"
        header = _b64(json.dumps({"typ": "JWT", "alg": "HS256", "kid": "local-entra"}).encode())
        payload = _b64(json.dumps(claims).encode())
        signature = hmac.new(self._signing_key, f"{header}.{payload}".encode(), hashlib.sha256).digest()
        return f"{header}.{payload}.{_b64(signature)}"

    def caller_of(self, authorization: str) -> Caller:
        token = authorization[7:] if authorization.startswith("Bearer ") else ""
        parts = token.split(".")
        if len(parts) != 3:
            raise GraphError(401, "InvalidAuthenticationToken", "Access token is empty.")
        expected = hmac.new(self._signing_key, f"{parts[0]}.{parts[1]}".encode(), hashlib.sha256).digest()
        if not hmac.compare_digest(expected, _unb64(parts[2])):
            raise GraphError(401, "InvalidAuthenticationToken", "Access token validation failure. Invalid audience.")
        claims = json.loads(_unb64(parts[1]))
        if claims["exp"] < time.time():
            raise GraphError(401, "InvalidAuthenticationToken", "Lifetime validation failed, the token is expired.")
        caller = self.directory.caller_by_object(claims["oid"])
        if caller is None:
            raise GraphError(401, "InvalidAuthenticationToken", "The identity of the token no longer exists.")
        return caller

    def issue_token(self, form: dict) -> tuple[int, dict]:
        """The token endpoint's answer to a client-credentials request."""
        client_id = form.get("client_id", "")
        if form.get("grant_type") != "client_credentials":
            return 400, {"error": "unsupported_grant_type", "error_description": "AADSTS70003: The app requested an unsupported grant type."}
        if "client_assertion" in form:
            caller = self._assertion_caller(client_id, form["client_assertion"])
        else:
            known = self.directory.secrets.get(client_id)
            if known is None:
                return 400, {"error": "unauthorized_client", "error_description":
                             f"AADSTS700016: Application with identifier '{client_id}' was not found in the directory."}
            if not hmac.compare_digest(known, form.get("client_secret", "")):
                return 401, {"error": "invalid_client", "error_description":
                             "AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is "
                             f"the client secret value, not the client secret ID, for a secret added to app '{client_id}'."}
            caller = self.directory.caller_by_client(client_id)
        if caller is None:
            return 401, {"error": "invalid_client", "error_description": "AADSTS700027: The certificate with identifier "
                         "used to sign the client assertion is not registered on application."}
        return 200, {"token_type": "Bearer", "expires_in": TOKEN_LIFETIME, "ext_expires_in": TOKEN_LIFETIME,
                     "access_token": self.token_for(caller)}

    def _assertion_caller(self, client_id: str, assertion: str) -> Caller | None:
        """A certificate credential: the assertion's x5t#S256 or x5t names a keyCredential of the
        app, and its RS256 or PS256 signature verifies with that certificate."""
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding

        try:
            head, body, signature = assertion.split(".")
            header = json.loads(_unb64(head))
            # Entra takes the certificate's SHA-256 thumbprint (x5t#S256) or its SHA-1 one (x5t)
            # (https://learn.microsoft.com/entra/identity-platform/certificate-credentials).
            sha256 = _unb64(header["x5t#S256"]).hex() if "x5t#S256" in header else None
            sha1 = _unb64(header.get("x5t", "")).hex().upper()
        except (ValueError, TypeError, KeyError):
            return None
        with self.directory.lock:
            app = next((a for a in self.directory.applications.values() if a["appId"] == client_id), None)

            def matches(k: dict) -> bool:
                if sha256 is not None:
                    return certificate_of(k).fingerprint(hashes.SHA256()).hex() == sha256
                return k["customKeyIdentifier"] == sha1

            credential = next((k for k in (app or {}).get("keyCredentials", []) if matches(k)), None)
            if credential is None:
                return None
            from cryptography.hazmat.primitives.asymmetric import rsa

            public_key = certificate_of(credential).public_key()
            if not isinstance(public_key, rsa.RSAPublicKey):
                return None
            # RS256 or PS256, the two algorithms Entra accepts for client assertions (RFC 7518, 3.3 and 3.5).
            scheme = (padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32) if header.get("alg") == "PS256"
                      else padding.PKCS1v15())
            try:
                public_key.verify(_unb64(signature), f"{head}.{body}".encode(), scheme, hashes.SHA256())
            except Exception:  # noqa: BLE001 - any verification failure is a refusal
                return None
            sp = self.directory.sp_by_app_id(client_id)
            return self.directory.caller_for_sp(sp) if sp else None

    def openid_configuration(self, tenant: str) -> dict:
        login = f"{self.base}/login/{tenant}"
        return {"token_endpoint": f"{login}/oauth2/v2.0/token", "authorization_endpoint": f"{login}/oauth2/v2.0/authorize",
                "issuer": f"{login}/v2.0", "jwks_uri": f"{login}/discovery/v2.0/keys",
                "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt"],
                "response_types_supported": ["code"], "subject_types_supported": ["pairwise"],
                "id_token_signing_alg_values_supported": ["RS256"], "tenant_region_scope": "EU"}

    def metadata(self) -> list | dict:
        return {"name": "LocalEntra", "resourceManager": f"{self.base}/arm/",
                "microsoftGraphResourceId": f"{self.base}/", "suffixes": {}, "portal": f"{self.base}/portal",
                "authentication": {"loginEndpoint": f"{self.base}/login", "audiences": [f"{self.base}/arm/"],
                                   "tenant": "common", "identityProvider": "AAD"}}

    # --- faults ----------------------------------------------------------------------------------
    def fault_for(self, method: str, path: str) -> GraphError | None:
        faults = self.directory.faults
        with self.directory.lock:
            for entry in faults.throttle:
                if entry[0] == method and path.startswith(entry[1]) and entry[2] > 0:
                    entry[2] -= 1
                    return GraphError(429, "TooManyRequests", "Too many requests.", {"Retry-After": str(entry[3])})
            for entry in list(faults.fail_once):
                if entry[0] == method and path.startswith(entry[1]):
                    faults.fail_once.remove(entry)
                    return GraphError(entry[2], "serviceNotAvailable", "The service is temporarily unavailable.")
        return None


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

        def _send(self, status: int, body, headers: dict | None = None) -> None:
            data = b"" if body is None else json.dumps(body).encode()
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
            entra.requests.append((self.command, path, status))
            for observe in entra.observers:
                observe(self.command, path, status)

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
                parts = path.strip("/").split("/")
                if parts[0] == "login" and len(parts) >= 3:
                    if path.endswith("/v2.0/.well-known/openid-configuration"):
                        return self._send(200, entra.openid_configuration(parts[1]))
                    if path.endswith("/oauth2/v2.0/token") and self.command == "POST":
                        form = dict(urllib.parse.parse_qsl(raw.decode()))
                        return self._send(*entra.issue_token(form))
                fault = entra.fault_for(self.command, path)
                if fault is not None:
                    raise fault
                caller = entra.caller_of(self.headers.get("Authorization", ""))
                body = json.loads(raw) if raw else None
                if body is not None and not isinstance(body, dict):
                    raise GraphError(400, "BadRequest", "The request body must be a JSON object.")
                status, answer, headers = entra.graph.handle(caller, self.command, path, query, body)
                self._send(status, answer, headers)
            except GraphError as error:
                self._send(error.status, {"error": {"code": error.code, "message": error.message,
                                                    "innerError": {"request-id": str(uuid.uuid4())}}}, error.headers)
            except (ValueError, KeyError) as error:
                self._send(400, {"error": {"code": "BadRequest", "message": f"Unable to read the request: {type(error).__name__}"}})

        do_GET = do_POST = do_PATCH = do_DELETE = do_PUT = _dispatch

    return Handler
