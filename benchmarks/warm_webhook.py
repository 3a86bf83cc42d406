"""Warm webhook: the inbound handler's time per new complaint, next to the AWS calls it cannot avoid.

An embedded moto server (ThreadedMotoServer, a free port) holds the table (created from
template.yaml's own KeySchema) and the Twilio secret. The inbound handler module is loaded the
way Lambda loads it, with its function's environment plus ``AWS_ENDPOINT_URL`` pointing at moto,
warmed up, then invoked with distinct signed complaints from distinct numbers: API Gateway HTTP
API (payload 2.0) events, base64 form bodies, ``X-Twilio-Signature`` from the twilio library's
``RequestValidator.compute_signature``.

The floor is what a new complaint costs in AWS calls and nothing else (read in
smsdesk/inbound.py and repository.py): one strongly consistent GetItem of the customer and one
TransactWriteItems putting the customer, the conversation, the message, the MessageSid guard and
the ComplaintReceived outbox event, each ``attribute_not_exists``. The floor's items are the
handler's own (read back from the table after the warm-up) with fresh keys, sent with a plain
boto3 client to the same server. Handler and floor calls alternate, one of each per message.

moto's TransactWriteItems deep-copies the whole table once per item of the transaction (its
rollback), so its cost grows with the table; real DynamoDB's does not. The table is therefore
created afresh after every message (outside the timings), without its stream (whose records
moto would copy too; nothing here reads it), so every call meets the same small table.

The server runs in this process, so the objects that exist after the warm-up (moto's among
them) are frozen out of the garbage collector (gc.freeze): a Lambda does not carry moto's heap.
The handler's log lines and metrics (stdout, as in Lambda) go to /dev/null while it runs.
When the ratio misses its target, a cProfile of further messages says where the time goes.
"""

from __future__ import annotations

import base64
import cProfile
import gc
import importlib.util
import json
import logging
import os
import pstats
import socket
import sys
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import urlencode, urlsplit

from benchmarks import stack
from benchmarks.report import Options, Outcome, Row, percentile, ratio, rounded
from smsdesk_local.functions import LambdaContext

TITLE = "warm webhook"
TARGET = 1.3
WARM_UP = 30
PROFILED = 150
ACCOUNT_SID = "AC" + "0" * 31 + "1"
AUTH_TOKEN = "bench-auth-token-0123456789abcdef"
BUSINESS_NUMBER = stack.ENVIRON["TWILIO_SENDER"]

# Ordinary complaints: each one opens a conversation, none escalates, none is a keyword
# (an escalation would add an event to the transaction and the floor would no longer match;
# the run checks this afterwards).
COMPLAINTS = (
    "My order 4432 arrived broken and nobody answers the phone",
    "I was charged twice for the same order last week",
    "The package was left at the wrong address and I cannot find it",
    "My delivery is three days late and the tracking has not moved",
    "The jacket I received is the wrong size, can you exchange it",
    "The tent arrived with a missing pole, the set is incomplete",
    "I returned the boots two weeks ago and still have no refund",
    "My subscription renewed even though I cancelled it in March",
    "The stove I bought stopped working after two uses",
    "I have been waiting for a replacement part since Monday",
)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def _moto_server() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@contextmanager
def _environment(variables: dict[str, str]) -> Iterator[None]:
    saved = dict(os.environ)
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN"):
        os.environ.pop(name, None)
    os.environ.update(variables)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


@contextmanager
def _stdout_discarded() -> Iterator[None]:
    """Send fd 1 to /dev/null: the handler's JSON logs and EMF metrics, not our table."""
    sys.stdout.flush()
    saved = os.dup(1)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    try:
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)
        os.close(devnull)


def _load_handler(function: stack.Function) -> ModuleType:
    name = f"smsdesk_bench_{function.logical_id}"
    spec = importlib.util.spec_from_file_location(name, function.handler_file)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


