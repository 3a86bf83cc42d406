"""The local stand-in's own rules: SigV4 on the agent API, Scheduler's validation, Lambda's event
filters, durations for the clock. If these were wrong, `make local` would accept what AWS refuses."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from smsdesk_local.aws_server import _invalid_schedule, due_time
from smsdesk_local.event_patterns import matches
from smsdesk_local.http_gateway import LOCAL_AGENT_ACCESS_KEY, LOCAL_AGENT_SECRET_KEY, verify_sigv4
from smsdesk_local.travel_clock import TravelClock, parse_duration

API = "http://127.0.0.1:3000"


def signed(method: str, path: str, body: bytes = b"", *, secret: str = LOCAL_AGENT_SECRET_KEY, region="us-east-1"):
    request = AWSRequest(method=method, url=API + path, data=body, headers={"Content-Type": "application/json"})
    SigV4Auth(Credentials(LOCAL_AGENT_ACCESS_KEY, secret), "execute-api", region).add_auth(request)
    headers = {k.lower(): v for k, v in request.headers.items()}
    headers["host"] = "127.0.0.1:3000"
    return headers


def test_a_request_signed_by_botocore_is_accepted():
    body = json.dumps({"text": "We are on it"}).encode()
    assert verify_sigv4(
        "POST", "/conversations/C-7F3K/replies", signed("POST", "/conversations/C-7F3K/replies", body), body
    )
    query = "/conversations?status=open&limit=25&cursor=eyJwayI6"
    assert verify_sigv4("GET", query, signed("GET", query), b"")
    number = "/customers/+14155550100/opt-out"
    assert verify_sigv4("POST", number, signed("POST", number), b"")


@pytest.mark.parametrize(
    "tamper",
    [
        lambda m, p, h, b: (m, p, h, b + b" "),  # the body changed
        lambda m, p, h, b: (m, "/conversations/C-OTHER/replies", h, b),  # another conversation
        lambda m, p, h, b: ("PUT", p, h, b),
        lambda m, p, h, b: (
            m,
            p,
            {**h, "authorization": h["authorization"].replace(LOCAL_AGENT_ACCESS_KEY, "AKIAOTHER")},
            b,
        ),
        lambda m, p, h, b: (m, p, {k: v for k, v in h.items() if k != "authorization"}, b),
        lambda m, p, h, b: (m, p, {**h, "content-type": "text/plain"}, b),  # a signed header changed
    ],
    ids=["body", "path", "method", "key", "unsigned", "header"],
)
def test_a_changed_or_unsigned_request_is_refused(tamper):
    body = b'{"text": "hello"}'
    path = "/conversations/C-7F3K/replies"
    assert not verify_sigv4(*tamper("POST", path, signed("POST", path, body), body))


def test_a_wrong_secret_a_wrong_region_or_an_old_signature_is_refused():
    path = "/conversations"
    assert not verify_sigv4("GET", path, signed("GET", path, secret="not-the-secret"), b"")
    assert not verify_sigv4("GET", path, signed("GET", path, region="eu-west-1"), b"")
    old = signed("GET", path)
    stamp = (datetime.now(UTC) - timedelta(minutes=16)).strftime("%Y%m%dT%H%M%SZ")
    old["x-amz-date"] = stamp
    assert not verify_sigv4("GET", path, old, b"")


@pytest.mark.parametrize(
    ("expression", "zone", "problem"),
    [
        ("at(2026-11-24T15:00:00)", "UTC", None),
        ("at(2026-11-24T15:00:00)", "America/New_York", None),
        ("rate(5 minutes)", "UTC", None),
        ("at(2026-11-24 15:00:00)", "UTC", "Invalid Schedule Expression at(2026-11-24 15:00:00)."),
        ("at(2026-11-24T15:00:00Z)", "UTC", "Invalid Schedule Expression at(2026-11-24T15:00:00Z)."),
        ("at(2026-02-30T15:00:00)", "UTC", "Invalid Schedule Expression at(2026-02-30T15:00:00)."),
        ("tomorrow", "UTC", "Invalid Schedule Expression tomorrow."),
        ("at(2026-11-24T15:00:00)", "Mars/Olympus", "Invalid time zone: Mars/Olympus"),
    ],
)
def test_schedules_are_validated_as_scheduler_validates_them(expression, zone, problem):
    body = json.dumps({"ScheduleExpression": expression, "ScheduleExpressionTimezone": zone}).encode()
    assert _invalid_schedule(body) == problem


def test_an_at_expression_is_due_at_its_wall_time_in_its_zone():
    assert due_time("at(2026-11-24T08:00:00)", "America/New_York") == datetime(
        2026, 11, 24, 8, tzinfo=ZoneInfo("America/New_York")
    )
    assert due_time("at(2026-11-24T13:00:00)", None) == datetime(2026, 11, 24, 13, tzinfo=UTC)
    assert due_time("rate(1 hour)", "UTC") is None


def test_the_outbox_filter_passes_inserted_events_only():
    pattern = {"eventName": ["INSERT"], "dynamodb": {"NewImage": {"kind": {"S": ["event"]}}}}
    event = {"eventName": "INSERT", "dynamodb": {"NewImage": {"kind": {"S": "event"}, "pk": {"S": "EVENT#1"}}}}
    assert matches(pattern, event)
    assert not matches(pattern, {**event, "eventName": "MODIFY"})
    assert not matches(pattern, {"eventName": "INSERT", "dynamodb": {"NewImage": {"kind": {"S": "message"}}}})
    assert not matches(pattern, {"eventName": "REMOVE", "dynamodb": {"OldImage": {"kind": {"S": "event"}}}})
    assert matches({"a": [{"prefix": "EV"}]}, {"a": "EVENT"}) and not matches({"a": [{"prefix": "EV"}]}, {"a": "X"})
    assert matches({"a": [{"exists": False}]}, {"b": 1}) and not matches({"a": [{"exists": False}]}, {"a": 1})


@pytest.mark.parametrize(
    ("text", "delta"),
    [
        ("24h", timedelta(hours=24)),
        ("90m", timedelta(minutes=90)),
        ("2d", timedelta(days=2)),
        ("1d12h", timedelta(hours=36)),
        ("30s", timedelta(seconds=30)),
        ("1.5h", timedelta(minutes=90)),
    ],
)
def test_durations_read_as_people_write_them(text, delta):
    assert parse_duration(text) == delta


@pytest.mark.parametrize("text", ["", "24", "h", "tomorrow", "-1h", "0h", "24h later"])
def test_anything_else_is_not_a_duration(text):
    with pytest.raises(ValueError):
        parse_duration(text)


@pytest.mark.parametrize("text", ["366d", "10000000d", "1e400d", "99999999999999999999999h", "365d1s"])
def test_jumps_of_more_than_a_year_are_refused_with_a_clear_message(text):
    with pytest.raises(ValueError, match=r"more than a year|not a duration"):
        parse_duration(text)
    assert parse_duration("365d") == timedelta(days=365)


def test_the_travel_clock_starts_where_asked_and_only_moves_forward():
    clock = TravelClock(datetime(2026, 11, 23, 15, 0, tzinfo=UTC))
    assert abs(clock.now() - datetime(2026, 11, 23, 15, 0, tzinfo=UTC)) < timedelta(seconds=5)
    moved = clock.advance(timedelta(hours=24))
    assert abs(moved - datetime(2026, 11, 24, 15, 0, tzinfo=UTC)) < timedelta(seconds=5)
    with pytest.raises(ValueError):
        clock.advance(timedelta(hours=-1))
