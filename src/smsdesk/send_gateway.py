"""The send gateway: the only way a text leaves smsdesk.

Every outbound path (acknowledgement, keyword reply, HELP, consent confirmations, agent reply,
satisfaction check, SLA update, a held message released) calls :meth:`SendGateway.send`, which:

1. reads the customer **strongly consistently** (consent, time zone, recent proactive sends);
2. refuses, and records why, anything to an opted-out number — except the single opt-out
   confirmation, allowed once (``pending`` -> ``sent``) and only within 5 minutes of the opt-out,
   and the answer to a HELP the customer texted (CTIA: HELP is answered whatever the consent
   state; one answer per HELP text, never on smsdesk's initiative), or to an opt-in in words
   (how to confirm it); while a possible opt-out awaits an agent, refuses all but those answers;
3. holds a proactive message (follow-ups, and agent replies when the customer has not texted in
   the last hour) outside the recipient's quiet-hours window or over the daily cap, and
   schedules its release for the first allowed instant;
4. claims the message (a conditional put), then checks the consent version again (with the
   customer's own conditional update when the send changes it, else a second consistent read),
   so an opt-out that commits in between makes the claim let go and the decision is taken again;
5. hands it to Twilio (:mod:`smsdesk.twilio_messages`) and records the result.

Messages have deterministic keys, so a redelivered event or a retried request finds its own
claim and sends nothing twice. A function that crashes between claim and send leaves a
``claimed`` message; after :data:`STALE_CLAIM` a retry takes it over, first asking Twilio whether
the text went out, and sends only if it did not.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING

from smsdesk.clock import Clock, from_iso, to_iso
from smsdesk.errors import TransientSendFailure
from smsdesk.events import DomainEvent, EventType
from smsdesk.phone_numbers import mask
from smsdesk.redaction import redact_card_numbers
from smsdesk.repository import ConversationRepository, UnitOfWork, WriteConflict
from smsdesk.sms_segments import count_segments, smart_encode
from smsdesk.table import ConsentState, Customer, Item, Message, MessageStatus, conversation_pk, customer_pk, message_sk
from smsdesk.twilio_messages import AcceptedMessage, PermanentSendFailure

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

    from smsdesk.quiet_hours import ProactiveCap, QuietHours
    from smsdesk.twilio_messages import TwilioMessages

CONFIRMATION_WINDOW = timedelta(minutes=5)
STALE_CLAIM = timedelta(minutes=2)  # longer than any function's timeout
CUSTOMER_JUST_TEXTED = timedelta(hours=1)
MAX_SEGMENTS = 10
CARRIER_OPT_OUT = 21610
POSSIBLE_OPT_OUT_NOTE = "paused: a possible opt-out awaits an agent's decision"


class Purpose(StrEnum):
    ACKNOWLEDGEMENT = "acknowledgement"
    KEYWORD_REPLY = "keyword_reply"
    HELP = "help"
    OPT_IN_INSTRUCTIONS = "opt_in_instructions"  # "Reply START to...": the answer to an opt-in in words
    OPT_OUT_CONFIRMATION = "opt_out_confirmation"
    OPT_IN_CONFIRMATION = "opt_in_confirmation"
    AGENT_REPLY = "agent_reply"
    SATISFACTION_SURVEY = "satisfaction_survey"
    SATISFACTION_THANKS = "satisfaction_thanks"
    SLA_UPDATE = "sla_update"


# Sent on smsdesk's own initiative, not in answer to a text: quiet hours and the cap apply.
ALWAYS_PROACTIVE = {Purpose.SATISFACTION_SURVEY, Purpose.SLA_UPDATE}
# Answers the customer asked for, sent whatever the consent state (one per text they sent).
ANSWERS_ANY_STATE = {Purpose.HELP, Purpose.OPT_IN_INSTRUCTIONS}


class Outcome(StrEnum):
    SENT = "sent"
    DUPLICATE = "duplicate"  # this message (same key) was already handled
    REFUSED = "refused"  # not sent, and never will be (opted out, confirmation already sent...)
    HELD = "held"  # quiet hours or the daily cap: scheduled for send_after
    FAILED = "failed"  # Twilio refused it permanently


@dataclass(frozen=True, slots=True)
class Outbound:
    to: str
    purpose: Purpose
    key: str  # deterministic within the thread: the same logical message always has the same key
    compose: Callable[[Customer], str]  # the text, from the customer as just read
    conversation: str | None = None  # the thread; None keeps it on the customer
    author: str = "smsdesk"
    # Extra writes committed with the "sent" record (e.g. the conversation's acknowledged_at).
    on_sent: Callable[[UnitOfWork, Message], None] | None = None


@dataclass(frozen=True, slots=True)
class SendResult:
    outcome: Outcome
    key: str
    note: str | None = None
    twilio_sid: str | None = None
    send_after: datetime | None = None


@dataclass(frozen=True, slots=True)
class ProactivePolicy:
    quiet_hours: QuietHours
    cap: ProactiveCap
    default_zone: ZoneInfo
    # Schedules the release of a held message at ``when`` (EventBridge Scheduler when deployed).
    hold: Callable[[Message, datetime], None]


class ConsentChanged(Exception):
    """The customer's consent or proactive log changed between the read and the claim."""


