"""The agent API's JSON: how conversations and messages look to agents and their tools.

Texts are redacted of card numbers on the way out too: what was stored before a better redaction
(a separator it did not know) is never shown to an agent whole."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from smsdesk.agent_desk import ConversationView, Page
from smsdesk.clock import to_iso
from smsdesk.conversations import OPTED_OUT_NOTE
from smsdesk.redaction import redact_card_numbers
from smsdesk.send_gateway import SendResult
from smsdesk.table import ConsentState, Conversation, Customer, Message
from smsdesk.templates import LANGUAGES


def _iso(value: datetime | None) -> str | None:
    return to_iso(value) if value is not None else None


def conversation_summary(c: Conversation) -> dict[str, Any]:
    return {
        "reference": c.reference,
        "status": c.status,
        "priority": c.priority,
        "customer": c.customer,
        "category": c.category,
        "summary": redact_card_numbers(c.summary),
        "escalation_reasons": list(c.escalation_reasons or []),
        "repeat_complaint": c.repeat_complaint,
        "sla_breached": c.sla_breached,
        "opened_at": _iso(c.opened_at),
        "updated_at": _iso(c.updated_at),
        "reply_by": _iso(c.reply_by),
        "assignee": c.assignee,
        "possible_opt_out": c.possible_opt_out,
    }


# For the agent only: the customer is never told how their text was read.
CRISIS_NOTE = (
    "The customer may be at risk of self-harm. Reply with care; in the US the 988 Suicide & Crisis "
    "Lifeline (call or text 988) is available 24/7. If life is in immediate danger, call 911."
)


def conversation_list(conversations: list[Conversation]) -> dict[str, Any]:
    return {"conversations": [conversation_summary(c) for c in conversations], "next_cursor": None}


def conversation_page(page: Page) -> dict[str, Any]:
    return {"conversations": [conversation_summary(c) for c in page.conversations], "next_cursor": page.cursor}


def message_view(m: Message) -> dict[str, Any]:
    return {
        "key": m.key,
        "direction": m.direction,
        "author": m.author,
        "purpose": m.purpose,
        "body": redact_card_numbers(m.body),
        "status": m.status,
        "note": m.note,
        "error_code": m.error_code,
        "created_at": _iso(m.created_at),
        "sent_at": _iso(m.sent_at),
        "send_after": _iso(m.send_after),
        "num_media": m.num_media,
    }


def _auto_reply_note(c: Conversation, customer: Customer | None) -> str | None:
    """Said while it is true: the opted-out note until START; the others (a possible opt-out, a
    call asked for, an agent's decision) as written."""
    if c.auto_reply_note == OPTED_OUT_NOTE:
        return c.auto_reply_note if customer is not None and customer.consent == ConsentState.OPTED_OUT else None
    return c.auto_reply_note


def conversation_detail(view: ConversationView) -> dict[str, Any]:
    c, customer = view.conversation, view.customer
    return {
        **conversation_summary(c),
        "acknowledged_at": _iso(c.acknowledged_at),
        "first_response_at": _iso(c.first_response_at),
        "resolved_at": _iso(c.resolved_at),
        "closed_at": _iso(c.closed_at),
        "resolution_note": redact_card_numbers(c.resolution_note) if c.resolution_note else None,
        "reopened_count": c.reopened_count,
        "csat_score": c.csat_score,
        "callback_requested": c.callback_requested,
        # Said while it is true: after START the customer gets automatic replies again.
        "auto_reply_note": _auto_reply_note(c, customer),
        "customer_name": customer.name if customer else None,
        "consent": customer.consent if customer else None,
        "customer_profile": customer_profile(customer) if customer else None,
        "past_conversations": [
            {
                "reference": p.reference,
                "status": p.status,
                "category": p.category,
                "opened_at": _iso(p.opened_at),
                "resolved_at": _iso(p.resolved_at),
                "csat_score": p.csat_score,
            }
            for p in view.past
        ],
        "consent_hold": customer.consent_hold if customer else None,
        "language": customer.language if customer else None,
        "agent_note": CRISIS_NOTE if "self_harm" in (c.escalation_reasons or []) else None,
        # In the order the customer saw them: a held text where it was sent, not where it was written.
        "messages": [message_view(m) for m in sorted(view.messages, key=lambda m: (m.sent_at or m.created_at, m.key))],
    }


def send_result(result: SendResult) -> dict[str, Any]:
    return {
        "outcome": str(result.outcome),
        "key": result.key,
        "note": result.note,
        "send_after": _iso(result.send_after),
    }


def customer_profile(customer: Customer) -> dict[str, Any]:
    return {
        "number": customer.number,
        "name": customer.name,
        "language": customer.language,
        "language_chosen_by": customer.language_chosen_by,
        "time_zone": customer.time_zone,  # set by an agent; else quiet hours go by the number
        "profile_changed_by": customer.profile_changed_by,
        "profile_changed_at": _iso(customer.profile_changed_at),
        "languages": sorted(LANGUAGES),  # what the panel offers
        "consent": customer.consent,
        "consent_changed_at": _iso(customer.consent_changed_at),
        "consent_source": customer.consent_source,
        "conversation_count": customer.conversation_count,
        "customer_since": _iso(customer.created_at),
    }


def canned_responses(responses: Mapping[str, str]) -> dict[str, Any]:
    return {"canned_responses": [{"title": title, "text": text} for title, text in responses.items()]}
