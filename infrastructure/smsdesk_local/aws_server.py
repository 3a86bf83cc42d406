"""The AWS side of the local stack, in a process of its own: moto, with a front.

moto does the work of DynamoDB (with streams and transactions), EventBridge, SQS, Scheduler and
Secrets Manager. It runs in its own process so that it uses the machine's second core while the
functions run in the stack's process: about half the time of a complaint is moto's.

:class:`AwsFront` sits in front of it and adds what the local stack needs and moto lacks:

* it meters what the functions use: requests by service and operation, DynamoDB request units,
  EventBridge entries (the running cost; the stand-in's own polling is signed with
  :data:`PLATFORM_ACCESS_KEY` and not counted);
* it validates ``CreateSchedule`` as EventBridge Scheduler does (moto accepts any ``at()`` text)
  and notes the schedules created and deleted, for the scheduler stand-in to follow;
* it serialises DynamoDB requests: moto's DynamoDB is not thread-safe (a conditional put is a
  read, then a write) and its server is threaded (see also :mod:`smsdesk_local.moto_dynamodb`).

``GET /_smsdesk/usage`` and ``GET /_smsdesk/schedule-changes`` hand those notes to the stack.
``python -m smsdesk_local.aws_server --port 0`` prints ``ready http://127.0.0.1:<port>``.
"""

from __future__ import annotations

import argparse
import io
import json
import logging
import math
import os
import queue
import re
import sys
import threading
from collections import Counter, defaultdict
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote, unquote_to_bytes
from zoneinfo import ZoneInfo

PLATFORM_ACCESS_KEY = "local-platform"
MOTO_ACCOUNT, MOTO_REGION = "123456789012", "us-east-1"  # moto's default account; the stack's region
_CREDENTIAL = re.compile(r"Credential=(?P<key>[^/,\s]+)/\d{8}/[^/]+/(?P<service>[^/]+)/")
_AT = re.compile(r"at\((\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})\)")


