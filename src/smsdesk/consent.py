"""Consent: who may be texted, and the evidence.

A number is ``subscribed`` until it opts out; an opt-out holds until the customer explicitly
opts back in (START, UNSTOP, YES...). Consent records never expire. Every change writes, in the
same transaction, the new state on the customer (``consent_version`` bumped, so a send that read
the old state cannot claim a message) and an append-only :class:`~smsdesk.table.ConsentRecord`
with the source, the reason, the redacted text and the MessageSid; a ``ConsentRevoked`` or
``ConsentGranted`` event announces it.

The opt-out itself is recorded by the inbound webhook before it answers Twilio (compliance
rule 1). What follows asynchronously (cancelling scheduled follow-ups, the single confirmation)
is :mod:`smsdesk.consent_processing`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from smsdesk.clock import to_iso
from smsdesk.events import DomainEvent, EventType
from smsdesk.repository import UnitOfWork
from smsdesk.table import ConsentRecord, ConsentState, Customer, Item, OptOutConfirmation, consent_sk, customer_pk


class ConsentSource(StrEnum):
    KEYWORD = "keyword"
    NATURAL_LANGUAGE = "natural_language"
    TWILIO_OPT_OUT_TYPE = "twilio_opt_out_type"
    CARRIER = "carrier_21610"
    AGENT = "agent"


@dataclass(frozen=True, slots=True)
class ConsentEvidence:
    source: ConsentSource
    reason: str | None = None
    text: str | None = None  # redacted
    message_sid: str | None = None
    keyword: str | None = None


def _record(number: str, action: str, evidence: ConsentEvidence, now: datetime, previous: str) -> ConsentRecord:
    return ConsentRecord(
        customer_pk(number),
        consent_sk(to_iso(now), evidence.message_sid or uuid.uuid4().hex),
        number=number,
        action=action,
        source=str(evidence.source),
        reason=evidence.reason,
        text=evidence.text,
        message_sid=evidence.message_sid,
        recorded_at=now,
        previous=previous,
    )


def opt_out(
    work: UnitOfWork, customer: Customer, evidence: ConsentEvidence, now: datetime, *, confirmation_needed: bool
) -> None:
    """Record an opt-out on ``customer`` (already in ``work`` as a new item, or updated here)."""
    previous = customer.consent
    work.put_new(Item.CONSENT_RECORD, _record(customer.number, "opt_out", evidence, now, previous))
    if previous == ConsentState.OPTED_OUT:
        return  # already out: the evidence is kept, nothing else changes, nothing is re-sent
    confirmation = OptOutConfirmation.PENDING if confirmation_needed else OptOutConfirmation.NOT_NEEDED
    held = bool(customer.consent_hold)
    _change(work, customer, ConsentState.OPTED_OUT, evidence, now, opt_out_confirmation=confirmation)
    work.publish(
        DomainEvent(
            EventType.CONSENT_REVOKED,
            now,
            customer.number,
            customer.open_conversation,
            {
                "source": str(evidence.source),
                "reason": evidence.reason,
                "keyword": evidence.keyword,
                "message_sid": evidence.message_sid,
                "confirmation": confirmation,
                # Only when it ends a possible opt-out's hold (the event's shape is otherwise unchanged).
                **({"possible_opt_out": True} if held else {}),
            },
        )
    )


def opt_in(
    work: UnitOfWork, customer: Customer, evidence: ConsentEvidence, now: datetime, *, twilio_answered: bool
) -> None:
    """Record an opt-in; ``twilio_answered``: Twilio already confirmed it, smsdesk sends no confirmation."""
    previous = customer.consent
    held = bool(customer.consent_hold)
    work.put_new(Item.CONSENT_RECORD, _record(customer.number, "opt_in", evidence, now, previous))
    _change(work, customer, ConsentState.SUBSCRIBED, evidence, now, opt_out_confirmation=None)
    work.publish(
        DomainEvent(
            EventType.CONSENT_GRANTED,
            now,
            customer.number,
            customer.open_conversation,
            {
                "source": str(evidence.source),
                "keyword": evidence.keyword,
                "message_sid": evidence.message_sid,
                "previous": previous,
                "twilio_answered": twilio_answered,
                **({"possible_opt_out": True} if held else {}),
            },
        )
    )


def carrier_opt_out(work: UnitOfWork, customer: Customer, now: datetime, message_key: str) -> None:
    """Twilio answered 21610: the carrier has this number opted out. No confirmation is possible."""
    evidence = ConsentEvidence(ConsentSource.CARRIER, reason="carrier reported STOP (21610)", text=None)
    opt_out(work, customer, evidence, now, confirmation_needed=False)


def _change(
    work: UnitOfWork,
    customer: Customer,
    state: str,
    evidence: ConsentEvidence,
    now: datetime,
    *,
    opt_out_confirmation: str | None,
) -> None:
    """Set the new consent state: on the pending new customer item, or as a conditional update."""
    item = work.pending_put(Item.CUSTOMER)
    if isinstance(item, Customer):  # a customer texting for the first time: the put carries the state
        item.consent, item.consent_version = state, (item.consent_version or 0) + 1
        item.consent_changed_at, item.consent_source = now, str(evidence.source)
        item.opt_out_confirmation = opt_out_confirmation
        item.consent_hold = None
        return
    actions = [
        Customer.consent.set(state),
        Customer.consent_version.add(1),
        Customer.consent_changed_at.set(now),
        Customer.consent_source.set(str(evidence.source)),
        Customer.opt_out_confirmation.set(opt_out_confirmation)
        if opt_out_confirmation
        else Customer.opt_out_confirmation.remove(),
        Customer.consent_hold.remove(),  # an explicit decision ends a possible opt-out's pause
    ]
    work.update(Item.CUSTOMER, customer, actions, Customer.consent_version == customer.consent_version)
