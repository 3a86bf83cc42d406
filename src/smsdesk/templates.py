"""Every text smsdesk sends a customer, in one place.

The house style: professional and warm, plain words, no slang, no emoji, no exclamation marks,
the business named where the law or clarity asks for it. Every template fits one GSM-7 segment
(160 characters) with realistic values and never needs more than two with the longest allowed
ones (business name 30, contact 40, a long name); ``tests/unit/test_templates.py`` renders each
with both and counts. Values that come from customers (their name) are cleaned to GSM-7 so one
accented letter cannot double the cost of the message.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from typing import TYPE_CHECKING

from smsdesk.sms_segments import GSM7_BASIC

if TYPE_CHECKING:
    from smsdesk.config import BusinessSettings, InboundSettings

_CATEGORY_PHRASES = {
    "order": "your order",
    "delivery": "your delivery",
    "billing": "the billing problem",
    "product": "the problem with your product",
    "service": "your experience with us",
    "account": "the problem with your account",
}
_DEFAULT_ISSUE = "the problem you reported"


# Letters that Unicode does not decompose into a base letter plus an accent.
_TRANSLITERATION = {"Ł": "L", "ł": "l", "Đ": "D", "đ": "d", "Œ": "OE", "œ": "oe", "ı": "i", "Þ": "Th", "þ": "th"}


def gsm_safe(text: str, max_length: int) -> str:
    """Fold a customer-supplied value to GSM-7 (accents dropped only where GSM-7 lacks them)."""
    out = []
    for ch in text:
        if ch in GSM7_BASIC and ch not in "\r\n":
            out.append(ch)
            continue
        folded = unicodedata.normalize("NFKD", _TRANSLITERATION.get(ch, ch))
        out.extend(c for c in folded if c in GSM7_BASIC and c not in "\r\n")
    return " ".join("".join(out).split())[:max_length]


def _hello(name: str | None) -> str:
    cleaned = gsm_safe(name, 20) if name else ""
    return f"Hi {cleaned}," if cleaned else "Hi,"


def issue_phrase(category: str) -> str:
    return _CATEGORY_PHRASES.get(category, _DEFAULT_ISSUE)


def acknowledgement(
    *, business: str, name: str | None, reference: str, category: str, reply_by: str, offer_call: bool
) -> str:
    """The first answer to a new complaint: sorry, the reference, and when a human will reply."""
    text = (
        f"{_hello(name)} {business} here. We're sorry about {issue_phrase(category)}. "
        f"Your reference is {reference}. A member of our team will reply {reply_by}."
    )
    if offer_call:
        text += " Reply CALL if you would like us to phone you."
    return text


def help_reply(*, business: str, contact: str) -> str:
    """HELP/INFO, to anyone: CTIA asks for the business, a contact, the rates notice and STOP."""
    return f"{business} support: {contact}. Msg&data rates may apply. Reply STOP to opt out."


def opt_out_confirmation(*, business: str) -> str:
    return (
        f"You're unsubscribed from {business} texts and will get no more messages. "
        "Reply START to resubscribe."
    )


def opt_in_confirmation(*, business: str) -> str:
    return (
        f"You're subscribed to {business} texts again. Msg&data rates may apply. "
        "Reply HELP for help, STOP to opt out."
    )


def complaint_received_again(*, reference: str) -> str:
    """Not sent automatically today; kept with the others for agents' quick replies."""
    return f"Thank you, we have added this to your case {reference}."


# -- keyword auto-responses -------------------------------------------------------------------

DEFAULT_KEYWORD_REPLIES: Mapping[str, str] = {
    "REFUND": (
        "To request a refund, reply with your order number and the reason. We will confirm "
        "within 2 business days. Your complaint stays open."
    ),
}
# Answered by hours_reply, status_reply and call_requested below.
BUILT_IN_KEYWORDS = frozenset({"HOURS", "STATUS", "CALL"})


def auto_reply_keywords(settings: BusinessSettings | InboundSettings) -> frozenset[str]:
    """Every keyword answered automatically: the built-in ones, the default and configured replies.
    (Here rather than in auto_replies, so the inbound webhook reads it without loading the
    sending stack.)"""
    return BUILT_IN_KEYWORDS | frozenset(DEFAULT_KEYWORD_REPLIES) | frozenset(settings.keyword_replies)


def hours_reply(*, business: str, hours: str) -> str:
    return f"{business} support hours: {hours}. Texts sent outside these hours are answered when we open."


def status_reply(*, reference: str | None, status: str | None, reply_by: str | None) -> str:
    if reference is None or status is None:
        return "We have no open case for this number. Text us your question and we will help."
    words = {
        "open": "is open",
        "acknowledged": "is waiting for our team",
        "waiting_on_agent": "is waiting for our team",
        "waiting_on_customer": "is waiting for your reply",
        "resolved": "has been resolved",
        "closed": "is closed",
    }.get(status, "is open")
    text = f"Your case {reference} {words}."
    if reply_by and status in {"open", "acknowledged", "waiting_on_agent"}:
        text += f" A member of our team will reply {reply_by}."
    return text


def call_requested(*, reference: str | None) -> str:
    where = f" about case {reference}" if reference else ""
    return f"Thank you. A member of our team will call you{where} during business hours."


# -- follow-ups -------------------------------------------------------------------------------


def satisfaction_survey(*, business: str, name: str | None, reference: str) -> str:
    return (
        f"{_hello(name)} {business} here. We resolved your issue (ref {reference}). "
        "How did we do? Reply 1 (poor) to 5 (great)."
    )


def satisfaction_thanks(*, score: int) -> str:
    if score <= 2:
        return "Thank you for telling us. We're sorry we fell short; a member of our team will follow up."
    return "Thank you for your feedback."


def sla_update(*, name: str | None, reference: str) -> str:
    return (
        f"{_hello(name)} we haven't forgotten you. Your case {reference} is taking longer than "
        "we promised; a member of our team will reply as soon as possible."
    )


# -- canned responses (agents pick one in the console, then edit it before sending) -----------

CANNED_RESPONSES: Mapping[str, str] = {
    "Replacement on its way": (
        "We're sorry about this. A replacement is on its way and should arrive within 3 business "
        "days. You do not need to return the damaged item."
    ),
    "Refund issued": (
        "We have issued a full refund to your original payment method. It can take 5 to 10 "
        "business days to appear."
    ),
    "Need more details": (
        "Thank you for telling us. Please reply with your order number and a short "
        "description of the problem, so we can help you faster."
    ),
    "Looking into it": "Thank you for your patience. We are looking into this now and will reply again today.",
}
