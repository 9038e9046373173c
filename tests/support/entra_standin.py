"""A local stand-in for Entra's token endpoint and Microsoft Graph, over TLS on 127.0.0.1.

It checks a client assertion as Entra does: the x5t (SHA-1) or x5t#S256 header names a
certificate registered on the app, the RS256/PS256 signature verifies with it, aud is the
token endpoint, iss and sub are the client ID, and the assertion is within its lifetime.
It answers each failure with Entra's error code, and Graph's calendar read with Graph's
errors. The TLS certificate comes from a test CA made here, as MSAL accepts only https.
"""

from __future__ import annotations

import base64
import datetime as _dt
import hashlib
import json
import ssl
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def make_tls_material(folder):
    """A test CA and a server certificate for 127.0.0.1/localhost signed by it; returns (ca, cert, key) paths.
    P-256 keys: this TLS is the stand-in's transport only (the keys Entra checks are the certificates
    its apps register), and an EC key is made in microseconds where an RSA key takes 10-70 ms, and
    makes each handshake cheaper on both ends."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = _dt.datetime.now(_dt.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Test CA for the Entra stand-in")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number()).not_valid_before(now - _dt.timedelta(hours=1))
          .not_valid_after(now + _dt.timedelta(days=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                                       data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
                                       encipher_only=False, decipher_only=False), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    server = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
              .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
              .not_valid_before(now - _dt.timedelta(hours=1)).not_valid_after(now + _dt.timedelta(days=1))
              .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                          x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
              .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
              .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
              .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
              .sign(ca_key, hashes.SHA256()))
    paths = folder / "ca.pem", folder / "server.pem", folder / "server-key.pem"
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(server.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return paths


def make_token(claims: dict) -> str:
    """An unsigned JWT carrying `claims`, shaped as Entra's access tokens are (header.payload.signature)."""
    return ".".join([b64url(b'{"alg":"none","typ":"JWT"}'), b64url(json.dumps(claims).encode()), ""])


