"""The send gateway: the only way a text leaves smsdesk.

Every outbound path calls :meth:`SendGateway.send`: one strongly consistent read of the message's
key and the customer, the decision (:func:`smsdesk.send_decision.decide`: refuse, hold, send),
then its effects: a refusal or a hold recorded (a hold's release scheduled), or the message
claimed with a conditional put, consent checked again, handed to Twilio and recorded. An opt-out
that commits in between makes the claim let go and the decision taken again. Deterministic keys
make a redelivered event or a retried request send nothing twice; a claim left by a crashed
function is taken over after asking Twilio whether the text went out.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from smsdesk.clock import Clock, from_iso, to_iso
from smsdesk.errors import TransientSendFailure
from smsdesk.events import DomainEvent, EventType
from smsdesk.phone_numbers import mask
from smsdesk.repository import ConversationRepository, UnitOfWork, WriteConflict
from smsdesk.send_decision import (
    CONFIRMATION_WINDOW,
    HELD_NOTE,
    STALE_CLAIM,
    AlreadyHandled,
    Hold,
    Outbound,
    ProactivePolicy,
    Purpose,
    Refuse,
    Send,
    decide,
)
from smsdesk.table import (
    ConsentState,
    Customer,
    Item,
    Message,
    MessageStatus,
    OptOutConfirmation,
    message_sk,
    thread_pk,
)
from smsdesk.twilio_messages import AcceptedMessage, PermanentSendFailure

if TYPE_CHECKING:
    from pynamodb.expressions.condition import Condition

    from smsdesk.follow_ups import FollowUps
    from smsdesk.twilio_messages import TwilioMessages

# The gateway's vocabulary, for its callers: what to send, and why it went or did not.
__all__ = [
    "CONFIRMATION_WINDOW",
    "STALE_CLAIM",
    "ConsentChanged",
    "Outbound",
    "ProactivePolicy",
    "Purpose",
    "SendGateway",
    "SendOutcome",
    "SendResult",
    "describe",
    "status_callback_location",
]

CARRIER_OPT_OUT = 21610


class SendOutcome(StrEnum):
    SENT = "sent"
    DUPLICATE = "duplicate"  # this message (same key) was already handled
    REFUSED = "refused"  # not sent, and never will be (opted out, confirmation already sent...)
    HELD = "held"  # quiet hours or the daily cap: scheduled for send_after
    FAILED = "failed"  # Twilio refused it permanently


@dataclass(frozen=True, slots=True)
class SendResult:
    outcome: SendOutcome
    key: str
    note: str | None = None
    twilio_sid: str | None = None
    send_after: datetime | None = None


class ConsentChanged(Exception):
    """The customer's consent or proactive log changed between the read and the claim."""


@dataclass(frozen=True, slots=True)
class _Attempt:
    """One attempt at one outbound message: where it is kept, what was there, and when."""

    outbound: Outbound
    thread: str
    existing: Message | None
    now: datetime

    def record(self, status: MessageStatus, body: str, **fields: Any) -> Message:
        outbound = self.outbound
        return Message(
            self.thread,
            message_sk(outbound.key),
            key=outbound.key,
            direction="outbound",
            customer=outbound.to,
            conversation=outbound.conversation,
            body=body,
            purpose=str(outbound.purpose),
            author=outbound.author,
            created_at=self.existing.created_at if self.existing is not None else self.now,
            updated_at=self.now,
            status=status,
            **fields,
        )

    def condition(self) -> Condition:
        if self.existing is None:
            new: Condition = Message.pk.does_not_exist()
            return new
        # Take over exactly the state we saw (a retry, a held message, a stale claim).
        seen: Condition = (Message.status == self.existing.status) & (Message.updated_at == self.existing.updated_at)
        return seen


