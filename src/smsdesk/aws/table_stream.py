"""The analytics function's input: DynamoDB stream records of the table, as plain facts.

Two kinds of record reach it (its event source mapping filters the rest out): an inserted
outbox item (a domain event: detail-type and detail) and the new image of an outbound message.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class StreamFact:
    record_id: str  # the stream record's eventID
    sequence: int  # its sequence number (increasing within a shard)
    detail_type: str | None = None  # a domain event...
    detail: dict[str, Any] = field(default_factory=dict)
    message: dict[str, Any] | None = None  # ...or an outbound message's new image
    inserted: bool = False  # the item's first write (a text held when first written)


def stream_facts(records: Iterable[dict[str, Any]]) -> list[StreamFact]:
    """The facts among stream records, in order. A record of another kind is kept as an empty
    fact (nothing to count), so the batch's positions stay whole."""
    facts = []
    for record in records:
        data = record.get("dynamodb") or {}
        image = data.get("NewImage") or {}
        kind = (image.get("kind") or {}).get("S")
        base: dict[str, Any] = {
            "record_id": str(record.get("eventID") or data["SequenceNumber"]),
            "sequence": int(data["SequenceNumber"]),
        }
        if kind == "event" and record.get("eventName") == "INSERT":
            facts.append(
                StreamFact(**base, detail_type=image["detail_type"]["S"], detail=json.loads(image["detail"]["S"]))
            )
        elif kind == "message":
            message = {name: plain(value) for name, value in image.items()}
            facts.append(StreamFact(**base, message=message, inserted=record.get("eventName") == "INSERT"))
        else:
            facts.append(StreamFact(**base))
    return facts


def plain(value: dict[str, Any]) -> Any:
    """One DynamoDB-JSON attribute value as a Python value (numbers as int or float)."""
    ((tag, inner),) = value.items()
    if tag == "S":
        return inner
    if tag == "N":
        return int(inner) if inner.lstrip("-").isdigit() else float(inner)
    if tag == "BOOL":
        return bool(inner)
    if tag == "NULL":
        return None
    if tag == "L":
        return [plain(v) for v in inner]
    if tag == "M":
        return {k: plain(v) for k, v in inner.items()}
    if tag in {"SS", "NS"}:
        return sorted(inner)
    return inner
