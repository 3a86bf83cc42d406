"""Consent through the whole local stack: what a customer receives after STOP, START, HELP and
an opt-out in their own words, and what an agent or a follow-up can no longer send."""

from __future__ import annotations

import pytest

from smsdesk_cli.main import main as smsdesk
from smsdesk_local.http_gateway import LOCAL_AGENT_ARN
from tests.e2e.conftest import start_local_stack
from tests.e2e.test_a_complaint_by_text import conversations_of, signed_webhook

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]

CONFIRMATION = "You're unsubscribed from Acme Outdoor texts and will get no more messages. Reply START to resubscribe."


@pytest.fixture(scope="module")
def local_stack():
    yield from start_local_stack("--start", "2026-11-23T15:00:00Z")


def text(stack, number: str, body: str) -> None:
    assert signed_webhook(stack, number, body).status == 200
    stack.stack.settle()


def bodies(stack, number: str) -> list[str]:
    return [m.body for m in stack.texts_to(number)]


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
    [refused] = [m for m in answer.body["messages"] if m["author"] == f"agent:{LOCAL_AGENT_ARN}"]
    assert (refused["status"], refused["note"]) == ("refused", "the customer has opted out")


def test_stop_is_confirmed_by_twilio_not_twice_and_start_restores_consent_with_one_confirmation(local_stack):
    customer = "+12125550202"
    text(local_stack, customer, "STOP")
    assert bodies(local_stack, customer) == []  # Twilio's own STOP handling answered it
    text(local_stack, customer, "START")
    assert bodies(local_stack, customer) == [
        "You're subscribed to Acme Outdoor texts again. Msg&data rates may apply. Reply HELP for help, STOP to opt out."
    ]
    text(local_stack, customer, "The app will not let me log in")
    assert len(bodies(local_stack, customer)) == 2  # acknowledged again: subscribed
    assert "Your reference is" in bodies(local_stack, customer)[1]


def test_help_gets_the_business_contact_rates_and_how_to_opt_out_whatever_the_consent(local_stack):
    customer = "+12125550203"
    text(local_stack, customer, "STOP")
    text(local_stack, customer, "HELP")
    [help_text] = bodies(local_stack, customer)
    assert help_text == "Acme Outdoor support: support@acme.example. Msg&data rates may apply. Reply STOP to opt out."


def test_an_opted_out_customers_complaint_is_kept_for_agents_without_an_automatic_reply(local_stack):
    customer = "+12125550204"
    text(local_stack, customer, "unsubscribe")
    text(local_stack, customer, "Your driver damaged my fence")
    assert bodies(local_stack, customer) == []
    [conversation] = conversations_of(local_stack, customer)
    detail = local_stack.stack.agent("GET", f"/conversations/{conversation['reference']}").body
    assert detail["auto_reply_note"] == "No automatic replies: the customer has opted out of texts."
    assert detail["messages"][0]["body"] == "Your driver damaged my fence"