class AwsFront:
    """In front of moto: meters what the functions use (the running cost), and validates what
    moto does not (EventBridge Scheduler accepts any ``at()`` text there)."""

    def __init__(self, app: Any) -> None:
        self._app = app
        self._lock = threading.Lock()
        self._dynamodb = threading.Lock()  # see smsdesk_local.moto_dynamodb
        self.requests: Counter[tuple[str, str]] = Counter()  # (service, operation) -> count
        # What AWS bills beyond requests: DynamoDB request units, EventBridge entries.
        self.units: defaultdict[str, float] = defaultdict(float)  # read units come in halves
        # Schedules created and deleted, as seen going by: the scheduler stand-in follows them
        # without listing every schedule on every poll.
        self.schedule_changes: queue.SimpleQueue[tuple[str, str, str]] = queue.SimpleQueue()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        if environ.get("PATH_INFO", "").startswith("/_smsdesk/"):
            return self._notes(environ, start_response)
        credential = _CREDENTIAL.search(environ.get("HTTP_AUTHORIZATION", ""))
        service = credential.group("service") if credential else "unknown"
        metered = credential is None or credential.group("key") != PLATFORM_ACCESS_KEY
        operation = environ.get("HTTP_X_AMZ_TARGET", "").rsplit(".", 1)[-1]
        operation = _operation_name(service, operation or f"{environ['REQUEST_METHOD']} {environ.get('PATH_INFO', '')}")
        change = None
        if service == "scheduler" and environ.get("PATH_INFO", "").startswith("/schedules/"):
            problem, change = _schedule_request(environ)
            if problem:
                payload = json.dumps({"message": problem}).encode()
                start_response(
                    "400 Bad Request",
                    [
                        ("Content-Type", "application/json"),
                        ("x-amzn-ErrorType", "ValidationException"),
                        ("Content-Length", str(len(payload))),
                    ],
                )
                return [payload]
        request_body = _read_body(environ) if metered and service in {"dynamodb", "events"} else b""
        status: list[str] = []

        def respond(code: str, headers: Any, *args: Any) -> Any:
            status.append(code)
            return start_response(code, headers, *args)

        billed: defaultdict[str, float] = defaultdict(float)
        if operation == "GetRecords" and service == "dynamodb":
            with self._dynamodb:
                return _stream_records(request_body or _read_body(environ), start_response)
        if service in {"dynamodb", "dynamodbstreams"}:
            with self._dynamodb:
                meter = DynamoDbMeter(operation, request_body) if request_body else None
                answer = list(self._app(environ, respond))
                if meter is not None and status and status[0].startswith("2"):
                    billed = meter.units(b"".join(answer))
        else:
            answer = list(self._app(environ, respond))
            if service == "events" and operation == "PutEvents" and status and status[0].startswith("2"):
                billed["eventbridge_events"] += len(json.loads(request_body or b"{}").get("Entries", []))
        succeeded = bool(status) and status[0].startswith("2")
        if metered:
            with self._lock:
                self.requests[(service, operation)] += 1
                for name, amount in billed.items():
                    self.units[name] += amount
        if change is not None and succeeded:
            self.schedule_changes.put(change)  # after moto holds it: the runner reads it next
        return answer

    def _notes(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        """The stack reads what the front noted: usage metered, schedules changed."""
        query = dict(parse_qsl(environ.get("QUERY_STRING", "")))
        if environ["PATH_INFO"] == "/_smsdesk/usage":
            with self._lock:
                requests = [[service, operation, n] for (service, operation), n in self.requests.items()]
                payload: Any = {"requests": requests, "units": dict(self.units)}
                if query.get("reset"):
                    self.requests, self.units = Counter(), defaultdict(float)
        else:
            changes = []
            while not self.schedule_changes.empty():
                changes.append(self.schedule_changes.get_nowait())
            payload = changes
        body = json.dumps(payload).encode()
        start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
        return [body]


def _read_body(environ: dict[str, Any]) -> bytes:
    body: bytes = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
    environ["wsgi.input"] = io.BytesIO(body)
    return body


class DynamoDbMeter:
    """DynamoDB's on-demand request units for one call, from the real sizes of the items it
    touches (read from moto's tables before and after, under the DynamoDB lock).

    A write costs one write unit per KB of the larger of the item before and after (a put, an
    update, a delete alike); in a transaction each action costs twice that, a ConditionCheck
    included (measured: it bills as a write). A read costs one read unit per 4 KB, half when
    eventually consistent."""

    def __init__(self, operation: str, request_body: bytes) -> None:
        self._operation = operation
        self._request = json.loads(request_body or b"{}")
        self._writes = self._targets()
        self._before = [self._stored_size(table, key) for table, key, _ in self._writes]

    def _targets(self) -> list[tuple[str, dict[str, Any], int]]:
        """(table, key, multiplier) of every item this call writes."""
        request, operation = self._request, self._operation
        if operation in {"PutItem", "UpdateItem", "DeleteItem"}:
            return [(request["TableName"], request.get("Key") or request.get("Item", {}), 1)]
        if operation == "TransactWriteItems":
            targets = []
            for entry in request.get("TransactItems", []):
                for action in entry.values():
                    targets.append((action["TableName"], action.get("Key") or action.get("Item", {}), 2))
            return targets
        return []

    def units(self, response_body: bytes) -> defaultdict[str, float]:
        """Units billed; the analytics' own (items keyed ANALYTICS#) also apart, for its share."""
        units: defaultdict[str, float] = defaultdict(float)
        for (table, key, multiplier), before in zip(self._writes, self._before, strict=True):
            after = self._stored_size(table, key)
            billed = multiplier * max(1, math.ceil(max(before, after) / 1024))
            units["dynamodb_write_units"] += billed
            if _is_analytics(key):
                units["analytics_dynamodb_write_units"] += billed
        if self._operation in {"GetItem", "Query", "Scan", "BatchGetItem"}:
            read = self._read_units(json.loads(response_body or b"{}"))
            units["dynamodb_read_units"] += read
            request = self._request
            if _is_analytics(request.get("Key") or {}) or _is_analytics(
                {"pk": (request.get("ExpressionAttributeValues") or {}).get(":pk") or {}}
            ):
                units["analytics_dynamodb_read_units"] += read
        return units

    def _read_units(self, response: dict[str, Any]) -> float:
        request = self._request
        if self._operation == "BatchGetItem":
            return sum(
                self._read_cost([i.get("Item", i) for i in items], request["RequestItems"][table])
                for table, items in response.get("Responses", {}).items()
            )
        items = [response["Item"]] if "Item" in response else response.get("Items", [])
        return self._read_cost(items, request)

    @staticmethod
    def _read_cost(items: list[dict[str, Any]], request: dict[str, Any]) -> float:
        from moto.dynamodb.models.dynamo_type import Item

        size = sum(Item(None, None, item).size() for item in items)  # type: ignore[arg-type,misc]
        return max(1, math.ceil(size / 4096)) * (1.0 if request.get("ConsistentRead") else 0.5)

    @staticmethod
    def _stored_size(table_name: str, key_or_item: dict[str, Any]) -> int:
        from moto.dynamodb.models import dynamodb_backends

        backend = dynamodb_backends[MOTO_ACCOUNT][MOTO_REGION]
        try:
            table = backend.get_table(table_name)
            hash_key, range_key = backend.get_keys_value(table, key_or_item)
            item = table.get_item(hash_key, range_key)
        except Exception:
            return 0
        return item.size() if item is not None else 0


def _is_analytics(key: dict[str, Any]) -> bool:
    return str((key.get("pk") or {}).get("S", "")).startswith("ANALYTICS#")


def _stream_records(request_body: bytes, start_response: Any) -> list[bytes]:
    """DynamoDB Streams' GetRecords, answered from moto's stream as plain JSON.

    moto's model-driven serialiser took 5-7 ms a record (a second for a batch, under the lock
    every DynamoDB call waits on): the outbox relay's reads were the local stack's bottleneck."""
    from moto.dynamodbstreams.models import dynamodbstreams_backends

    request = json.loads(request_body or b"{}")
    backend = dynamodbstreams_backends[MOTO_ACCOUNT][MOTO_REGION]
    result = backend.get_records(request["ShardIterator"], int(request.get("Limit") or 1000))
    records = []
    for record in result["Records"]:
        data = dict(record["dynamodb"])
        created = data.get("ApproximateCreationDateTime")
        if isinstance(created, str):  # moto keeps it as text; the API answers epoch seconds
            data["ApproximateCreationDateTime"] = datetime.fromisoformat(created).replace(tzinfo=UTC).timestamp()
        records.append({**record, "dynamodb": data})
    body = json.dumps({"NextShardIterator": result["NextShardIterator"], "Records": records}).encode()
    start_response("200 OK", [("Content-Type", "application/x-amz-json-1.0"), ("Content-Length", str(len(body)))])
    return [body]


def _operation_name(service: str, operation: str) -> str:
    """REST-style APIs (Scheduler) have no X-Amz-Target: name their calls by method and path."""
    if service == "scheduler" and " " in operation:
        method, path = operation.split(" ", 1)
        noun = "Schedule" if path.startswith("/schedules") else "ScheduleGroup"
        return {"POST": "Create", "GET": "Get", "DELETE": "Delete", "PUT": "Update"}.get(method, method) + noun
    return operation


def _schedule_request(environ: dict[str, Any]) -> tuple[str | None, tuple[str, str, str] | None]:
    """A Scheduler call on one schedule: what is wrong with it (or None), and the change it makes."""
    name = unquote(environ["PATH_INFO"].removeprefix("/schedules/"))
    method = environ["REQUEST_METHOD"]
    if method == "DELETE":
        group = dict(parse_qsl(environ.get("QUERY_STRING", ""))).get("groupName") or "default"
        return None, ("deleted", group, name)
    if method != "POST":
        return None, None
    body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
    environ["wsgi.input"] = io.BytesIO(body)
    problem = _invalid_schedule(body)
    if problem:
        return problem, None
    return None, ("created", json.loads(body or b"{}").get("GroupName") or "default", name)


def _invalid_schedule(body: bytes) -> str | None:
    """What EventBridge Scheduler would reject in a CreateSchedule, in its words (or None)."""
    try:
        request = json.loads(body or b"{}")
    except ValueError:
        return "the request body is not JSON"
    expression = str(request.get("ScheduleExpression", ""))
    zone = request.get("ScheduleExpressionTimezone") or "UTC"
    try:
        ZoneInfo(zone)
    except (KeyError, ValueError):
        return f"Invalid time zone: {zone}"
    if expression.startswith("at("):
        match = _AT.fullmatch(expression)
        try:
            datetime.fromisoformat(match.group(1)) if match else None
        except ValueError:
            match = None
        if match is None:
            return f"Invalid Schedule Expression {expression}."
    elif not re.fullmatch(r"(rate|cron)\(.+\)", expression):
        return f"Invalid Schedule Expression {expression}."
    return None


def due_time(expression: str, zone: str | None) -> datetime | None:
    """When a one-time schedule is due (aware), or None for anything but ``at()``."""
    match = _AT.fullmatch(expression)
    if match is None:
        return None
    return datetime.fromisoformat(match.group(1)).replace(tzinfo=ZoneInfo(zone or "UTC"))


MAX_CHUNKED_BYTES = 10 * 1024 * 1024  # read (and drop) at most this much of a refused chunked body


def refuse_chunked(request: BaseHTTPRequestHandler) -> bool:
    """Answer a chunked request 411 and close its connection; False for any other request.

    The body is read (and dropped) before answering: a client writes its headers and then its
    chunks, and a server that answers and closes in between makes the client's next write fail
    (a BrokenPipeError, or a reset that loses the 411 it was about to read)."""
    if "chunked" not in (request.headers.get("Transfer-Encoding") or "").lower():
        return False
    drain_chunked_body(request.rfile, MAX_CHUNKED_BYTES)
    request.close_connection = True
    payload = json.dumps({"message": "Length Required: send the body with a Content-Length"}).encode()
    request.send_response_only(411, "Length Required")
    request.send_header("Content-Type", "application/json")
    request.send_header("Content-Length", str(len(payload)))
    request.send_header("Connection", "close")
    request.end_headers()
    if request.command != "HEAD":
        request.wfile.write(payload)
    return True


def drain_chunked_body(stream: Any, limit: int) -> None:
    """Read a chunked body to its last chunk and trailers (at most ``limit`` bytes of chunks)."""
    read = 0
    while read <= limit:
        line = stream.readline(1024)
        if not line:
            return  # the client gave up
        try:
            size = int(line.split(b";", 1)[0].strip() or b"0", 16)
        except ValueError:
            return  # not chunked encoding after all: the connection is closed anyway
        if size == 0:
            while stream.readline(8192) not in {b"\r\n", b"\n", b""}:
                pass
            return
        stream.read(size + 2)  # the chunk and its CRLF
        read += size


class KeepAliveWsgi(BaseHTTPRequestHandler):
    """Serves a WSGI application over HTTP/1.1 connections that stay open, as AWS's endpoints
    do. werkzeug's development server closes every connection (it cannot tell where an unread
    request body ends), and a new TCP connection per AWS call was a fifth of the CPU of a burst
    of complaints. Bodies are read whole before the application sees them, so the next request
    on the connection starts where this one ended. Every SDK call here sends a Content-Length;
    a chunked body is refused."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body in one write, but the client's may not be
    app: Any = None

    def _serve(self) -> None:
        if refuse_chunked(self):
            return
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        path, _, query = self.path.partition("?")
        environ = {
            "REQUEST_METHOD": self.command,
            "SCRIPT_NAME": "",
            "QUERY_STRING": query,
            "PATH_INFO": unquote_to_bytes(path).decode("latin-1"),
            "CONTENT_TYPE": self.headers.get("Content-Type", ""),
            "CONTENT_LENGTH": str(length),
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": str(self.server.server_address[1]),  # type: ignore[index]  # an (address, port) pair
            "SERVER_PROTOCOL": self.request_version,
            "REMOTE_ADDR": self.client_address[0],
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(body),
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": True,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
        }
        for name, value in self.headers.items():
            key = "HTTP_" + name.upper().replace("-", "_")
            if key not in {"HTTP_CONTENT_TYPE", "HTTP_CONTENT_LENGTH"}:
                environ[key] = f"{environ[key]},{value}" if key in environ else value
        answer: list[Any] = []
        chunks: list[bytes] = []

        def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            answer[:] = [status, headers]
            return chunks.append

        result = self.app(environ, start_response)
        try:
            chunks.extend(result)
        finally:
            if hasattr(result, "close"):
                result.close()
        payload = b"".join(chunks)
        status, headers = answer
        code, _, reason = status.partition(" ")
        self.send_response_only(int(code), reason)
        for name, value in headers:
            if name.lower() not in {"content-length", "connection", "transfer-encoding"}:
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _serve

    def log_message(self, format: str, *args: Any) -> None:
        pass


def serve(port: int) -> None:
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    from smsdesk_local import moto_dynamodb

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    moto_dynamodb.install()
    _cache_moto_lookups()
    KeepAliveWsgi.app = AwsFront(DomainDispatcherApplication(create_backend_app))
    server = ThreadingHTTPServer(("127.0.0.1", port), KeepAliveWsgi)
    server.daemon_threads = True
    threading.Thread(target=_exit_with_the_stack, name="parent-watch", daemon=True).start()
    print(f"ready http://127.0.0.1:{server.server_address[1]}", flush=True)
    server.serve_forever()


def _cache_moto_lookups() -> None:
    """moto looks up, on every request, what cannot change while it runs: it lists its package
    folder and stats some 90 files to find its backends, and inspects the response class's
    methods. Both are cached here (a quarter of its CPU in a burst of complaints)."""
    import functools

    import moto.backends as backends
    import moto.core.responses as responses

    modules = tuple(backends.list_of_moto_modules())
    backends.list_of_moto_modules = lambda: modules
    responses.method_names_from_class = functools.cache(responses.method_names_from_class)  # type: ignore[attr-defined]


def _exit_with_the_stack() -> None:
    """The stack holds our stdin open; when it is gone, however it went, so are we."""
    sys.stdin.read()
    os._exit(0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="smsdesk_local.aws_server", description="moto, with smsdesk's front")
    parser.add_argument("--port", type=int, default=0)
    serve(parser.parse_args(argv).port)
    return 0


if __name__ == "__main__":
    sys.exit(main())