class SendGateway:
    def __init__(
        self,
        repository: ConversationRepository,
        twilio: TwilioMessages,
        clock: Clock,
        proactive: ProactivePolicy | None = None,
        follow_ups: FollowUps | None = None,
    ) -> None:
        self._repository = repository
        self._twilio = twilio
        self._clock = clock
        self._proactive = proactive
        self._follow_ups = follow_ups  # schedules the release of a held text

    # ------------------------------------------------------------------ the one way out

    def send(self, outbound: Outbound) -> SendResult:
        for _ in range(3):
            try:
                return self._send_once(outbound)
            except ConsentChanged:
                continue  # decide again on the new state
        raise TransientSendFailure("the customer's state kept changing during the send")

    def send_held(
        self, thread: str, key: str, on_sent: Callable[[UnitOfWork, Message], None] | None = None
    ) -> SendResult:
        """Send a message that was held for quiet hours or the daily cap, if it still may go
        (whether it still should is the caller's decision: see follow_up_runner.still_wanted)."""
        held = self._repository.message(thread, key)
        if held is None or held.status != MessageStatus.HELD:
            return SendResult(SendOutcome.DUPLICATE, key, held.status if held else "no such message")
        body = held.body
        return self.send(
            Outbound(
                to=held.customer,
                purpose=Purpose(held.purpose),
                key=key,
                compose=lambda customer: body,
                conversation=held.conversation,
                author=held.author,
                on_sent=on_sent,
            )
        )

    def cancel_held(self, held: Message, reason: str) -> SendResult:
        """A held message that no longer means anything (decided when it was due): never sent."""
        now = self._clock.now()
        work = UnitOfWork().update(
            Item.MESSAGE,
            held,
            [
                Message.status.set(MessageStatus.REFUSED),
                Message.note.set(f"not sent: {reason}"),
                Message.updated_at.set(now),
            ],
            (Message.status == MessageStatus.HELD) & (Message.updated_at == held.updated_at),
        )
        work.publish(
            DomainEvent(
                EventType.MESSAGE_REFUSED,
                now,
                held.customer,
                held.conversation,
                {"purpose": held.purpose, "key": held.key, "reason": reason},
            )
        )
        try:
            self._repository.commit(work)
        except WriteConflict:
            return SendResult(SendOutcome.DUPLICATE, held.key, "handled meanwhile")
        return SendResult(SendOutcome.REFUSED, held.key, reason)

    def _send_once(self, outbound: Outbound) -> SendResult:
        """Read (one strongly consistent round trip), decide (pure), then act."""
        now = self._clock.now()
        thread = thread_pk(outbound.conversation, outbound.to)
        existing, customer = self._repository.message_and_customer(thread, outbound.key, outbound.to)
        decision = decide(outbound, existing, customer, now, self._proactive)
        attempt = _Attempt(outbound, thread, existing, now)
        if isinstance(decision, AlreadyHandled):
            return SendResult(SendOutcome.DUPLICATE, outbound.key, decision.status, decision.twilio_sid)
        if isinstance(decision, Refuse):
            return self._refuse(attempt, decision)
        if isinstance(decision, Hold):
            return self._hold(attempt, decision)
        assert customer is not None  # decide() refuses a send to no customer
        message = self._claim(attempt, customer, decision)
        try:
            accepted = self._twilio.create(
                outbound.to,
                decision.body,
                claimed_at=decision.reconcile_since or now,
                reconcile=decision.reconcile_since is not None,
                callback=status_callback_location(outbound),
            )
        except PermanentSendFailure as failure:
            return self._failed(message, customer, failure, now)
        except TransientSendFailure:
            self._let_go(message, now, "Twilio was unavailable; retrying")
            raise
        self._record_sent(outbound, message, accepted, now)
        return SendResult(SendOutcome.SENT, outbound.key, None, accepted.sid)

    # ------------------------------------------------------------------ effects

    def _claim(self, attempt: _Attempt, customer: Customer, send: Send) -> Message:
        """Claim the message (a conditional put: one attempt wins), then check consent again.

        The check after the claim is what makes an opt-out that committed since the customer was
        read win: a conditional update of the customer when the send changes it (the single
        opt-out confirmation: pending -> sent; a proactive send: its slot in the daily log),
        otherwise a second strongly consistent read. Either way the consent version must be the
        one the decision was taken on; if not, the claim is let go and the decision taken again.
        """
        now, existing = attempt.now, attempt.existing
        attempts = (existing.attempts if existing else 0) + 1
        message = attempt.record(
            MessageStatus.CLAIMED, send.body, segments=send.segments, proactive=send.proactive, attempts=attempts
        )
        try:
            self._repository.commit(UnitOfWork().put(Item.MESSAGE, message, attempt.condition()))
        except WriteConflict:
            raise ConsentChanged from None  # another attempt claimed it: the next look sees it
        try:
            self._confirm_consent_unchanged(attempt, customer, send)
        except WriteConflict:
            self._let_go(message, now, "consent changed while sending; decided again")
            raise ConsentChanged from None
        return message

    def _confirm_consent_unchanged(self, attempt: _Attempt, customer: Customer, send: Send) -> None:
        """Raises WriteConflict if the customer's consent changed since the decision."""
        unchanged = Customer.consent_version == customer.consent_version
        guard = UnitOfWork()
        if attempt.outbound.purpose is Purpose.OPT_OUT_CONFIRMATION:
            guard.update(
                Item.CUSTOMER,
                customer,
                [Customer.opt_out_confirmation.set(OptOutConfirmation.SENT)],
                unchanged & (Customer.opt_out_confirmation == OptOutConfirmation.PENDING),
            )
        elif send.proactive:
            assert self._proactive is not None
            period, now = self._proactive.cap.period, attempt.now
            recent = [at for at in customer.proactive_sent or [] if now - from_iso(at) < period]
            guard.update(
                Item.CUSTOMER,
                customer,
                [Customer.proactive_sent.set([*recent, to_iso(now)])],
                unchanged & (Customer.proactive_sent == (customer.proactive_sent or [])),
            )
        if guard.operations:
            self._repository.commit(guard)
            return
        fresh = self._repository.customer(attempt.outbound.to, consistent=True)
        if fresh is None or fresh.consent_version != customer.consent_version:
            raise WriteConflict({Item.CUSTOMER})

    def _refuse(self, attempt: _Attempt, refuse: Refuse) -> SendResult:
        outbound = attempt.outbound
        message = attempt.record(MessageStatus.REFUSED, refuse.body, note=refuse.reason)
        event = DomainEvent(
            EventType.MESSAGE_REFUSED,
            attempt.now,
            outbound.to,
            outbound.conversation,
            {"purpose": str(outbound.purpose), "key": outbound.key, "reason": refuse.reason},
        )
        try:
            self._repository.commit(UnitOfWork().put(Item.MESSAGE, message, attempt.condition()).publish(event))
        except WriteConflict:
            return SendResult(SendOutcome.DUPLICATE, outbound.key, refuse.reason)
        return SendResult(SendOutcome.REFUSED, outbound.key, refuse.reason)

    def _hold(self, attempt: _Attempt, hold: Hold) -> SendResult:
        assert self._follow_ups is not None, "a function that holds texts schedules their release"
        message = attempt.record(MessageStatus.HELD, hold.body, send_after=hold.until, note=HELD_NOTE, proactive=True)
        try:
            self._repository.commit(UnitOfWork().put(Item.MESSAGE, message, attempt.condition()))
        except WriteConflict:
            raise ConsentChanged from None
        self._follow_ups.schedule_release(message, hold.until)
        return SendResult(SendOutcome.HELD, attempt.outbound.key, HELD_NOTE, send_after=hold.until)

    def _record_sent(self, outbound: Outbound, message: Message, accepted: AcceptedMessage, now: datetime) -> None:
        work = UnitOfWork()
        work.update(
            Item.MESSAGE,
            message,
            [
                Message.status.set(
                    accepted.status if accepted.status in {"queued", "accepted", "sending", "sent"} else "queued"
                ),
                Message.twilio_sid.set(accepted.sid),
                Message.updated_at.set(now),
                Message.sent_at.set(now),
                Message.status_rank.set(1),
                Message.note.remove(),
            ],
        )
        if outbound.on_sent is not None:
            outbound.on_sent(work, message)
        self._repository.commit(work)

    def _let_go(self, message: Message, now: datetime, note: str) -> None:
        """Give up a claim without sending: the next attempt takes the message over."""
        self._repository.commit(
            UnitOfWork().update(
                Item.MESSAGE,
                message,
                [Message.status.set(MessageStatus.RETRYING), Message.updated_at.set(now), Message.note.set(note)],
            )
        )

    def _failed(self, message: Message, customer: Customer, failure: PermanentSendFailure, now: datetime) -> SendResult:
        work = UnitOfWork().update(
            Item.MESSAGE,
            message,
            [
                Message.status.set(MessageStatus.FAILED),
                Message.error_code.set(failure.code) if failure.code else Message.error_code.remove(),
                Message.note.set(failure.reason),
                Message.updated_at.set(now),
            ],
        )
        work.publish(
            DomainEvent(
                EventType.MESSAGE_FAILED,
                now,
                message.customer,
                message.conversation,
                {"purpose": message.purpose, "key": message.key, "error_code": failure.code, "reason": failure.reason},
            )
        )
        if failure.code == CARRIER_OPT_OUT and customer.consent != ConsentState.OPTED_OUT:
            from smsdesk.consent import carrier_opt_out

            carrier_opt_out(work, customer, now, message.key)
        self._repository.commit(work)
        return SendResult(SendOutcome.FAILED, message.key, failure.note)


def status_callback_location(outbound: Outbound) -> dict[str, str]:
    """Where Twilio's status callbacks for this message should find it: its conversation (if
    any) and key; the number is the callback's own ``To``. Carried in the callback URL, which
    Twilio signs, so recording a status is one conditional write, with no lookup by SID."""
    location = {"m": outbound.key}
    if outbound.conversation:
        location["c"] = outbound.conversation
    return location


def describe(result: SendResult, to: str) -> dict[str, object]:
    """A log-safe summary of a send."""
    return {"outcome": str(result.outcome), "key": result.key, "to": mask(to), "note": result.note}
