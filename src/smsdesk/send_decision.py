"""Whether a text may leave, decided from what was just read: a pure function, no I/O.

:func:`decide` takes the message to send, what is already recorded under its key, the customer
(read strongly consistently by the gateway), the time and the proactive policy, and answers
:class:`AlreadyHandled`, :class:`Refuse`, :class:`Hold` or :class:`Send`, with the reason.
The send gateway (:mod:`smsdesk.send_gateway`) carries the answer out.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING

from smsdesk.clock import from_iso
from smsdesk.redaction import redact_card_numbers
from smsdesk.sms_segments import count_segments, smart_encode
from smsdesk.table import ConsentState, Customer, Message, MessageStatus, OptOutConfirmation

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

    from smsdesk.quiet_hours import ProactiveCap, QuietHours
    from smsdesk.repository import UnitOfWork

CONFIRMATION_WINDOW = timedelta(minutes=5)
STALE_CLAIM = timedelta(minutes=2)  # longer than any function's timeout
CUSTOMER_JUST_TEXTED = timedelta(hours=1)
MAX_SEGMENTS = 10
POSSIBLE_OPT_OUT_NOTE = "paused: a possible opt-out awaits an agent's decision"
HELD_NOTE = "held: outside the customer's quiet-hours window or over the daily limit"


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
class ProactivePolicy:
    """When a proactive text may go: the recipient's quiet hours, the daily cap, and the zone
    used when the number says nothing."""

    quiet_hours: QuietHours
    cap: ProactiveCap
    default_zone: ZoneInfo


# ---------------------------------------------------------------------- the answers


@dataclass(frozen=True, slots=True)
class AlreadyHandled:
    """This key was handled (or is being handled) already: nothing to do."""

    status: str
    twilio_sid: str | None


@dataclass(frozen=True, slots=True)
class Refuse:
    """Never sent; recorded with the reason."""

    reason: str
    body: str = ""


@dataclass(frozen=True, slots=True)
class Hold:
    """Proactive, outside the window or over the cap: recorded, released at ``until``."""

    body: str
    until: datetime


@dataclass(frozen=True, slots=True)
class Send:
    body: str
    segments: int
    proactive: bool
    # Taking over a stale claim or a send that failed ambiguously: the earlier attempt (claimed
    # at this instant) may have reached Twilio; look there first.
    reconcile_since: datetime | None = None


Decision = AlreadyHandled | Refuse | Hold | Send


def decide(
    outbound: Outbound,
    existing: Message | None,
    customer: Customer | None,
    now: datetime,
    policy: ProactivePolicy | None,
) -> Decision:
    if existing is not None and not may_take_over(existing, now):
        return AlreadyHandled(existing.status, existing.twilio_sid)
    if customer is None:
        return Refuse("no conversation with this number on record")
    body = smart_encode(redact_card_numbers(outbound.compose(customer)))
    segments = count_segments(body).segments
    if not body.strip():
        return Refuse("the text is empty")
    if segments > MAX_SEGMENTS:
        return Refuse(f"the text needs {segments} SMS segments; at most {MAX_SEGMENTS}", body)
    refusal = consent_refusal(outbound.purpose, customer, now)
    if refusal is not None:
        return Refuse(refusal, body)
    proactive = is_proactive(outbound.purpose, customer, now)
    if proactive:
        when = next_allowed(customer, now, policy)
        if when > now:
            return Hold(body, when)
    reconciling = existing is not None and existing.status in {MessageStatus.CLAIMED, MessageStatus.RETRYING}
    return Send(body, segments, proactive, existing.updated_at if existing is not None and reconciling else None)


def consent_refusal(purpose: Purpose, customer: Customer, now: datetime) -> str | None:
    """Why consent forbids this text now (None: it allows it). Nothing reaches an opted-out
    number but the single confirmation (once, within 5 minutes) and the answers the customer
    asked for (HELP, how to opt in); a possible opt-out awaiting an agent pauses all but those."""
    confirming = purpose is Purpose.OPT_OUT_CONFIRMATION
    if customer.consent == ConsentState.OPTED_OUT and purpose not in ANSWERS_ANY_STATE:
        if not confirming:
            return "the customer has opted out"
        if customer.opt_out_confirmation != OptOutConfirmation.PENDING:
            return "opt-out confirmation already handled"
        if customer.consent_changed_at and now - customer.consent_changed_at > CONFIRMATION_WINDOW:
            return "too late to confirm the opt-out"
        return None
    if confirming:
        return "the customer is subscribed again"
    if customer.consent_hold and purpose not in ANSWERS_ANY_STATE:
        return POSSIBLE_OPT_OUT_NOTE
    return None


def may_take_over(message: Message, now: datetime) -> bool:
    """A retry, a held message or a claim older than any function's run may be sent again."""
    if message.status in {MessageStatus.RETRYING, MessageStatus.HELD}:
        return True
    return message.status == MessageStatus.CLAIMED and now - message.updated_at >= STALE_CLAIM


def is_proactive(purpose: Purpose, customer: Customer, now: datetime) -> bool:
    """Sent on smsdesk's initiative: follow-ups always, an agent's reply when the customer has
    not texted in the last hour."""
    if purpose in ALWAYS_PROACTIVE:
        return True
    if purpose is Purpose.AGENT_REPLY:
        last = customer.last_inbound_at
        return last is None or now - last > CUSTOMER_JUST_TEXTED
    return False


def next_allowed(customer: Customer, now: datetime, policy: ProactivePolicy | None) -> datetime:
    """The first instant a proactive text may reach this customer (``now`` if it may now)."""
    from smsdesk.quiet_hours import next_send_time
    from smsdesk.time_zones import time_zones_for_number

    if policy is None:
        raise RuntimeError("this function was not configured to send proactive messages")
    zones = time_zones_for_number(
        customer.number, customer.from_state, fallback=policy.default_zone, chosen=customer.time_zone
    )
    sent = [from_iso(at) for at in customer.proactive_sent or []]
    return next_send_time(now, zones, sent, policy.quiet_hours, policy.cap)
