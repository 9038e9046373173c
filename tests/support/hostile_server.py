"""A hostile stand-in for Entra's token endpoint and for Graph, over TLS on 127.0.0.1: it serves a
proper OpenID configuration (so that MSAL goes on to the token request), and answers everything
else as the test tells it: a redirect to another origin, an error text that echoes the request, a
byte at a time, a body that never ends, JSON of the wrong shape. Every request it gets is recorded.
"""

from __future__ import annotations

import json
import ssl
import threading
import urllib.parse
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler

from mytimetable_emulation.localentra.server import QuietServer, make_ca_and_server_certificate

TRICKLE_SECONDS = 0.2  # between two bytes of a trickle


class HostileServer:
    """`answer(handler, method, path, body)` decides every answer but the OpenID configuration
    (`openid` False: that too). `requests` records (method, path, headers, body)."""

    def __init__(self, folder, answer: Callable | None = None, openid: bool = True, tls: tuple | None = None):
        """`tls`: (ca, cert, key) paths of another server's, so that a client trusting one trusts both."""
        self.answer = answer or (lambda handler, method, path, body: handler.send_json(200, {}))
        self.openid = openid
        self.requests: list = []
        self.stopping = threading.Event()
        self.tls = tls or make_ca_and_server_certificate(folder)
        self.ca, cert, key = self.tls
        self.server = QuietServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True  # a trickling answer never holds up the shutdown
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(str(cert), str(key))
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.url = f"https://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stopping.set()
        self.server.shutdown()
        self.server.server_close()

    def openid_configuration(self, tenant: str) -> dict:
        base = f"{self.url}/{tenant}"
        return {"issuer": f"{base}/v2.0", "token_endpoint": f"{base}/oauth2/v2.0/token",
                "authorization_endpoint": f"{base}/oauth2/v2.0/authorize"}

    def _handler(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def send_json(self, status: int, value, headers: dict | None = None) -> None:
                data = json.dumps(value).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for name, text in (headers or {}).items():
                    self.send_header(name, text)
                self.end_headers()
                self.wfile.write(data)

            def redirect(self, status: int, location: str) -> None:
                self.send_json(status, {}, {"Location": location})

            def trickle_body(self) -> None:
                """Headers at once, then a byte every TRICKLE_SECONDS of a body it never finishes."""
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", "1000000")
                self.end_headers()
                self._trickle(b"{" + b" " * 999_999)

            def trickle_headers(self) -> None:
                """The status line and headers a byte every TRICKLE_SECONDS, never finished."""
                self._trickle(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Slow: " + b"x" * 100_000)

            def _trickle(self, data: bytes) -> None:
                try:
                    for i in range(len(data)):
                        if server.stopping.wait(TRICKLE_SECONDS):
                            return
                        self.wfile.write(data[i:i + 1])
                        self.wfile.flush()
                except OSError:
                    pass  # the client gave up: what it should do

            def endless_body(self) -> None:
                """A chunked JSON body that never ends, as fast as the client reads."""
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                chunk = b"[" + b"0," * 32_000
                try:
                    while not server.stopping.is_set():
                        self.wfile.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
                except OSError:
                    pass

            def _serve(self, method: str) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode("utf-8", "replace") if length else ""
                path = urllib.parse.urlsplit(self.path).path
                server.requests.append((method, self.path, dict(self.headers), body))
                parts = path.strip("/").split("/")
                if server.openid and method == "GET" and parts[1:] == ["v2.0", ".well-known", "openid-configuration"]:
                    return self.send_json(200, server.openid_configuration(parts[0]))
                return server.answer(self, method, path, body)

            def do_GET(self):
                self._serve("GET")

            def do_POST(self):
                self._serve("POST")

        return Handler
