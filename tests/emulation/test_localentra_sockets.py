"""Local Entra's connections: each answer leaves at once, not after the client's delayed ACK."""

from __future__ import annotations

import http.client
import socket
import ssl

from mytimetable_emulation.localentra.server import LocalEntra


def test_local_entra_answers_on_connections_with_nagles_algorithm_off(tmp_path):
    seen = []
    with LocalEntra(tmp_path / "entra") as entra:
        handler = entra._server.RequestHandlerClass
        original_handle = handler.handle

        def handle(self):  # the socket as the handler answers on it
            seen.append(self.connection.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
            original_handle(self)

        handler.handle = handle
        context = ssl.create_default_context(cafile=str(entra.ca_path))
        connection = http.client.HTTPSConnection("127.0.0.1", entra.port, context=context, timeout=10)
        for _ in range(2):  # two answers on one kept-alive connection, as the Go client sends them
            connection.request("GET", "/metadata/endpoints?api-version=2022-09-01")
            answer = connection.getresponse()
            assert answer.status == 200 and answer.read()
        connection.close()
    assert seen and all(seen), seen