class SendGateway:
    def __init__(
        self,
        repository: ConversationRepository,
        twilio: TwilioMessages,
        clock: Clock,
        proactive: ProactivePolicy | None = None,
    ) -> None:
        self._repository = repository
        self._twilio = twilio
        self._clock = clock
        self._proactive = proactive

    # ------------------------------------------------------------------ the one way out

    def send(self, outbound: Outbound) -> SendResult:
        for _ in range(3):
            try:
                return self._send_once(outbound)
            except ConsentChanged:
                continue  # decide again on the new state
        raise TransientSendFailure("the customer's state kept changing during the send")

    def release(
        self, thread: str, key: str, on_sent: Callable[[UnitOfWork, Message], None] | None = None
    ) -> SendResult:
        """Send a message that was held for quiet hours or the daily cap, if it still may go
        (whether it still should is the caller's decision: see follow_ups.still_wanted)."""
        held = self._repository.message(thread, key)
        if held is None or held.status != MessageStatus.HELD:
            return SendResult(Outcome.DUPLICATE, key, held.status if held else "no such message")
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
            return SendResult(Outcome.DUPLICATE, held.key, "handled meanwhile")
        return SendResult(Outcome.REFUSED, held.key, reason)

    def _send_once(self, outbound: Outbound) -> SendResult:
        now = self._clock.now()
        thread = conversation_pk(outbound.conversation) if outbound.conversation else customer_pk(outbound.to)
        # One round trip, strongly consistent: this message, if it was handled already, and the
        # customer (consent, time zone, proactive log).
        existing, customer = self._repository.message_and_customer(thread, outbound.key, outbound.to)
        if existing is not None and not self._may_take_over(existing, now):
            return SendResult(Outcome.DUPLICATE, outbound.key, existing.status, existing.twilio_sid)

        if customer is None:
            return self._refuse(outbound, thread, existing, now, "no conversation with this number on record")
        body = smart_encode(redact_card_numbers(outbound.compose(customer)))
        segments = count_segments(body).segments
        if not body.strip():
            return self._refuse(outbound, thread, existing, now, "the text is empty")
        if segments > MAX_SEGMENTS:
            reason = f"the text needs {segments} SMS segments; at most {MAX_SEGMENTS}"
            return self._refuse(outbound, thread, existing, now, reason, body)

        # Consent: read just now, strongly consistent; checked again once the message is claimed.
        confirming = outbound.purpose is Purpose.OPT_OUT_CONFIRMATION
        if customer.consent == ConsentState.OPTED_OUT and outbound.purpose not in ANSWERS_ANY_STATE:
            if not confirming:
                return self._refuse(outbound, thread, existing, now, "the customer has opted out", body)
            if customer.opt_out_confirmation != "pending":
                return self._refuse(outbound, thread, existing, now, "opt-out confirmation already handled", body)
            if customer.consent_changed_at and now - customer.consent_changed_at > CONFIRMATION_WINDOW:
                return self._refuse(outbound, thread, existing, now, "too late to confirm the opt-out", body)
        elif confirming:
            return self._refuse(outbound, thread, existing, now, "the customer is subscribed again", body)
        elif customer.consent_hold and outbound.purpose not in ANSWERS_ANY_STATE:
            # A text that may be an opt-out: nothing goes out until an agent decides.
            return self._refuse(outbound, thread, existing, now, POSSIBLE_OPT_OUT_NOTE, body)

        proactive = self._is_proactive(outbound, customer, now)
        if proactive:
            when = self._next_allowed(customer, now)
            if when > now:
                return self._hold(outbound, thread, customer, body, now, when, existing)

        message = self._claim(outbound, thread, customer, body, segments, now, proactive, existing)
        # Taking over a stale claim, or a send that failed ambiguously (5xx, timeouts): the earlier
        # attempt may have reached Twilio; look first.
        reconcile = existing is not None and existing.status in {"claimed", "retrying"}
        try:
            accepted = self._twilio.create(
                outbound.to,
                body,
                claimed_at=existing.updated_at if reconcile else now,
                reconcile=reconcile,
                callback=status_callback_location(outbound),
            )
        except PermanentSendFailure as failure:
            return self._failed(message, customer, failure, now)
        except TransientSendFailure:
            self._release(message, now)
            raise
        self._record_sent(outbound, message, accepted, now)
        return SendResult(Outcome.SENT, outbound.key, None, accepted.sid)

    # ------------------------------------------------------------------ decisions

    def _may_take_over(self, message: Message, now: datetime) -> bool:
        if message.status in {"retrying", "held"}:
            return True
        return message.status == MessageStatus.CLAIMED and now - message.updated_at >= STALE_CLAIM

    def _is_proactive(self, outbound: Outbound, customer: Customer, now: datetime) -> bool:
        if outbound.purpose in ALWAYS_PROACTIVE:
            return True
        if outbound.purpose is Purpose.AGENT_REPLY:
            last = customer.last_inbound_at
            return last is None or now - last > CUSTOMER_JUST_TEXTED
        return False

    def _zones(self, customer: Customer) -> tuple[ZoneInfo, ...]:
        from smsdesk.time_zones import time_zones_for_number

        assert self._proactive is not None
        return time_zones_for_number(
            customer.number, customer.from_state, fallback=self._proactive.default_zone, chosen=customer.time_zone
        )

    def _next_allowed(self, customer: Customer, now: datetime) -> datetime:
        from smsdesk.quiet_hours import next_send_time

        if self._proactive is None:
            raise RuntimeError("this function was not configured to send proactive messages")
        sent = [from_iso(at) for at in customer.proactive_sent or []]
        policy = self._proactive
        return next_send_time(now, self._zones(customer), sent, policy.quiet_hours, policy.cap)

    # ------------------------------------------------------------------ writes

    def _new_message(
        self, outbound: Outbound, thread: str, body: str, now: datetime, status: str, **fields: object
    ) -> Message:
        return Message(
            thread,
            message_sk(outbound.key),
            key=outbound.key,
            direction="outbound",
            customer=outbound.to,
            conversation=outbound.conversation,
            body=body,
            purpose=str(outbound.purpose),
            author=outbound.author,
            created_at=now,
            updated_at=now,
            status=status,
            **fields,
        )

    def _message_condition(self, existing: Message | None):
        if existing is None:
            return Message.pk.does_not_exist()
        # Take over exactly the state we saw (a retry, a held message, a stale claim).
        return (Message.status == existing.status) & (Message.updated_at == existing.updated_at)

    def _claim(
        self,
        outbound: Outbound,
        thread: str,
        customer: Customer,
        body: str,
        segments: int,
        now: datetime,
        proactive: bool,
        existing: Message | None,
    ) -> Message:
        """Claim the message (a conditional put: one attempt wins), then check consent again.

        The check after the claim is what makes an opt-out that committed since the customer was
        read win: a conditional update of the customer when the send changes it (the single
        opt-out confirmation: pending -> sent; a proactive send: its slot in the daily log),
        otherwise a second strongly consistent read. Either way the consent version must be the
        one the decision was taken on; if not, the claim is let go and the decision taken again.
        """
        attempts = (existing.attempts if existing else 0) + 1
        message = self._new_message(
            outbound, thread, body, now, "claimed", segments=segments, proactive=proactive, attempts=attempts
        )
        message.created_at = existing.created_at if existing else now
        try:
            self._repository.commit(UnitOfWork().put(Item.MESSAGE, message, self._message_condition(existing)))
        except WriteConflict:
            raise ConsentChanged from None  # another attempt claimed it: the next look sees it
        unchanged = Customer.consent_version == customer.consent_version
        guard = UnitOfWork()
        if outbound.purpose is Purpose.OPT_OUT_CONFIRMATION:
            guard.update(
                Item.CUSTOMER,
                customer,
                [Customer.opt_out_confirmation.set("sent")],
                unchanged & (Customer.opt_out_confirmation == "pending"),
            )
        elif proactive:
            assert self._proactive is not None
            recent = [at for at in customer.proactive_sent or [] if now - from_iso(at) < self._proactive.cap.period]
            guard.update(
                Item.CUSTOMER,
                customer,
                [Customer.proactive_sent.set([*recent, to_iso(now)])],
                unchanged & (Customer.proactive_sent == (customer.proactive_sent or [])),
            )
        try:
            if guard.operations:
                self._repository.commit(guard)
            else:
                fresh = self._repository.customer(outbound.to, consistent=True)
                if fresh is None or fresh.consent_version != customer.consent_version:
                    raise WriteConflict({Item.CUSTOMER})
        except WriteConflict:
            self._let_go(message, now, "consent changed while sending; decided again")
            raise ConsentChanged from None
        return message

    def _refuse(
        self,
        outbound: Outbound,
        thread: str,
        existing: Message | None,
        now: datetime,
        reason: str,
        body: str | None = None,
    ) -> SendResult:
        message = self._new_message(outbound, thread, body or "", now, "refused", note=reason)
        if existing is not None:
            message.created_at = existing.created_at
        event = DomainEvent(
            EventType.MESSAGE_REFUSED,
            now,
            outbound.to,
            outbound.conversation,
            {"purpose": str(outbound.purpose), "key": outbound.key, "reason": reason},
        )
        try:
            self._repository.commit(
                UnitOfWork().put(Item.MESSAGE, message, self._message_condition(existing)).publish(event)
            )
        except WriteConflict:
            return SendResult(Outcome.DUPLICATE, outbound.key, reason)
        return SendResult(Outcome.REFUSED, outbound.key, reason)

    def _hold(
        self,
        outbound: Outbound,
        thread: str,
        customer: Customer,
        body: str,
        now: datetime,
        when: datetime,
        existing: Message | None,
    ) -> SendResult:
        assert self._proactive is not None
        note = "held: outside the customer's quiet-hours window or over the daily limit"
        message = self._new_message(outbound, thread, body, now, "held", send_after=when, note=note, proactive=True)
        if existing is not None:
            message.created_at = existing.created_at
        try:
            self._repository.commit(UnitOfWork().put(Item.MESSAGE, message, self._message_condition(existing)))
        except WriteConflict:
            raise ConsentChanged from None
        self._proactive.hold(message, when)
        return SendResult(Outcome.HELD, outbound.key, note, send_after=when)

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

    def _release(self, message: Message, now: datetime) -> None:
        """A transient failure: let the next attempt take the message over."""
        self._let_go(message, now, "Twilio was unavailable; retrying")

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
        return SendResult(Outcome.FAILED, message.key, f"{failure.code}: {failure.reason}")


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
