"""The local API Gateway opens its port only once the stack behind it is whole."""

from __future__ import annotations

import pytest


def test_the_gateway_refuses_connections_until_the_stack_is_wired():
    import socket

    from smsdesk_local.http_gateway import HttpGateway

    gateway = HttpGateway([], lambda method, path, body: (200, {}), lambda *args: None)
    url = gateway.start(0)
    port = int(url.rsplit(":", 1)[1])
    try:
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", port), timeout=2)
        gateway.listen()
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
    finally:
        gateway.stop()
