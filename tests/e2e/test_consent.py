"""Consent through the whole local stack: what a customer receives after STOP, START, HELP and
an opt-out in their own words, and what an agent or a follow-up can no longer send.

Every text reaches the Twilio stand-in first, as it reaches Twilio: with Twilio's own keyword
handling on (TwilioAnswersOptOutKeywords, the default) it answers its exact keywords itself, in
English, and the customer's texts are everything both sent them. A second stack runs with that
handling off, where smsdesk answers every keyword, in the customer's language.
"""

from __future__ import annotations

import pytest

from smsdesk import templates
from smsdesk_cli.main import main as smsdesk
from smsdesk_local.twilio_standin import TWILIO_HELP_REPLY, TWILIO_OPT_IN_REPLY, TWILIO_OPT_OUT_REPLY
from tests.e2e.conftest import start_local_stack
from tests.e2e.test_a_complaint_by_text import conversations_of, signed_webhook

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]

BUSINESS, CONTACT = "Acme Outdoor", "support@acme.example"
CONFIRMATION = "You're unsubscribed from Acme Outdoor texts and will get no more messages. Reply START to resubscribe."


@pytest.fixture(scope="module")
def local_stack():
    yield from start_local_stack("--start", "2026-11-23T15:00:00Z")


@pytest.fixture(scope="module")
def stack_answering_every_keyword():
    """A deployment where Twilio's own keyword handling is off: smsdesk answers STOP, START, HELP."""
    yield from start_local_stack(
        "--start", "2026-11-23T15:00:00Z", "--parameter-overrides", "TwilioAnswersOptOutKeywords=false"
    )


def text(stack, number: str, body: str) -> None:
    """The customer texts the business: Twilio (its stand-in) sees it first, then calls the webhook."""
    stack.stack.control("POST", "twilio/inbound", {"from": number, "body": body})
    assert signed_webhook(stack, number, body).status == 200
    stack.stack.settle()


def bodies(stack, number: str) -> list[str]:
    """Every text the customer received: Twilio's own replies and smsdesk's."""
    return [m.body for m in stack.texts_to(number)]


def replies_to(stack, number: str, body: str) -> list[str]:
    before = len(bodies(stack, number))
    text(stack, number, body)
    return bodies(stack, number)[before:]


def test_an_opt_out_in_plain_words_gets_one_confirmation_and_then_nothing_more(local_stack, capsys):
    customer = "+12125550201"
    text(local_stack, customer, "My order 4432 arrived broken")
    [reference] = [c["reference"] for c in conversations_of(local_stack, customer)]
    text(local_stack, customer, "please stop texting me")
    assert bodies(local_stack, customer)[1:] == [CONFIRMATION]

    # An agent's reply is refused by the send gateway, and the refusal is on record.
    assert smsdesk(["--api", local_stack.url, "reply", reference, "We can refund you today."]) == 1
    assert "not sent: the customer has opted out" in capsys.readouterr().err
    # The satisfaction check after resolving is not sent either (its schedule was cancelled or
    # the gateway refuses it: either way, nothing reaches the customer).
    assert smsdesk(["--api", local_stack.url, "resolve", reference]) == 0
    assert smsdesk(["--api", local_stack.url, "clock", "advance", "2d"]) == 0
    assert bodies(local_stack, customer)[1:] == [CONFIRMATION]

    answer = local_stack.stack.agent("GET", f"/conversations/{reference}")
    assert answer.body["consent"] == "opted_out"
    cli = "system:" + local_stack.stack.local_info()["machine_client"]["client_id"]  # the CLI acts as a system
    [refused] = [m for m in answer.body["messages"] if m["author"] == cli and m["direction"] == "outbound"]
    assert (refused["status"], refused["note"]) == ("refused", "the customer has opted out")


def test_stop_start_and_help_get_one_reply_each_twilios_and_consent_follows(local_stack):
    customer = "+12125550202"
    assert replies_to(local_stack, customer, "STOP") == [TWILIO_OPT_OUT_REPLY]
    assert replies_to(local_stack, customer, "START") == [TWILIO_OPT_IN_REPLY]
    assert replies_to(local_stack, customer, "HELP") == [TWILIO_HELP_REPLY]
    acknowledgement = replies_to(local_stack, customer, "The app will not let me log in")
    assert len(acknowledgement) == 1 and "Your reference is" in acknowledgement[0]  # subscribed again


def test_a_spanish_speaker_gets_smsdesks_spanish_to_ayuda_and_twilios_english_to_start(local_stack):
    customer = "+12125550205"
    [acknowledgement] = replies_to(local_stack, customer, "Mi pedido llegó roto y nadie contesta")
    assert "Su referencia es" in acknowledgement
    assert replies_to(local_stack, customer, "ayuda") == [
        templates.help_reply(business=BUSINESS, contact=CONTACT, language="es")
    ]
    assert replies_to(local_stack, customer, "STOP") == [TWILIO_OPT_OUT_REPLY]
    assert replies_to(local_stack, customer, "START") == [TWILIO_OPT_IN_REPLY]


def test_help_in_words_is_answered_by_smsdesk_even_after_an_opt_out(local_stack):
    customer = "+12125550203"
    assert replies_to(local_stack, customer, "please stop texting me") == [CONFIRMATION]
    assert replies_to(local_stack, customer, "who is this?") == [
        "Acme Outdoor support: support@acme.example. Msg&data rates may apply. Reply STOP to opt out."
    ]


def test_an_opted_out_customers_complaint_is_kept_for_agents_without_an_automatic_reply(local_stack):
    customer = "+12125550204"
    assert replies_to(local_stack, customer, "unsubscribe") == [TWILIO_OPT_OUT_REPLY]
    assert replies_to(local_stack, customer, "Your driver damaged my fence") == []
    [conversation] = conversations_of(local_stack, customer)
    detail = local_stack.stack.agent("GET", f"/conversations/{conversation['reference']}").body
    assert detail["auto_reply_note"] == "No automatic replies: the customer has opted out of texts."
    assert detail["messages"][0]["body"] == "Your driver damaged my fence"


# ------------------------------------------------------------------ Twilio's keyword handling off


def test_where_twilio_answers_no_keyword_smsdesk_answers_each_once(stack_answering_every_keyword):
    stack, customer = stack_answering_every_keyword, "+12125550301"
    assert replies_to(stack, customer, "STOP") == [CONFIRMATION]
    assert replies_to(stack, customer, "HELP") == [
        "Acme Outdoor support: support@acme.example. Msg&data rates may apply. Reply STOP to opt out."
    ]
    assert replies_to(stack, customer, "START") == [
        "You're subscribed to Acme Outdoor texts again. Msg&data rates may apply. Reply HELP for help, STOP to opt out."
    ]


def test_where_twilio_answers_no_keyword_a_spanish_speaker_is_answered_in_spanish(stack_answering_every_keyword):
    stack, customer = stack_answering_every_keyword, "+12125550302"
    replies_to(stack, customer, "Mi pedido llegó roto y nadie contesta")
    assert replies_to(stack, customer, "AYUDA") == [
        templates.help_reply(business=BUSINESS, contact=CONTACT, language="es")
    ]
    assert replies_to(stack, customer, "STOP") == [templates.opt_out_confirmation(business=BUSINESS, language="es")]
    assert replies_to(stack, customer, "START") == [templates.opt_in_confirmation(business=BUSINESS, language="es")]
