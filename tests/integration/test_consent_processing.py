"""Opt-out processing: schedules cancelled, exactly one confirmation, HELP always answered."""

from __future__ import annotations

from datetime import timedelta

import boto3
import pytest

from smsdesk.events import ReceivedEvent
from smsdesk.send_gateway import Outbound, Purpose, SendOutcome
from tests.integration.conftest import CUSTOMER, ENVIRON, outbox_events, sms


def last_event(repository, kind):
    return [detail for k, detail in outbox_events(repository) if k == kind][-1]


def test_a_natural_language_opt_out_gets_exactly_one_confirmation(inbound, processor, repository, twilio):
    inbound.receive(sms("please stop texting me"))
    detail = last_event(repository, "ConsentRevoked")
    processor.revoked(ReceivedEvent.from_detail("ConsentRevoked", detail))
    processor.revoked(ReceivedEvent.from_detail("ConsentRevoked", detail))  # redelivered
    assert [m["Body"] for m in twilio.sent] == [
        "You're unsubscribed from Acme Outdoor texts and will get no more messages. Reply START to resubscribe."
    ]


def test_stop_gets_no_confirmation_from_smsdesk_because_twilio_sent_one(inbound, processor, repository, twilio):
    inbound.receive(sms("STOP"))
    outcome = processor.revoked(ReceivedEvent.from_detail("ConsentRevoked", last_event(repository, "ConsentRevoked")))
    assert outcome.send is None and twilio.attempts == 0


def test_opting_out_cancels_what_would_text_the_customer_but_not_the_sla_check_agents_owe(
    inbound, processor, repository, follow_ups, clock, twilio
):
    received = inbound.receive(sms("My order arrived broken", sid=1))
    conversation = repository.conversation(received.conversation)
    follow_ups.sla_check(conversation, clock.now() + timedelta(hours=2))
    follow_ups.satisfaction_survey(conversation, clock.now() + timedelta(days=1))
    inbound.receive(sms("take me off your list", sid=2))
    outcome = processor.revoked(ReceivedEvent.from_detail("ConsentRevoked", last_event(repository, "ConsentRevoked")))
    assert sorted(outcome.cancelled) == [f"survey-{conversation.reference}-0"]
    remaining = boto3.client("scheduler").list_schedules(GroupName=ENVIRON["SCHEDULE_GROUP_NAME"])["Schedules"]
    assert [s["Name"] for s in remaining] == [f"sla-{conversation.reference}-0"]


def test_after_the_confirmation_nothing_else_is_sent(inbound, processor, repository, gateway, twilio):
    inbound.receive(sms("My order arrived broken", sid=1))
    inbound.receive(sms("no more texts please", sid=2))
    processor.revoked(ReceivedEvent.from_detail("ConsentRevoked", last_event(repository, "ConsentRevoked")))
    for purpose in (Purpose.AGENT_REPLY, Purpose.SATISFACTION_SURVEY, Purpose.ACKNOWLEDGEMENT):
        result = gateway.send(Outbound(to=CUSTOMER, purpose=purpose, key=str(purpose), compose=lambda c: "Hello."))
        assert result.outcome is SendOutcome.REFUSED
    assert len(twilio.sent) == 1


def test_start_is_confirmed_once_and_nothing_suppressed_is_resent(
    inbound_answering_every_keyword, processor, repository, gateway, twilio
):
    inbound = inbound_answering_every_keyword
    inbound.receive(sms("STOP", sid=1))
    gateway.send(Outbound(to=CUSTOMER, purpose=Purpose.AGENT_REPLY, key="a1", compose=lambda c: "Your refund."))
    inbound.receive(sms("START", sid=2))
    detail = last_event(repository, "ConsentGranted")
    processor.granted(ReceivedEvent.from_detail("ConsentGranted", detail))
    processor.granted(ReceivedEvent.from_detail("ConsentGranted", detail))
    assert [m["Body"] for m in twilio.sent] == [
        "You're subscribed to Acme Outdoor texts again. Msg&data rates may apply. Reply HELP for help, STOP to opt out."
    ]


@pytest.mark.parametrize("opted_out", [False, True])
def test_help_is_answered_whatever_the_consent_state(
    inbound_answering_every_keyword, processor, repository, twilio, opted_out
):
    inbound = inbound_answering_every_keyword
    if opted_out:
        inbound.receive(sms("STOP", sid=1))
    inbound.receive(sms("HELP", sid=2))
    processor.help_requested(ReceivedEvent.from_detail("HelpRequested", last_event(repository, "HelpRequested")))
    body = twilio.sent[-1]["Body"]
    for part in ("Acme Outdoor", "support@acme.example", "Msg&data rates may apply", "STOP"):
        assert part in body


def test_a_keyword_reply_event_is_not_the_consent_processors_to_answer(inbound, processor, repository, twilio):
    # REFUND is answered by the auto replies; the consent processor, given it, texts no one.
    inbound.receive(sms("REFUND"))
    event = ReceivedEvent.from_detail("KeywordReceived", last_event(repository, "KeywordReceived"))
    assert processor.follow_through(event) is None
    assert twilio.attempts == 0
