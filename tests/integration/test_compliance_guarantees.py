"""What a customer or a compliance officer would notice if the send gateway's rules slipped.

Each test is one promise smsdesk makes about texts it sends (or does not send), checked through
the public way in: the send gateway's ``send``, the inbound service, the consent processor, the
agent desk. Each was checked by planting the bug it names by hand and seeing the test fail
(issue 16; the list is in docs/decisions.md, "Mutation testing").
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import boto3
import pytest
from moto.core.botocore_stubber import BotocoreStubber

from smsdesk.agent_desk import AgentDesk
from smsdesk.auto_replies import AutoResponder
from smsdesk.events import ReceivedEvent
from smsdesk.inbound import InboundOutcome
from smsdesk.send_gateway import Outbound, Purpose, SendOutcome
from smsdesk.table import Customer, customer_pk
from tests.integration.conftest import CUSTOMER, ENVIRON, outbox_events, sms

LOS_ANGELES_CUSTOMER = "+12135550123"  # area code 213: Los Angeles, Pacific time
# The business is in New York (BUSINESS_TIME_ZONE); quiet hours 08:00-20:00 local; 3 a day.
TWILIO_DEFAULT_OPT_OUT_KEYWORDS = ["STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"]


def a_customer(clock, number=CUSTOMER, *, last_texted=timedelta(minutes=1)) -> Customer:
    item = Customer(customer_pk(number), "PROFILE", number=number, created_at=clock.now() - timedelta(days=1))
    item.last_inbound_at = clock.now() - last_texted
    item.save()
    return item


def text(purpose, key, body="Your refund was issued today.", to=CUSTOMER, compose=None) -> Outbound:
    return Outbound(to=to, purpose=purpose, key=key, compose=compose or (lambda customer: body))


def last_event(repository, kind):
    return [detail for k, detail in outbox_events(repository) if k == kind][-1]


# ---------------------------------------------------------------- quiet hours: the customer's clock


def test_a_los_angeles_customer_of_a_new_york_business_is_not_texted_at_7_30_pacific(gateway, twilio, clock):
    clock.set(datetime(2026, 11, 24, 15, 30, tzinfo=UTC))  # 07:30 in Los Angeles, 10:30 in New York
    a_customer(clock, LOS_ANGELES_CUSTOMER)
    result = gateway.send(text(Purpose.SLA_UPDATE, "sla", to=LOS_ANGELES_CUSTOMER))
    assert result.outcome is SendOutcome.HELD
    assert result.send_after == datetime(2026, 11, 24, 16, 0, tzinfo=UTC)  # 08:00 in Los Angeles
    assert twilio.sent == []


def test_a_los_angeles_customer_is_texted_at_5_30_pm_pacific_when_new_york_is_closed(gateway, twilio, clock):
    clock.set(datetime(2026, 11, 25, 1, 30, tzinfo=UTC))  # 17:30 in Los Angeles, 20:30 in New York
    a_customer(clock, LOS_ANGELES_CUSTOMER)
    result = gateway.send(text(Purpose.SATISFACTION_SURVEY, "survey", to=LOS_ANGELES_CUSTOMER))
    assert result.outcome is SendOutcome.SENT
    assert [m["To"] for m in twilio.sent] == [LOS_ANGELES_CUSTOMER]


def test_a_time_zone_an_agent_set_wins_over_the_numbers_for_quiet_hours(
    repository, gateway, follow_ups, clock, business, twilio
):
    from smsdesk.agent_desk import CustomerChanges
    from smsdesk.agents import Actor

    clock.set(datetime(2026, 11, 25, 1, 30, tzinfo=UTC))  # 17:30 in Los Angeles, 01:30 in London
    a_customer(clock, LOS_ANGELES_CUSTOMER)
    desk = AgentDesk(repository, gateway, follow_ups, clock, business)
    desk.update_customer(
        LOS_ANGELES_CUSTOMER, CustomerChanges(time_zone="Europe/London"), actor=Actor("ana@acme.example")
    )

    result = gateway.send(text(Purpose.SATISFACTION_SURVEY, "survey", to=LOS_ANGELES_CUSTOMER))
    assert result.outcome is SendOutcome.HELD  # the customer moved to London: it is the middle of their night
    assert result.send_after == datetime(2026, 11, 25, 8, 0, tzinfo=UTC)  # 08:00 in London
    assert twilio.sent == []


# ---------------------------------------------------------------- agent replies: proactive unless just asked


def test_an_agent_reply_at_night_to_a_customer_who_texted_two_hours_ago_waits_for_morning(gateway, twilio, clock):
    clock.set(datetime(2026, 11, 24, 3, 0, tzinfo=UTC))  # 22:00 in New York
    a_customer(clock, last_texted=timedelta(hours=2))
    result = gateway.send(text(Purpose.AGENT_REPLY, "reply-1"))
    assert result.outcome is SendOutcome.HELD
    assert result.send_after == datetime(2026, 11, 24, 13, 0, tzinfo=UTC)  # 08:00 in New York
    assert twilio.sent == []


@pytest.mark.parametrize(
    ("last_texted", "expected"),
    [(timedelta(minutes=59), SendOutcome.SENT), (timedelta(minutes=61), SendOutcome.HELD)],
    ids=["texted-59-minutes-ago", "texted-61-minutes-ago"],
)
def test_an_agent_reply_at_night_goes_only_if_the_customer_texted_within_the_hour(
    gateway, twilio, clock, last_texted, expected
):
    clock.set(datetime(2026, 11, 24, 3, 0, tzinfo=UTC))  # 22:00 in New York
    a_customer(clock, last_texted=last_texted)
    assert gateway.send(text(Purpose.AGENT_REPLY, "reply-1")).outcome is expected


def test_an_agent_reply_nobody_asked_for_counts_toward_three_proactive_texts_a_day(gateway, twilio, clock):
    a_customer(clock, last_texted=timedelta(hours=3))
    outcomes = []
    for n in range(4):
        outcomes.append(gateway.send(text(Purpose.AGENT_REPLY, f"reply-{n}", f"Update {n} on your refund.")).outcome)
        clock.advance(timedelta(minutes=10))
    assert outcomes == [SendOutcome.SENT, SendOutcome.SENT, SendOutcome.SENT, SendOutcome.HELD]
    assert len(twilio.sent) == 3


def test_an_agent_answering_a_customer_who_just_texted_is_not_held_by_the_daily_cap(gateway, twilio, clock):
    customer = a_customer(clock, last_texted=timedelta(hours=3))
    for n in range(3):
        assert gateway.send(text(Purpose.SLA_UPDATE, f"sla-{n}", f"Update {n}.")).outcome is SendOutcome.SENT
    customer.update(actions=[Customer.last_inbound_at.set(clock.now())])  # the customer writes back
    clock.advance(timedelta(minutes=5))
    assert gateway.send(text(Purpose.AGENT_REPLY, "answer")).outcome is SendOutcome.SENT
    assert len(twilio.sent) == 4


# ---------------------------------------------------------------- concurrency: the cap and the confirmation


def test_two_proactive_sends_at_once_never_make_a_fourth_text_in_24_hours(gateway, twilio, clock):
    a_customer(clock, last_texted=timedelta(hours=3))
    for n in range(2):
        assert gateway.send(text(Purpose.SLA_UPDATE, f"sla-{n}", f"Update {n}.")).outcome is SendOutcome.SENT
        clock.advance(timedelta(minutes=10))
    concurrent = []

    def compose_while_another_send_goes_out(customer):
        # This send has read the customer (two proactive texts today) and not yet claimed its
        # slot; meanwhile another function sends the third.
        if not concurrent:
            concurrent.append(gateway.send(text(Purpose.SATISFACTION_SURVEY, "survey", "How did we do?")))
        return "We are still on it."

    result = gateway.send(text(Purpose.SLA_UPDATE, "sla-2", compose=compose_while_another_send_goes_out))
    assert [r.outcome for r in concurrent] == [SendOutcome.SENT]
    assert result.outcome is SendOutcome.HELD
    assert len(twilio.sent) == 3


def test_two_opt_out_confirmations_at_once_send_only_one(inbound, processor, repository, gateway, twilio, clock):
    inbound.receive(sms("please stop texting me"))
    assert repository.customer(CUSTOMER).opt_out_confirmation == "pending"
    detail = last_event(repository, "ConsentRevoked")
    concurrent = []

    def compose_while_the_other_confirmation_goes_out(customer):
        if not concurrent:  # the event was delivered twice, to two functions, under two ids
            concurrent.append(
                processor.revoked(
                    ReceivedEvent.from_detail("ConsentRevoked", {**detail, "event_id": "another-delivery"})
                ).send
            )
        return "You're unsubscribed."

    result = gateway.send(
        text(Purpose.OPT_OUT_CONFIRMATION, "confirm", compose=compose_while_the_other_confirmation_goes_out)
    )
    assert [r.outcome for r in concurrent] == [SendOutcome.SENT]
    assert result.outcome is SendOutcome.REFUSED
    assert len(twilio.sent) == 1


# ---------------------------------------------------------------- opt-out keywords


@pytest.mark.parametrize("keyword", [*TWILIO_DEFAULT_OPT_OUT_KEYWORDS, "stopall", "Revoke", " optout "])
def test_every_twilio_opt_out_keyword_alone_opts_out_and_is_confirmed_once_by_twilio_only(
    inbound, processor, repository, twilio, keyword
):
    inbound.receive(sms("My order arrived broken", sid=1))
    assert inbound.receive(sms(keyword, sid=2)).outcome is InboundOutcome.OPTED_OUT
    assert repository.customer(CUSTOMER).consent == "opted_out"
    # Twilio's default opt-out filtering has already answered this keyword: smsdesk says nothing.
    followed = processor.revoked(ReceivedEvent.from_detail("ConsentRevoked", last_event(repository, "ConsentRevoked")))
    assert followed.send is None
    assert twilio.sent == []


def test_an_opt_out_in_words_is_confirmed_once_by_smsdesk(inbound, processor, repository, twilio):
    inbound.receive(sms("please remove me from this list"))
    processor.revoked(ReceivedEvent.from_detail("ConsentRevoked", last_event(repository, "ConsentRevoked")))
    assert [m["Body"].startswith("You're unsubscribed") for m in twilio.sent] == [True]


@pytest.mark.parametrize("text", ["STOP\n\nJohn Smith\nSent from my iPhone", "Stop.", "STOP please"])
def test_a_stop_twilio_does_not_answer_itself_is_confirmed_once_by_smsdesk(
    inbound, processor, repository, twilio, text
):
    # Twilio's filtering answers only a text that is its keyword alone; this customer would
    # otherwise never hear that the opt-out was taken.
    inbound.receive(sms("My order arrived broken", sid=1))
    assert inbound.receive(sms(text, sid=2)).outcome is InboundOutcome.OPTED_OUT
    processor.revoked(ReceivedEvent.from_detail("ConsentRevoked", last_event(repository, "ConsentRevoked")))
    confirmations = [m["Body"] for m in twilio.sent if m["Body"].startswith("You're unsubscribed")]
    assert len(confirmations) == 1


def test_no_opt_out_confirmation_once_the_customer_has_subscribed_again(inbound, processor, repository, twilio):
    inbound.receive(sms("please stop texting me", sid=1))
    revoked = last_event(repository, "ConsentRevoked")
    inbound.receive(sms("START", sid=2))  # before the opt-out processing ran
    followed = processor.revoked(ReceivedEvent.from_detail("ConsentRevoked", revoked))
    assert followed.send.outcome is SendOutcome.REFUSED  # settled: not retried, not sent
    assert twilio.sent == []


# ---------------------------------------------------------------- consent reads are strongly consistent


@pytest.fixture
def dynamodb_requests(monkeypatch):
    """Every DynamoDB request moto receives: (operation, parsed body)."""
    seen: list[tuple[str, dict]] = []
    original = BotocoreStubber.process_request

    def record(self, request):
        target = request.headers.get("X-Amz-Target", b"")
        target = target.decode() if isinstance(target, bytes) else target
        if target.startswith("DynamoDB_"):
            body = request.body.decode() if isinstance(request.body, bytes) else request.body
            seen.append((target.split(".", 1)[1], json.loads(body or "{}")))
        return original(self, request)

    monkeypatch.setattr(BotocoreStubber, "process_request", record)
    return seen


def customer_reads(requests) -> list[bool]:
    """For each read of the customer's profile: was it strongly consistent?"""
    profile = {"pk": {"S": customer_pk(CUSTOMER)}, "sk": {"S": "PROFILE"}}
    reads = []
    for operation, body in requests:
        if operation == "GetItem" and body["Key"] == profile:
            reads.append(body.get("ConsistentRead") is True)
        elif operation == "BatchGetItem":
            for table in body["RequestItems"].values():
                if profile in table["Keys"]:
                    reads.append(table.get("ConsistentRead") is True)
    return reads


