"""The domain events smsdesk publishes on its EventBridge bus (source ``smsdesk``).

They are the integration point: smsdesk's own functions react to them (the acknowledgement to
``ComplaintReceived``, consent processing to ``ConsentRevoked``...), and other systems (a CRM,
paging, analytics) subscribe with their own rules. Every event is written to the table in the
same transaction as the change it announces (a transactional outbox) and published from the
table's stream, so an event exists exactly when its change committed. Delivery is at least
once: consumers de-duplicate on ``event_id`` or, better, on the state they change.

Every detail has ``event_id``, ``occurred_at`` (ISO-8601 UTC), ``customer`` (E.164) and
``conversation`` (reference or null). Texts in events are redacted of card numbers.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from smsdesk.clock import to_iso

SOURCE = "smsdesk"


class EventType(StrEnum):
    COMPLAINT_RECEIVED = "ComplaintReceived"  # a new conversation opened: text, category, priority
    CUSTOMER_MESSAGE_RECEIVED = "CustomerMessageReceived"  # a text added to an open conversation
    KEYWORD_RECEIVED = "KeywordReceived"  # an auto-reply keyword (REFUND, HOURS, STATUS, CALL...)
    # A HELP keyword or a question such as "who is this?"; ``twilio_answered: true`` when Twilio
    # answered the keyword itself (smsdesk then sends nothing), as on ConsentGranted
    HELP_REQUESTED = "HelpRequested"
    OPT_IN_REQUESTED = "OptInRequested"  # an opt-in in words: answered with how to confirm it
    CONSENT_REVOKED = "ConsentRevoked"  # recorded before the webhook answered; source, reason
    CONSENT_GRANTED = "ConsentGranted"
    # A text that may be an opt-out: held for a person (consent events that end the hold say so
    # with ``possible_opt_out: true``; an agent's "not an opt-out" is PossibleOptOutCleared)
    POSSIBLE_OPT_OUT_RAISED = "PossibleOptOutRaised"
    POSSIBLE_OPT_OUT_CLEARED = "PossibleOptOutCleared"
    CONVERSATION_ESCALATED = "ConversationEscalated"  # urgent: legal, safety, anger, repeat
    CONVERSATION_ACKNOWLEDGED = "ConversationAcknowledged"  # reply_by promised
    AGENT_REPLIED = "AgentReplied"
    CONVERSATION_RESOLVED = "ConversationResolved"
    CONVERSATION_REOPENED = "ConversationReopened"
    SATISFACTION_RECORDED = "SatisfactionRecorded"  # score 1-5
    SLA_BREACHED = "SlaBreached"  # the promised reply time passed without an agent reply
    MESSAGE_REFUSED = "MessageRefused"  # the send gateway refused a message (opted out...)
    MESSAGE_FAILED = "MessageFailed"  # Twilio or the carrier failed a message permanently
    MEDIA_RECEIVED = "MediaReceived"  # a text came with photos: message_key, num_media (smsdesk.media)


@dataclass(frozen=True, slots=True)
class DomainEvent:
    type: EventType
    occurred_at: datetime
    customer: str
    conversation: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    event_id: str = field(default_factory=lambda: uuid.uuid4().hex)

    def detail(self) -> dict[str, Any]:
        return {
            "event_id": self.event_id,
            "occurred_at": to_iso(self.occurred_at),
            "customer": self.customer,
            "conversation": self.conversation,
            **self.data,
        }

    def detail_json(self) -> str:
        return json.dumps(self.detail(), separators=(",", ":"), ensure_ascii=False, sort_keys=True)


class UnexpectedEvent(ValueError):
    """An event that is not one of smsdesk's, or lacks what its type always carries."""


# What a consumer relies on, by type, beyond event_id and customer.
_REQUIRED: dict[EventType, tuple[str, ...]] = {
    EventType.COMPLAINT_RECEIVED: ("conversation",),
    EventType.CONVERSATION_REOPENED: ("conversation",),
    EventType.KEYWORD_RECEIVED: ("keyword", "message_sid"),
    EventType.SATISFACTION_RECORDED: ("conversation", "score", "message_sid"),
    EventType.MEDIA_RECEIVED: ("message_key",),
}


@dataclass(frozen=True, slots=True)
class ReceivedEvent:
    """A domain event as a consumer receives it (detail-type and detail), typed: the fields
    smsdesk's own functions act on. Other systems read the full detail on the bus."""

    type: EventType
    event_id: str
    customer: str
    conversation: str | None = None
    message_sid: str | None = None  # the customer's text that raised it
    keyword: str | None = None  # KeywordReceived
    score: int | None = None  # SatisfactionRecorded
    confirmation: str | None = None  # ConsentRevoked: "pending" when smsdesk sends the confirmation
    twilio_answered: bool = False  # ConsentGranted, HelpRequested: Twilio replied itself, smsdesk does not
    message_key: str | None = None  # MediaReceived: the inbound message whose media to copy

    @classmethod
    def from_detail(cls, detail_type: str, detail: Mapping[str, Any]) -> ReceivedEvent:
        try:
            kind = EventType(detail_type)
            score = detail.get("score")
            received = cls(
                kind,
                event_id=str(detail["event_id"]),
                customer=str(detail["customer"]),
                conversation=detail.get("conversation"),
                message_sid=detail.get("message_sid"),
                keyword=detail.get("keyword"),
                score=None if score is None else int(score),
                confirmation=detail.get("confirmation"),
                twilio_answered=detail.get("twilio_answered") is True,
                message_key=detail.get("message_key"),
            )
        except (KeyError, TypeError, ValueError) as error:
            raise UnexpectedEvent(f"not a {detail_type or 'smsdesk'} event: {error}") from None
        missing = [name for name in _REQUIRED.get(kind, ()) if getattr(received, name) is None]
        if missing:
            raise UnexpectedEvent(f"a {kind} event without {', '.join(missing)}")
        return received