class _Complaints:
    """Distinct signed inbound webhooks, one new customer each."""

    def __init__(self, url: str) -> None:
        from twilio.request_validator import RequestValidator

        self._url = url
        self._validator = RequestValidator(AUTH_TOKEN)
        self._count = 0

    def next(self) -> tuple[dict[str, Any], str]:
        self._count += 1
        number = f"+1212555{self._count:04d}"
        sid = "SM" + uuid.uuid4().hex
        params = {
            "ToCountry": "US", "ToState": "CA", "SmsMessageSid": sid, "NumMedia": "0", "ToCity": "",
            "FromZip": "10001", "SmsSid": sid, "FromState": "NY", "SmsStatus": "received",
            "FromCity": "NEW YORK", "Body": COMPLAINTS[self._count % len(COMPLAINTS)], "FromCountry": "US",
            "To": BUSINESS_NUMBER, "ToZip": "", "NumSegments": "1", "MessageSid": sid,
            "AccountSid": ACCOUNT_SID, "From": number, "ApiVersion": "2010-04-01",
        }  # fmt: skip
        return self._event(params), number

    def _event(self, params: dict[str, str]) -> dict[str, Any]:
        parts = urlsplit(self._url)
        body = urlencode(params).encode()
        now = int(time.time() * 1000)
        return {
            "version": "2.0",
            "routeKey": stack.INBOUND_ROUTE,
            "rawPath": parts.path,
            "rawQueryString": "",
            "headers": {
                "host": parts.netloc,
                "content-type": "application/x-www-form-urlencoded",
                "content-length": str(len(body)),
                "user-agent": "TwilioProxy/1.1",
                "x-forwarded-proto": "https",
                "x-forwarded-port": "443",
                "x-amzn-trace-id": f"Root=1-{uuid.uuid4().hex[:8]}-{uuid.uuid4().hex[:24]}",
                "i-twilio-idempotency-token": str(uuid.uuid4()),
                "x-twilio-signature": self._validator.compute_signature(self._url, params),
            },
            "requestContext": {
                "accountId": "123456789012",
                "apiId": "a1b2c3d4e5",
                "domainName": parts.netloc,
                "domainPrefix": parts.netloc.split(".")[0],
                "http": {
                    "method": "POST",
                    "path": parts.path,
                    "protocol": "HTTP/1.1",
                    "sourceIp": "54.172.60.1",
                    "userAgent": "TwilioProxy/1.1",
                },
                "requestId": uuid.uuid4().hex[:16],
                "routeKey": stack.INBOUND_ROUTE,
                "stage": "$default",
                "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime()),
                "timeEpoch": now,
            },
            "body": base64.b64encode(body).decode(),
            "isBase64Encoded": True,
        }


_REFERENCE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"