@pytest.mark.parametrize("purpose", [Purpose.AGENT_REPLY, Purpose.ACKNOWLEDGEMENT, Purpose.KEYWORD_REPLY])
def test_consent_is_read_strongly_consistently_before_and_after_the_claim(
    gateway, twilio, clock, dynamodb_requests, purpose
):
    a_customer(clock)
    dynamodb_requests.clear()
    assert gateway.send(text(purpose, "reply-1")).outcome is SendOutcome.SENT
    assert customer_reads(dynamodb_requests) == [True, True]  # the decision, and the check after the claim


# ---------------------------------------------------------------- the 10-segment limit


def test_a_ten_segment_reply_goes_out_and_an_eleven_segment_one_is_refused(gateway, twilio, clock, repository):
    a_customer(clock)
    sentence = "We have checked your order again and the refund is on its way to you. "
    ten_segments = (sentence * 30)[: 153 * 10 - 1] + "."  # 1,530 GSM-7 characters: 10 x 153
    eleven_segments = ten_segments + "!"
    assert (len(ten_segments), len(eleven_segments)) == (1530, 1531)
    assert gateway.send(text(Purpose.AGENT_REPLY, "ten", ten_segments)).outcome is SendOutcome.SENT
    refused = gateway.send(text(Purpose.AGENT_REPLY, "eleven", eleven_segments))
    assert refused.outcome is SendOutcome.REFUSED and "needs 11" in refused.note and "segments" in refused.note
    assert [m["Body"] for m in twilio.sent] == [ten_segments]


# ---------------------------------------------------------------- resolving stops the SLA check


def test_resolving_a_complaint_cancels_its_reply_time_check(inbound, repository, gateway, follow_ups, clock, business):
    responder = AutoResponder(repository, gateway, follow_ups, clock, business)
    desk = AgentDesk(repository, gateway, follow_ups, clock, business)
    reference = inbound.receive(sms("My order arrived broken", sid=1)).conversation
    responder.acknowledge(reference)

    def scheduled():
        schedules = boto3.client("scheduler").list_schedules(GroupName=ENVIRON["SCHEDULE_GROUP_NAME"])
        return sorted(s["Name"] for s in schedules["Schedules"])

    assert scheduled() == [f"sla-{reference}-0"]
    desk.resolve(reference, agent="dana")
    assert scheduled() == [f"survey-{reference}-0"]
