"""The local stand-in's AWS endpoint keeps connections open, as AWS's do, without ever reading
one request into the next."""

from __future__ import annotations

import http.client
import json
import threading
from http.server import ThreadingHTTPServer

import pytest

from smsdesk_local.aws_server import KeepAliveWsgi


def echo(environ, start_response):
    body = environ["wsgi.input"].read()
    payload = json.dumps(
        {
            "path": environ["PATH_INFO"],
            "query": environ["QUERY_STRING"],
            "body": body.decode(),
            "target": environ.get("HTTP_X_AMZ_TARGET"),
        }
    ).encode()
    start_response("200 OK", [("Content-Type", "application/json"), ("Connection", "close")])
    return [payload]


def ignores_the_body(environ, start_response):
    start_response("204 No Content", [])
    return []


@pytest.fixture
def server():
    def start(app):
        handler = type("Handler", (KeepAliveWsgi,), {"app": staticmethod(app)})
        httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        httpd.daemon_threads = True
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
        started.append(httpd)
        return httpd.server_address[1]

    started: list[ThreadingHTTPServer] = []
    yield start
    for httpd in started:
        httpd.shutdown()
        httpd.server_close()


def test_requests_follow_each_other_on_one_connection(server):
    connection = http.client.HTTPConnection("127.0.0.1", server(echo), timeout=5)
    answers = []
    for n, path in enumerate(["/", "/schedules/survey-C-7F3K-0?groupName=smsdesk", "/caf%C3%A9"]):
        connection.request(
            "POST", path, body=json.dumps({"n": n}), headers={"X-Amz-Target": f"DynamoDB_20120810.Op{n}"}
        )
        response = connection.getresponse()
        assert response.status == 200
        answers.append(json.loads(response.read()))
        assert response.getheader("Connection") is None  # the application's "close" is not passed on
    assert [a["body"] for a in answers] == ['{"n": 0}', '{"n": 1}', '{"n": 2}']
    assert answers[1]["path"] == "/schedules/survey-C-7F3K-0" and answers[1]["query"] == "groupName=smsdesk"
    assert answers[2]["path"] == "/café".encode().decode("latin-1")  # WSGI: bytes as latin-1
    assert [a["target"] for a in answers] == ["DynamoDB_20120810.Op0", "DynamoDB_20120810.Op1", "DynamoDB_20120810.Op2"]


def test_a_body_the_application_leaves_unread_does_not_leak_into_the_next_request(server):
    connection = http.client.HTTPConnection("127.0.0.1", server(ignores_the_body), timeout=5)
    for _ in range(2):
        connection.request("POST", "/", body=b"GET /not-a-request HTTP/1.1\r\n\r\n" * 100)
        response = connection.getresponse()
        response.read()
        assert response.status == 204


def test_a_chunked_body_is_refused(server):
    connection = http.client.HTTPConnection("127.0.0.1", server(echo), timeout=5)
    connection.request("POST", "/", body=iter([b"{}"]), encode_chunked=True)
    response = connection.getresponse()
    assert response.status == 411
    assert response.getheader("Connection") == "close"


def test_a_chunked_body_is_read_before_the_refusal_so_the_client_never_writes_into_a_closed_socket(server):
    # The client writes its headers, then each chunk: answering (and closing) in between made
    # its next write fail about one time in twenty. Fifty requests, each with several chunks.
    port = server(echo)
    for _ in range(50):
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        connection.request("POST", "/", body=iter([b"{", b'"a": 1', b"}"] * 20), encode_chunked=True)
        response = connection.getresponse()
        assert (response.status, json.loads(response.read())["message"].split(":")[0]) == (411, "Length Required")
        connection.close()