class _Floor:
    """The webhook's unavoidable AWS calls for a new complaint, with plain boto3."""

    def __init__(self, dynamodb: Any, table: str, template_items: list[dict[str, Any]], tokens: dict[str, str]) -> None:
        self._dynamodb = dynamodb
        self._table = table
        self._template = json.dumps(template_items)
        self._tokens = tokens  # number, sid, reference, event id of the template complaint
        self._count = 0

    def _fresh_items(self) -> tuple[str, list[dict[str, Any]]]:
        self._count += 1
        n = self._count
        fresh = {  # the same lengths as the handler's, in key spaces of their own
            "number": f"+1646555{n:04d}",
            "sid": f"SMf{n:031x}",
            "reference": "F-" + "".join(_REFERENCE_ALPHABET[(n // 30**i) % 30] for i in range(4)),
            "event_id": uuid.uuid4().hex,
        }
        text = self._template
        for name, old in self._tokens.items():
            text = text.replace(old, fresh[name])
        return fresh["number"], json.loads(text)

    def prepare(self) -> tuple[str, list[dict[str, Any]]]:
        return self._fresh_items()

    def call(self, number: str, items: list[dict[str, Any]]) -> None:
        found = self._dynamodb.get_item(
            TableName=self._table,
            Key={"pk": {"S": f"CUSTOMER#{number}"}, "sk": {"S": "PROFILE"}},
            ConsistentRead=True,
        )
        if "Item" in found:
            raise RuntimeError("the floor's customer already exists")
        self._dynamodb.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": self._table, "Item": item, "ConditionExpression": "attribute_not_exists(pk)"}}
                for item in items
            ]
        )


def _read_back(dynamodb: Any, table: str, number: str, sid: str) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """The five items one new complaint wrote, and the tokens that make them unique."""

    def get(pk: str, sk: str) -> dict[str, Any]:
        item = dynamodb.get_item(TableName=table, Key={"pk": {"S": pk}, "sk": {"S": sk}}, ConsistentRead=True)
        if "Item" not in item:
            raise RuntimeError(f"the complaint did not write {pk} {sk}")
        return item["Item"]

    customer = get(f"CUSTOMER#{number}", "PROFILE")
    reference = customer["open_conversation"]["S"]
    conversation = get(f"CONVERSATION#{reference}", "CONVERSATION")
    message = get(f"CONVERSATION#{reference}", f"MESSAGE#in-{sid}")
    guard = get(f"SID#{sid}", "SID")
    events = _scan(dynamodb, table, "event")
    mine = [e for e in events if reference in e["detail"]["S"]]
    if len(mine) != 1:
        raise RuntimeError(f"expected one event for the template complaint, found {len(mine)}")
    event_id = mine[0]["pk"]["S"].removeprefix("EVENT#")
    tokens = {"number": number, "sid": sid, "reference": reference, "event_id": event_id}
    return [customer, conversation, message, guard, mine[0]], tokens


def _empty(dynamodb: Any, table: str, written: dict[str, int]) -> None:
    """Count what was written, by kind, then start again from an empty table (module doc).

    The table is dropped and created again rather than emptied: moto keeps an entry for every
    partition key ever written, deleted or not, and copies those too."""
    for item in dynamodb.scan(TableName=table, ProjectionExpression="kind", ConsistentRead=True)["Items"]:
        written[item.get("kind", {}).get("S", "?")] += 1
    dynamodb.delete_table(TableName=table)
    dynamodb.create_table(TableName=table, **stack.table_definition(stream=False))


def _scan(dynamodb: Any, table: str, kind: str) -> list[dict[str, Any]]:
    items, start = [], None
    while True:
        page = dynamodb.scan(
            TableName=table,
            FilterExpression="kind = :kind",
            ExpressionAttributeValues={":kind": {"S": kind}},
            **({"ExclusiveStartKey": start} if start else {}),
        )
        items.extend(page["Items"])
        start = page.get("LastEvaluatedKey")
        if not start:
            return items


def _area(filename: str, name: str) -> str:
    """Which part of the stack a profiled function belongs to."""
    if filename == "~":  # a builtin
        if "socket" in name or "select" in name or "poll" in name:
            return "socket (waiting for moto; the server runs in a thread)"
        return "builtins"
    if "/smsdesk/" in filename or "/functions/" in filename:
        return "smsdesk"
    if "site-packages/" in filename:
        return filename.split("site-packages/", 1)[1].split("/", 1)[0].removesuffix(".py")
    parts = filename.split("/lib/python3.")
    if len(parts) == 2:
        module = parts[1].split("/", 2)[1] if "/" in parts[1] else parts[1]
        return "stdlib " + module.removesuffix(".py")
    return filename


def _profile(
    calls: Callable[[], None], between: Callable[[], None], count: int
) -> tuple[list[tuple[str, float]], list[tuple[str, float]]]:
    """Self time per area and per function, as shares of the profiled total."""
    profiler = cProfile.Profile()
    for _ in range(count):
        profiler.enable()
        calls()
        profiler.disable()
        between()
    stats = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    by_area: dict[str, float] = defaultdict(float)
    by_function: dict[str, float] = defaultdict(float)
    for (filename, line, name), (_, _, self_time, _, _) in stats.items():
        by_area[_area(filename, name)] += self_time
        where = Path(filename)
        by_function[f"{name} ({where.parent.name}/{where.name}:{line})"] += self_time
    total = sum(by_area.values()) or 1.0
    areas = sorted(((a, t / total) for a, t in by_area.items()), key=lambda kv: -kv[1])
    functions = sorted(((f, t / total) for f, t in by_function.items()), key=lambda kv: -kv[1])
    return areas, functions


def _alternate(
    invoke: Callable[[dict[str, Any]], None],
    floor: _Floor,
    complaints: _Complaints,
    reset: Callable[[], None],
    count: int,
) -> tuple[list[float], list[float]]:
    """``count`` new complaints through the handler and as many floors, alternating who goes first."""
    handler_ms, floor_ms = [], []
    for i in range(count):
        event, _ = complaints.next()
        number, items = floor.prepare()
        for turn in ("handler", "floor") if i % 2 == 0 else ("floor", "handler"):
            started = time.perf_counter()
            if turn == "handler":
                invoke(event)
            else:
                floor.call(number, items)
            (handler_ms if turn == "handler" else floor_ms).append((time.perf_counter() - started) * 1000)
        reset()
    return handler_ms, floor_ms


def run(options: Options) -> Outcome:
    import boto3

    function = stack.inbound_webhook()
    public_url = stack.ENVIRON["PUBLIC_BASE_URL"] + stack.INBOUND_ROUTE.split(" ", 1)[1]
    messages = options.warm_messages
    notes: list[str] = []
    profile: dict[str, Any] = {}
    with _moto_server() as endpoint, _environment(function.environment(AWS_ENDPOINT_URL=endpoint)):
        table = os.environ["TABLE_NAME"]
        dynamodb = boto3.client("dynamodb", region_name=stack.REGION, endpoint_url=endpoint)
        dynamodb.create_table(TableName=table, **stack.table_definition(stream=False))
        boto3.client("secretsmanager", region_name=stack.REGION, endpoint_url=endpoint).create_secret(
            Name=os.environ["TWILIO_SECRET_ID"],
            SecretString=json.dumps({"account_sid": ACCOUNT_SID, "auth_token": AUTH_TOKEN}),
        )
        complaints = _Complaints(public_url)
        context = LambdaContext(function.logical_id, function.memory_mb)
        written: dict[str, int] = defaultdict(int)
        module = None
        try:
            with _stdout_discarded():
                module = _load_handler(function)

                def invoke(event: dict[str, Any]) -> None:
                    answer = module.lambda_handler(event, context)
                    if answer.get("statusCode") != 200:
                        raise RuntimeError(f"the webhook answered {answer.get('statusCode')}: {answer.get('body')}")

                # One complaint shows which items a new complaint writes: the floor writes the same.
                first, first_number = complaints.next()
                invoke(first)
                template_items, tokens = _read_back(dynamodb, table, first_number, _sid_of(first))
                floor_client = boto3.client("dynamodb", region_name=stack.REGION, endpoint_url=endpoint)
                floor = _Floor(floor_client, table, template_items, tokens)
                _empty(dynamodb, table, defaultdict(int))
                _alternate(invoke, floor, complaints, lambda: _empty(dynamodb, table, defaultdict(int)), WARM_UP)

                # The server lives in this process: a full collection would walk moto's objects
                # too (pauses of ~300 ms were seen), which a Lambda never holds. Freeze them.
                gc.collect()
                gc.freeze()
                handler_ms, floor_ms = _alternate(
                    invoke, floor, complaints, lambda: _empty(dynamodb, table, written), messages
                )
                p50, p99 = percentile(handler_ms, 50), percentile(handler_ms, 99)
                f50, f99 = percentile(floor_ms, 50), percentile(floor_ms, 99)
                r50, r99 = ratio(p50, f50), ratio(p99, f99)
                if r50 > TARGET or r99 > TARGET:
                    profile, profile_notes = _where_the_time_goes(invoke, floor, complaints, dynamodb, table, p50, f50)
                    notes.extend(profile_notes)
        finally:
            gc.unfreeze()
            if module is not None:
                sys.modules.pop(module.__name__, None)

    expected = {kind: 2 * messages for kind in ("customer", "conversation", "message", "sid", "event")}
    if dict(written) != expected:
        notes.append(f"the complaints did not all write the same five items ({dict(written)}): the floor differs")
    results = {
        "p50_ms": rounded(p50, 2),
        "p99_ms": rounded(p99, 2),
        "floor_p50_ms": rounded(f50, 2),
        "floor_p99_ms": rounded(f99, 2),
        "ratio_p50": rounded(r50, 3),
        "ratio_p99": rounded(r99, 3),
        "target": TARGET,
        "messages": messages,
    }
    rows = [
        Row(TITLE, "p50 per complaint", f"{p50:.1f} ms", f"{f50:.1f} ms", r50, f"<= {TARGET}x", r50 <= TARGET,
            note="floor: GetItem (consistent) + TransactWriteItems (5 puts), boto3, same moto server"),
        Row(TITLE, "p99 per complaint", f"{p99:.1f} ms", f"{f99:.1f} ms", r99, f"<= {TARGET}x", r99 <= TARGET,
            note=f"{messages} complaints, alternating with the floor"),
    ]  # fmt: skip
    return Outcome(
        results={"warm_webhook": results},
        rows=rows,
        details={
            "warm_up": WARM_UP,
            "items_written": dict(written),
            "p90_ms": {
                "handler": rounded(percentile(handler_ms, 90), 2),
                "floor": rounded(percentile(floor_ms, 90), 2),
            },
            "slowest_ms": {
                "handler": [rounded(v) for v in sorted(handler_ms)[-6:]],
                "floor": [rounded(v) for v in sorted(floor_ms)[-6:]],
            },
            **({"profile": profile} if profile else {}),
        },
        notes=notes,
    )


def _where_the_time_goes(
    invoke: Callable[[dict[str, Any]], None],
    floor: _Floor,
    complaints: _Complaints,
    dynamodb: Any,
    table: str,
    p50: float,
    f50: float,
) -> tuple[dict[str, Any], list[str]]:
    def reset() -> None:
        _empty(dynamodb, table, defaultdict(int))

    areas, hot = _profile(lambda: invoke(complaints.next()[0]), reset, PROFILED)
    floor_areas, _ = _profile(lambda: floor.call(*floor.prepare()), reset, PROFILED)
    profile = {
        "handler_share_by_area": {a: round(s, 3) for a, s in areas[:12]},
        "handler_hottest_functions": {f: round(s, 3) for f, s in hot[:15]},
        "floor_share_by_area": {a: round(s, 3) for a, s in floor_areas[:8]},
    }
    notes = [
        f"where the handler's time goes (cProfile over {PROFILED} more messages; it also sees the moto server's "
        "thread; share of self time, and that share of p50): "
        + ", ".join(f"{a} {s:.0%} (~{s * p50:.1f} ms)" for a, s in areas[:8]),
        "the floor's own time: " + ", ".join(f"{a} {s:.0%} (~{s * f50:.1f} ms)" for a, s in floor_areas[:5]),
    ]
    return profile, notes


def _sid_of(event: dict[str, Any]) -> str:
    from urllib.parse import parse_qs

    return parse_qs(base64.b64decode(event["body"]).decode())["MessageSid"][0]
