"""The acknowledgement and keyword auto-responses, end to end through the gateway."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import boto3
import pytest

from smsdesk.auto_replies import AutoResponder
from smsdesk.inbound import InboundService
from smsdesk.table import Customer, customer_pk
from tests.integration.conftest import CUSTOMER, ENVIRON, KEYWORDS, outbox_events, sms


def test_a_new_complaint_gets_one_personal_acknowledgement(inbound, responder, repository, twilio):
    received = inbound.receive(sms("My order 4432 arrived broken"))
    Customer(customer_pk(CUSTOMER), "PROFILE").update(actions=[Customer.name.set("Karen")])
    responder.acknowledge(received.conversation)
    responder.acknowledge(received.conversation)  # EventBridge delivered it twice
    [sent] = twilio.sent
    assert sent["To"] == CUSTOMER
    body = sent["Body"]
    assert body.startswith("Hi Karen, Acme Outdoor here. We're sorry about your order.")
    assert received.conversation in body
    # Monday 10:00 New York, two business hours -> noon, in the customer's own (New York) time
    assert "will reply by 12:00 PM today" in body
    conversation = repository.conversation(received.conversation)
    assert conversation.status == "acknowledged"
    assert conversation.reply_by == datetime(2026, 11, 23, 17, 0, tzinfo=UTC)
    assert "ConversationAcknowledged" in [kind for kind, _ in outbox_events(repository)]


def test_a_friday_evening_complaint_is_promised_monday_morning_in_the_customers_zone(inbound, responder, twilio, clock):
    clock.set(datetime(2026, 11, 28, 0, 30, tzinfo=UTC))  # Friday 19:30 New York, 16:30 Los Angeles
    received = inbound.receive(sms("The cashier was rude", sender="+14155550100"))  # San Francisco
    responder.acknowledge(received.conversation)
    assert "will reply by 6:00 AM Monday" in twilio.sent[0]["Body"]  # 9:00 New York


def test_a_late_acknowledgement_never_promises_a_time_already_past(inbound, responder, repository, twilio, clock):
    received = inbound.receive(sms("My order arrived broken"))  # Monday 10:00: due by 12:00
    clock.advance(timedelta(hours=2, minutes=30))  # an outage held the event until 12:30
    responder.acknowledge(received.conversation)
    assert "will reply by 2:30 PM today" in twilio.sent[0]["Body"]
    assert repository.conversation(received.conversation).reply_by == datetime(2026, 11, 23, 19, 30, tzinfo=UTC)


def test_the_acknowledgement_schedules_the_sla_check_at_the_promised_time(inbound, responder, repository):
    received = inbound.receive(sms("My order arrived broken"))
    responder.acknowledge(received.conversation)
    client = boto3.client("scheduler")
    [listed] = client.list_schedules(GroupName=ENVIRON["SCHEDULE_GROUP_NAME"])["Schedules"]
    schedule = client.get_schedule(Name=listed["Name"], GroupName=ENVIRON["SCHEDULE_GROUP_NAME"])
    assert schedule["ScheduleExpression"] == "at(2026-11-23T17:00:00)"
    assert schedule["ActionAfterCompletion"] == "DELETE"
    assert listed["Name"] == f"sla-{received.conversation}-0"
    assert json.loads(schedule["Target"]["Input"])["follow_up"] == "sla_check"


def test_an_urgent_complaint_is_offered_a_call(inbound, responder, twilio):
    received = inbound.receive(sms("Your heater caught fire in my kitchen"))
    responder.acknowledge(received.conversation)
    assert "Reply CALL" in twilio.sent[0]["Body"]


def test_an_opted_out_customer_is_not_acknowledged_and_the_conversation_says_why(
    inbound, responder, repository, twilio
):
    inbound.receive(sms("STOP", sid=1))
    received = inbound.receive(sms("My order arrived broken", sid=2))
    result = responder.acknowledge(received.conversation)
    assert str(result.result.outcome) == "refused"
    assert twilio.attempts == 0
    _, messages = repository.conversation_with_messages(received.conversation)
    refused = [m for m in messages if m.direction == "outbound"]
    assert [(m.purpose, m.status, m.note) for m in refused] == [
        ("acknowledgement", "refused", "the customer has opted out")
    ]


@pytest.mark.parametrize(
    ("keyword", "expected"),
    [
        ("REFUND", "To request a refund"),
        ("hours", "Acme Outdoor support hours"),
        ("Status", "is waiting for our team"),
        ("CALL", "will call you"),
    ],
)
def test_keywords_are_answered_and_the_complaint_stays_open(inbound, responder, repository, twilio, keyword, expected):
    opened = inbound.receive(sms("My order arrived broken", sid=1))
    responder.acknowledge(opened.conversation)
    received = inbound.receive(sms(keyword, sid=2))
    responder.answer_keyword(CUSTOMER, received.classification.auto_reply_keyword, received.conversation, f"SM{2:032x}")
    assert expected in twilio.sent[-1]["Body"]
    assert repository.conversation(opened.conversation).status == "acknowledged"


def test_a_configured_keyword_reply_is_sent_as_configured(repository, gateway, clock, environ, follow_ups, twilio):
    from smsdesk.config import BusinessSettings

    environ["KEYWORD_REPLIES"] = '{"warranty": "Our warranty covers two years. Reply with your order number."}'
    business = BusinessSettings.from_environ(environ)
    responder = AutoResponder(repository, gateway, follow_ups, clock, business)
    inbound = InboundService(repository, clock, auto_reply_keywords=KEYWORDS | {"WARRANTY"})
    received = inbound.receive(sms("Warranty?", sid=1))
    responder.answer_keyword(CUSTOMER, received.classification.auto_reply_keyword, received.conversation, "SMx")
    assert twilio.sent[-1]["Body"] == "Our warranty covers two years. Reply with your order number."


def test_the_promise_uses_the_time_the_complaint_arrived_not_when_the_event_was_handled(
    inbound, responder, twilio, clock
):
    received = inbound.receive(sms("My order arrived broken"))
    clock.advance(timedelta(minutes=1))  # the event took a minute to arrive
    responder.acknowledge(received.conversation)
    assert "by 12:00 PM today" in twilio.sent[0]["Body"]
