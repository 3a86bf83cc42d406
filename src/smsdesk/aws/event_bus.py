"""The outbox relay's half: outbox items from the table's stream, published on EventBridge.

Records arrive in commit order per item; each INSERT of an ``event`` item becomes one
EventBridge entry (source ``smsdesk``, detail-type, detail, time). Entries go out ten per
PutEvents; entries EventBridge rejects are retried twice, and what still fails is reported by
sequence number so Lambda retries the batch from there (and, after its retries, sends the
batch's description to the relay's on-failure queue, which has an alarm).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from smsdesk.events import SOURCE

MAX_ENTRIES = 10


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
    def __init__(self, bus_name: str, events_client: Any = None) -> None:  # noqa: ANN401
        self._bus = bus_name
        self._client = events_client

    def _events(self) -> Any:  # noqa: ANN401
        if self._client is None:
            from smsdesk.aws.clients import client

            self._client = client("events")
        return self._client

    def publish(self, records: list[OutboxRecord]) -> list[str]:
        """Publish; return the sequence numbers of the records that could not be published."""
        failed: list[str] = []
        for start in range(0, len(records), MAX_ENTRIES):
            chunk = records[start : start + MAX_ENTRIES]
            for _ in range(3):
                chunk = self._put(chunk)
                if not chunk:
                    break
            failed.extend(r.sequence_number for r in chunk)
        return failed

    def _put(self, chunk: list[OutboxRecord]) -> list[OutboxRecord]:
        from smsdesk.clock import from_iso

        entries = [
            {
                "Source": SOURCE,
                "DetailType": r.detail_type,
                "Detail": r.detail,
                "EventBusName": self._bus,
                "Time": _timestamp(r.created_at, from_iso),
            }
            for r in chunk
        ]
        response = self._events().put_events(Entries=entries)
        if not response.get("FailedEntryCount"):
            return []
        return [r for r, result in zip(chunk, response["Entries"], strict=False) if result.get("ErrorCode")]


def _timestamp(value: str, parse) -> Any:  # noqa: ANN001, ANN401
    """pynamodb stores UTCDateTimeAttribute as '2026-11-22T15:04:05.000000+0000'."""
    from datetime import datetime

    try:
        return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%f%z")
    except ValueError:
        return parse(value)