class EntraStandIn:
    """apps: {tenant: {client_id: {"certificates": [pem], "roles": [..], "rbac_mailboxes": {..},
    "secrets": [..] (client secrets), "federated": [..] (OIDC tokens accepted as client assertion),
    "claims": {..} (claims to put into or override in its tokens, e.g. an expired "exp" or another "tid")}}};
    mailboxes: {address: "ok" | "denied"} ("denied": blocked by an application access policy)."""

    def __init__(self, folder):
        self.apps: dict = {}
        self.mailboxes: dict = {}
        self.tokens: dict = {}
        self.assertions: list = []
        self.ca, cert, key = make_tls_material(folder)
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(str(cert), str(key))
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.url = f"https://127.0.0.1:{self.server.server_address[1]}"
        # poll_interval: shutdown() waits up to one interval (socketserver.BaseServer.serve_forever; the
        # default, 0.5 s, at every fixture teardown)
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

    # -- token endpoint ------------------------------------------------------------------
    def token(self, tenant: str, form: dict) -> tuple[int, dict]:
        def fail(status, error, code, text):
            return status, {"error": error, "error_description": f"AADSTS{code}: {text}", "error_codes": [code]}

        if tenant not in self.apps:
            return fail(400, "invalid_request", 90002, f"Tenant '{tenant}' not found.")
        client_id = form.get("client_id", "")
        app = self.apps[tenant].get(client_id)
        if app is None:
            return fail(400, "unauthorized_client", 700016,
                        f"Application with identifier '{client_id}' was not found in the directory '{tenant}'.")
        if form.get("grant_type") != "client_credentials":
            return fail(400, "unsupported_grant_type", 70003, "The app requested an unsupported grant type.")
        if "client_secret" in form:
            if form["client_secret"] not in app.get("secrets", ()):
                return fail(401, "invalid_client", 7000215, "Invalid client secret provided.")
        elif form.get("client_assertion_type") != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer":
            return fail(400, "invalid_request", 900144, "The request body must contain client_assertion.")
        elif form.get("client_assertion", "") in app.get("federated", ()):
            pass  # workload identity federation: an OIDC token the app's federated credential trusts
        else:
            problem = self.check_assertion(form.get("client_assertion", ""), client_id, app.get("certificates", []),
                                           f"{self.url}/{tenant}/oauth2/v2.0/token")
            if problem:
                return fail(401, "invalid_client", *problem)
        now = int(time.time())
        claims = {"aud": "https://graph.microsoft.com", "tid": tenant, "appid": client_id, "idtyp": "app",
                  "iat": now, "exp": now + 3599, "roles": list(app.get("roles", ())), **app.get("claims", {})}
        token = make_token(claims)
        self.tokens[token] = claims
        return 200, {"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599, "access_token": token}

    def check_assertion(self, assertion: str, client_id: str, certificates: list, audience: str):
        from cryptography import x509
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding

        try:
            head_b64, body_b64, sig_b64 = assertion.split(".")
            header, claims = json.loads(b64url_decode(head_b64)), json.loads(b64url_decode(body_b64))
        except ValueError:
            return 700027, "Client assertion contains an invalid signature."
        self.assertions.append((header, claims))
        registered = {}
        for pem in certificates:
            der = x509.load_pem_x509_certificate(pem.encode()).public_bytes(serialization_der())
            registered[("x5t", b64url(hashlib.sha1(der).digest()))] = pem
            registered[("x5t#S256", b64url(hashlib.sha256(der).digest()))] = pem
        # Thumbprints are base64url; MSAL keeps the padding, Entra accepts either.
        pem = (registered.get(("x5t#S256", str(header.get("x5t#S256", "")).rstrip("=")))
               or registered.get(("x5t", str(header.get("x5t", "")).rstrip("="))))
        if pem is None:
            return 700027, ("Client assertion failed signature validation. The key was not found: no certificate "
                            f"with this thumbprint is registered on application '{client_id}'.")
        public_key = x509.load_pem_x509_certificate(pem.encode()).public_key()
        signed, signature = f"{head_b64}.{body_b64}".encode(), b64url_decode(sig_b64)
        try:
            if header.get("alg") == "RS256":
                public_key.verify(signature, signed, padding.PKCS1v15(), hashes.SHA256())
            elif header.get("alg") == "PS256":
                public_key.verify(signature, signed, padding.PSS(mgf=padding.MGF1(hashes.SHA256()),
                                                                 salt_length=padding.PSS.AUTO), hashes.SHA256())
            else:
                return 700027, f"Client assertion uses an unsupported algorithm {header.get('alg')}."
        except InvalidSignature:
            return 700027, "Client assertion failed signature validation."
        if claims.get("aud") != audience:
            return 700027, f"Client assertion audience {claims.get('aud')} is not the token endpoint."
        if claims.get("iss") != client_id or claims.get("sub") != client_id:
            return 700027, "Client assertion issuer and subject must be the client ID."
        now = time.time()
        if not (claims.get("exp", 0) > now and claims.get("nbf", now) <= now + 300):
            return 700024, "Client assertion is not within its valid time range."
        return None

    # -- Graph --------------------------------------------------------------------------
    def calendar(self, mailbox: str, authorization: str) -> tuple[int, dict]:
        claims = self.tokens.get(authorization.removeprefix("Bearer "))
        if claims is None:
            return 401, {"error": {"code": "InvalidAuthenticationToken", "message": "Access token validation failure."}}
        state = self.mailboxes.get(mailbox)
        app = self.apps.get(claims["tid"], {}).get(claims["appid"], {})
        if "Calendars.ReadWrite" not in claims["roles"]:
            # RBAC for Applications: Exchange grants per mailbox, the token carries no role.
            if state is not None and mailbox in app.get("rbac_mailboxes", ()):
                return 200, {"id": "AAMkAGI2", "name": "Calendar", "canEdit": True, "owner": {"address": mailbox}}
            return 403, {"error": {"code": "ErrorAccessDenied", "message": "Access is denied. Check credentials and try again."}}
        if state is None:
            return 404, {"error": {"code": "ErrorInvalidUser", "message": f"The requested user '{mailbox}' is invalid."}}
        if state == "denied":
            return 403, {"error": {"code": "ErrorAccessDenied",
                                   "message": "Access to OData is disabled: [RAOP] : Blocked by tenant configured AppOnly AccessPolicy settings."}}
        return 200, {"id": "AAMkAGI2", "name": "Calendar", "canEdit": True, "owner": {"address": mailbox}}

    def _handler(self):
        standin = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _send(self, status, body):
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                parts = urllib.parse.urlsplit(self.path).path.strip("/").split("/")
                if parts[1:] == ["v2.0", ".well-known", "openid-configuration"]:
                    base = f"{standin.url}/{parts[0]}"
                    return self._send(200, {
                        "issuer": f"{base}/v2.0", "token_endpoint": f"{base}/oauth2/v2.0/token",
                        "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
                        "device_authorization_endpoint": f"{base}/oauth2/v2.0/devicecode",
                    })
                if len(parts) == 4 and parts[0] == "v1.0" and parts[1] == "users" and parts[3] == "calendar":
                    return self._send(*standin.calendar(urllib.parse.unquote(parts[2]), self.headers.get("Authorization", "")))
                return self._send(404, {"error": {"code": "ResourceNotFound", "message": self.path}})

            def do_POST(self):
                parts = urllib.parse.urlsplit(self.path).path.strip("/").split("/")
                length = int(self.headers.get("Content-Length") or 0)
                form = dict(urllib.parse.parse_qsl(self.rfile.read(length).decode()))
                if parts[1:] == ["oauth2", "v2.0", "token"]:
                    return self._send(*standin.token(parts[0], form))
                return self._send(404, {"error": "not_found"})

        return Handler


def serialization_der():
    from cryptography.hazmat.primitives import serialization

    return serialization.Encoding.DER
