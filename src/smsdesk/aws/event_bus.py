"""The outbox relay's half: outbox items from the table's stream, published on EventBridge.

Records arrive in commit order per item; each INSERT of an ``event`` item becomes one
EventBridge entry (source ``smsdesk``, detail-type, detail, time). An entry EventBridge rejects
is retried twice, then :class:`EventNotPublished` is raised: the relay's batch processor reports
the record, so Lambda retries the batch from there (and, after its retries, sends the batch's
description to the relay's on-failure queue, which has an alarm).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from smsdesk.events import SOURCE

ATTEMPTS = 3


class EventNotPublished(Exception):
    """EventBridge refused the entry on every attempt."""


@dataclass(frozen=True, slots=True)
class OutboxRecord:
    sequence_number: str
    detail_type: str
    detail: str
    created_at: str


def outbox_records(stream_records: Iterable[dict[str, Any]]) -> list[OutboxRecord]:
    """The outbox events among DynamoDB stream records (anything else is ignored)."""
    found = []
    for record in stream_records:
        if record.get("eventName") != "INSERT":
            continue
        image = (record.get("dynamodb") or {}).get("NewImage") or {}
        if image.get("kind", {}).get("S") != "event":
            continue
        found.append(
            OutboxRecord(
                sequence_number=record["dynamodb"]["SequenceNumber"],
                detail_type=image["detail_type"]["S"],
                detail=image["detail"]["S"],
                created_at=image["created_at"]["S"],
            )
        )
    return found


class EventPublisher:
    def __init__(self, bus_name: str, events_client: Any = None) -> None:
        self._bus = bus_name
        self._client = events_client

    def _events(self) -> Any:
        if self._client is None:
            from smsdesk.aws.clients import client

            self._client = client("events")
        return self._client

    def publish(self, record: OutboxRecord) -> None:
        """Publish one outbox event, or raise :class:`EventNotPublished`."""
        from smsdesk.clock import from_iso

        entry = {
            "Source": SOURCE,
            "DetailType": record.detail_type,
            "Detail": record.detail,
            "EventBusName": self._bus,
            "Time": _timestamp(record.created_at, from_iso),
        }
        error = "no attempt made"
        for _ in range(ATTEMPTS):
            [result] = self._events().put_events(Entries=[entry])["Entries"]
            if not result.get("ErrorCode"):
                return
            error = f"{result['ErrorCode']}: {result.get('ErrorMessage', '')}"
        raise EventNotPublished(f"{record.detail_type} {record.sequence_number}: {error}")


def _timestamp(value: str, parse: Callable[[str], Any]) -> Any:
    """pynamodb stores UTCDateTimeAttribute as '2026-11-22T15:04:05.000000+0000'."""
    from datetime import datetime

    try:
        return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%f%z")
    except ValueError:
        return parse(value)
