"""Twilio's status callbacks, recorded on the message smsdesk sent.

A message's status only moves forward (queued -> sending -> sent -> delivered / undelivered /
failed -> read): callbacks arrive out of order and more than once, and a late "sent" must never
overwrite "delivered". The update is conditional on the stored rank, so a stale callback changes
nothing. smsdesk gives Twilio a callback URL per message that says where the message is
(:func:`smsdesk.send_gateway.status_callback_location`), so the common case is one conditional
write, and a callback whose SID is not on the message (yet) is answered 503 for Twilio to retry.
A callback about a message smsdesk never claimed (the gateway writes a message before Twilio
ever hears of it), e.g. for a conversation that does not exist, can never succeed: it is logged
and acknowledged, not retried for ever. Error 21610 means the carrier has the number opted
out: consent is revoked (source carrier). Other delivery failures (30003 unreachable, 30004
blocked, 30005 unknown number, 30006 landline, 30007 filtered, 30008 unknown) are permanent for that message: recorded,
announced (``MessageFailed``), never retried.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action

from smsdesk.clock import Clock
from smsdesk.consent import carrier_opt_out
from smsdesk.events import DomainEvent, EventType
from smsdesk.repository import ConversationRepository, UnitOfWork, WriteConflict
from smsdesk.table import ConsentState, Item, Message, conversation_pk, customer_pk, message_sk
from smsdesk.twilio_webhook import DeliveryStatus

RANK = {
    "accepted": 1,
    "scheduled": 1,
    "queued": 1,
    "sending": 2,
    "sent": 3,
    "delivered": 4,
    "undelivered": 4,
    "failed": 4,
    "canceled": 4,
    "partially_delivered": 4,
    "read": 5,
}
FAILED = {"undelivered", "failed"}
CARRIER_OPT_OUT = 21610
DELIVERY_ERRORS = {
    30003: "unreachable handset",
    30004: "message blocked",
    30005: "unknown or inactive number",
    30006: "landline or unreachable carrier",
    30007: "filtered by the carrier",
    30008: "unknown delivery error",
    21610: "the recipient opted out with the carrier",
    21211: "invalid number",
}


class Recorded(StrEnum):
    UPDATED = "updated"
    STALE = "stale"  # older than what is stored: ignored
    UNKNOWN_MESSAGE = "unknown_message"  # ours, but not under this SID yet: Twilio may retry
    NOT_OURS = "not_ours"  # no such message (or conversation): logged and acknowledged
    UNKNOWN_STATUS = "unknown_status"


@dataclass(frozen=True, slots=True)
class StatusRecorded:
    outcome: Recorded
    status: str
    message_key: str | None = None


class DeliveryStatusRecorder:
    def __init__(self, repository: ConversationRepository, clock: Clock) -> None:
        self._repository = repository
        self._clock = clock

    def record(self, callback: DeliveryStatus) -> StatusRecorded:
        rank = RANK.get(callback.status)
        if rank is None:
            return StatusRecorded(Recorded.UNKNOWN_STATUS, callback.status)
        thread = conversation_pk(callback.conversation) if callback.conversation else customer_pk(callback.recipient)
        now = self._clock.now()
        actions: list[Action] = [
            Message.status.set(callback.status),
            Message.status_rank.set(rank),
            Message.updated_at.set(now),
        ]
        # Only forward, and only onto the message Twilio accepted under this SID: a callback that
        # overtook the recording of the send finds no SID yet, and is asked to come again.
        ours = (
            (Message.twilio_sid == callback.message_sid)
            & (Message.direction == "outbound")
            & (Message.status_rank < rank)
        )
        if callback.status not in FAILED:
            work = UnitOfWork().update(Item.MESSAGE, _message_at(thread, callback.message_key), actions, ours)
            try:
                self._repository.commit(work)  # one conditional write: the common case
            except WriteConflict:
                return self._why_not(thread, callback)
            return StatusRecorded(Recorded.UPDATED, callback.status, callback.message_key)
        return self._failed(thread, callback, rank, actions, ours, now)

    def _failed(
        self,
        thread: str,
        callback: DeliveryStatus,
        rank: int,
        actions: Sequence[Action],
        ours: Condition,
        now: datetime,
    ) -> StatusRecorded:
        """Undelivered or failed: recorded, announced, and 21610 opts the number out."""
        message = self._repository.message(thread, callback.message_key)
        if message is None:
            return StatusRecorded(Recorded.NOT_OURS, callback.status)
        if message.twilio_sid != callback.message_sid:
            return StatusRecorded(Recorded.UNKNOWN_MESSAGE, callback.status)
        if message.status_rank >= rank:
            return StatusRecorded(Recorded.STALE, callback.status, message.key)
        code = callback.error_code
        reason = DELIVERY_ERRORS.get(code or 0, "delivery failed")
        actions = [*actions, Message.note.set(reason)]
        if code is not None:
            actions.append(Message.error_code.set(code))
        work = UnitOfWork()
        work.publish(
            DomainEvent(
                EventType.MESSAGE_FAILED,
                now,
                message.customer,
                message.conversation,
                {"purpose": message.purpose, "key": message.key, "error_code": code, "reason": reason},
            )
        )
        if code == CARRIER_OPT_OUT:
            customer = self._repository.customer(message.customer, consistent=True)
            if customer is not None and customer.consent != ConsentState.OPTED_OUT:
                carrier_opt_out(work, customer, now, message.key)
        work.update(Item.MESSAGE, message, actions, ours)
        try:
            self._repository.commit(work)
        except WriteConflict as conflict:
            if conflict.on(Item.MESSAGE):
                return StatusRecorded(Recorded.STALE, callback.status, message.key)
            raise
        return StatusRecorded(Recorded.UPDATED, callback.status, message.key)

    def _why_not(self, thread: str, callback: DeliveryStatus) -> StatusRecorded:
        message = self._repository.message(thread, callback.message_key)
        if message is None or message.direction != "outbound":
            return StatusRecorded(Recorded.NOT_OURS, callback.status)
        if message.twilio_sid != callback.message_sid:
            return StatusRecorded(Recorded.UNKNOWN_MESSAGE, callback.status)
        if message.status_rank < RANK[callback.status]:
            # The send was recorded between our write and this read: not stale, just early.
            # Asked again (503), Twilio's retry will find the SID and move the status on.
            return StatusRecorded(Recorded.UNKNOWN_MESSAGE, callback.status, message.key)
        return StatusRecorded(Recorded.STALE, callback.status, message.key)


def _message_at(thread: str, key: str) -> Message:
    return Message(thread, message_sk(key))
