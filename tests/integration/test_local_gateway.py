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


def test_a_chunked_webhook_body_is_refused_411_and_nothing_leaks_into_the_next_request():
    import http.client

    from smsdesk_local.http_gateway import HttpGateway

    gateway = HttpGateway([], lambda method, path, body: (200, {"seen": path}), lambda *args: None)
    port = int(gateway.start(0).rsplit(":", 1)[1])
    gateway.listen()
    try:
        for _ in range(20):
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            body = iter([b"GET /_local/info HTTP/1.1\r\n\r\n", b"Body=hi"])
            connection.request(
                "POST",
                "/sms/inbound",
                body=body,
                encode_chunked=True,
                headers={"Content-Type": "application/x-www-form-urlencoded"},
            )
            response = connection.getresponse()
            assert response.status == 411
            response.read()
            connection.close()
    finally:
        gateway.stop()
