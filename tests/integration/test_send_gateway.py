"""The send gateway: the one way out, and every way it refuses, holds, retries or fails."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import boto3
import pytest

from smsdesk.consent import ConsentEvidence, ConsentSource, opt_out
from smsdesk.errors import TransientSendFailure
from smsdesk.repository import UnitOfWork
from smsdesk.send_gateway import Outbound, Purpose, SendOutcome
from smsdesk.table import Customer, customer_pk
from tests.integration.conftest import (
    ACCOUNT_SID,
    API_KEY_SECRET,
    API_KEY_SID,
    BUSINESS_NUMBER,
    CUSTOMER,
    ENVIRON,
    outbox_events,
)


@pytest.fixture
def customer(repository, clock):
    item = Customer(customer_pk(CUSTOMER), "PROFILE", number=CUSTOMER, created_at=clock.now())
    item.last_inbound_at = clock.now()
    item.save()
    return item


def reply(text="We are looking into it.", key="k1", purpose=Purpose.KEYWORD_REPLY, **extra):
    return Outbound(to=CUSTOMER, purpose=purpose, key=key, compose=lambda customer: text, **extra)


def opt_customer_out(repository, clock, *, confirmation_needed=True):
    work = UnitOfWork()
    customer = repository.customer(CUSTOMER)
    opt_out(
        work,
        customer,
        ConsentEvidence(ConsentSource.KEYWORD, text="STOP"),
        clock.now(),
        confirmation_needed=confirmation_needed,
    )
    repository.commit(work)


def test_a_message_reaches_twilio_with_the_sender_and_status_callback(gateway, customer, twilio, repository):
    result = gateway.send(reply("Thank you, we are on it."))
    assert result.outcome is SendOutcome.SENT
    [sent] = twilio.sent
    assert sent == {
        "To": CUSTOMER,
        "From": BUSINESS_NUMBER,
        "Body": "Thank you, we are on it.",
        # Where the message is (for the status callbacks), and Twilio's retry overrides.
        "StatusCallback": ENVIRON["PUBLIC_BASE_URL"] + "/sms/status?m=k1#rc=3&rp=ct,rt,5xx",
        "Sid": result.twilio_sid,
    }
    message = repository.message(customer_pk(CUSTOMER), "k1")
    assert (message.status, message.twilio_sid, message.direction) == ("queued", result.twilio_sid, "outbound")
    assert message.twilio_sid == result.twilio_sid


def test_the_same_message_is_never_sent_twice(gateway, customer, twilio):
    first = gateway.send(reply())
    assert (first.outcome, first.key) == (SendOutcome.SENT, "k1")  # which message went (the agent API says so)
    # the repeat (a retried request, a redelivered event) is told what became of the first
    again = gateway.send(reply())
    assert (again.outcome, again.key, again.note, again.twilio_sid) == (
        SendOutcome.DUPLICATE,
        "k1",
        "queued",
        first.twilio_sid,
    )
    assert len(twilio.sent) == 1


def test_nothing_reaches_an_opted_out_number_and_the_refusal_is_recorded(gateway, customer, twilio, repository, clock):
    opt_customer_out(repository, clock)
    for purpose in (Purpose.ACKNOWLEDGEMENT, Purpose.AGENT_REPLY, Purpose.SATISFACTION_SURVEY, Purpose.KEYWORD_REPLY):
        result = gateway.send(reply(key=f"k-{purpose}", purpose=purpose))
        assert result.outcome is SendOutcome.REFUSED, purpose
        assert result.note == "the customer has opted out"
    assert twilio.attempts == 0
    refused = [m for m in repository.customer_messages(CUSTOMER) if m.status == "refused"]
    assert len(refused) == 4
    assert [kind for kind, _ in outbox_events(repository)].count("MessageRefused") == 4


def test_the_opt_out_confirmation_goes_out_once(gateway, customer, twilio, repository, clock):
    opt_customer_out(repository, clock)
    first = gateway.send(reply("You're unsubscribed.", key="c1", purpose=Purpose.OPT_OUT_CONFIRMATION))
    second = gateway.send(reply("You're unsubscribed.", key="c2", purpose=Purpose.OPT_OUT_CONFIRMATION))
    assert (first.outcome, second.outcome) == (SendOutcome.SENT, SendOutcome.REFUSED)
    assert len(twilio.sent) == 1
    assert repository.customer(CUSTOMER).opt_out_confirmation == "sent"


def test_no_confirmation_more_than_five_minutes_after_the_opt_out(gateway, customer, twilio, repository, clock):
    opt_customer_out(repository, clock)
    clock.advance(timedelta(minutes=5, seconds=1))
    result = gateway.send(reply(key="c1", purpose=Purpose.OPT_OUT_CONFIRMATION))
    assert result.outcome is SendOutcome.REFUSED and "too late" in result.note
    assert twilio.attempts == 0


def test_no_confirmation_when_twilio_already_answered(gateway, customer, twilio, repository, clock):
    opt_customer_out(repository, clock, confirmation_needed=False)
    assert gateway.send(reply(key="c1", purpose=Purpose.OPT_OUT_CONFIRMATION)).outcome is SendOutcome.REFUSED
    assert twilio.attempts == 0


def test_help_is_answered_even_after_an_opt_out(gateway, customer, twilio, repository, clock):
    opt_customer_out(repository, clock)
    assert gateway.send(reply("Acme support: ...", key="help-1", purpose=Purpose.HELP)).outcome is SendOutcome.SENT


def test_an_opt_out_between_the_read_and_the_claim_is_caught(gateway, customer, twilio, repository, clock):
    def compose_while_the_customer_opts_out(customer_as_read):
        if customer_as_read.consent == "subscribed":
            opt_customer_out(repository, clock)
        return "Your refund is on its way."

    result = gateway.send(
        Outbound(to=CUSTOMER, purpose=Purpose.AGENT_REPLY, key="race", compose=compose_while_the_customer_opts_out)
    )
    assert result.outcome is SendOutcome.REFUSED
    assert twilio.attempts == 0


def test_rate_limits_are_retried_and_one_message_goes_out(gateway, customer, twilio):
    twilio.fail_next(429, 20429, times=2)
    result = gateway.send(reply())
    assert result.outcome is SendOutcome.SENT
    assert (twilio.attempts, len(twilio.sent)) == (3, 1)


def test_a_rotated_api_key_is_read_again_and_the_text_still_goes_out(gateway, customer, twilio, clock):
    import base64
    import json

    assert gateway.send(reply(key="before")).outcome is SendOutcome.SENT  # the secret is cached now
    first = twilio.mock.calls[-1].request.headers["Authorization"]
    assert (
        base64.b64decode(first.removeprefix("Basic ")).decode() == f"{API_KEY_SID}:{API_KEY_SECRET}"
    )  # not the auth token
    rotated = "rotated-api-key-secret-0123456789abcdef"
    boto3.client("secretsmanager").put_secret_value(
        SecretId=ENVIRON["TWILIO_API_KEY_SECRET_ID"],
        SecretString=json.dumps({"account_sid": ACCOUNT_SID, "api_key_sid": API_KEY_SID, "api_key_secret": rotated}),
    )
    clock.advance(timedelta(minutes=2))  # the cache is still fresh (an hour), but Twilio says 401
    twilio.fail_next(401, 20003, message="Authenticate")
    result = gateway.send(reply(key="after"))
    assert result.outcome is SendOutcome.SENT
    assert [m["Body"] for m in twilio.sent] == ["We are looking into it.", "We are looking into it."]
    authorization = twilio.mock.calls[-1].request.headers["Authorization"]
    assert base64.b64decode(authorization.removeprefix("Basic ")).decode().endswith(":" + rotated)


def test_credentials_twilio_keeps_refusing_are_a_transient_failure_not_a_lost_message(gateway, customer, twilio):
    twilio.fail_next(401, 20003, times=2, message="Authenticate")
    with pytest.raises(TransientSendFailure):
        gateway.send(reply())  # the secret was just read: no second read within a minute
    assert twilio.sent == []


def test_a_5xx_after_twilio_took_the_message_does_not_duplicate_it(gateway, customer, twilio):
    twilio.fail_next(500, None, after_create=True)
    result = gateway.send(reply())
    assert result.outcome is SendOutcome.SENT
    assert len(twilio.sent) == 1
    assert result.twilio_sid == twilio.sent[0]["Sid"]


def test_carrier_opt_out_21610_opts_the_number_out_and_is_not_retried(gateway, customer, twilio, repository):
    twilio.fail_next(400, 21610, message="Attempt to send to unsubscribed recipient")
    result = gateway.send(reply())
    assert result.outcome is SendOutcome.FAILED
    assert twilio.attempts == 1
    assert repository.customer(CUSTOMER).consent == "opted_out"
    [record] = repository.consent_history(CUSTOMER)
    assert record.source == "carrier_21610"
    kinds = [kind for kind, _ in outbox_events(repository)]
    assert "MessageFailed" in kinds and "ConsentRevoked" in kinds


def test_an_invalid_number_fails_permanently(gateway, customer, twilio, repository):
    twilio.fail_next(400, 21211, message="Invalid 'To' Phone Number")
    result = gateway.send(reply())
    assert result.outcome is SendOutcome.FAILED and twilio.attempts == 1
    message = repository.message(customer_pk(CUSTOMER), "k1")
    assert (message.status, message.error_code) == ("failed", 21211)


def test_when_twilio_stays_unavailable_the_message_waits_for_the_next_attempt(gateway, customer, twilio, repository):
    twilio.fail_next(503, None, times=4)
    with pytest.raises(TransientSendFailure):
        gateway.send(reply())
    assert repository.message(customer_pk(CUSTOMER), "k1").status == "retrying"
    assert gateway.send(reply()).outcome is SendOutcome.SENT  # the retry (Lambda's, or EventBridge's)
    assert len(twilio.sent) == 1


class LambdaCrashed(BaseException):
    """Stands for the process dying between the claim and the end of the send."""


def test_a_crash_between_claim_and_send_never_duplicates(gateway, customer, twilio, repository, clock):
    twilio.crash_next(LambdaCrashed())
    with pytest.raises(LambdaCrashed):
        gateway.send(reply())
    # a redelivery right away finds the claim: it does not send blindly
    assert gateway.send(reply()).outcome is SendOutcome.DUPLICATE
    assert twilio.sent == []
    # once the claim is stale (no function lives that long), a retry asks Twilio, then sends once
    clock.advance(timedelta(minutes=3))
    assert gateway.send(reply()).outcome is SendOutcome.SENT
    assert len(twilio.sent) == 1


def test_a_crash_after_twilio_took_the_message_is_reconciled_not_resent(gateway, customer, twilio, repository, clock):
    twilio.crash_next(LambdaCrashed(), after_create=True)  # Twilio has it, the function dies
    with pytest.raises(LambdaCrashed):
        gateway.send(reply())
    clock.advance(timedelta(minutes=3))
    result = gateway.send(reply())
    assert result.outcome is SendOutcome.SENT and len(twilio.sent) == 1


@pytest.mark.parametrize(
    "card", ["4111 1111 1111 1111", "4111.1111.1111.1111", "4111,1111,1111,1111", "4111\u20131111\u20131111\u20131111"]
)
def test_card_numbers_are_redacted_from_outgoing_texts(gateway, customer, twilio, card):
    gateway.send(reply(f"We refunded card {card}."))
    assert twilio.sent[0]["Body"] == "We refunded card [card ending 1111]."


def test_a_proactive_message_at_night_is_held_until_the_window_opens(gateway, customer, twilio, repository, clock):
    clock.set(datetime(2026, 11, 24, 3, 0, tzinfo=UTC))  # 22:00 in New York
    result = gateway.send(reply("How did we do?", key="survey", purpose=Purpose.SATISFACTION_SURVEY))
    assert result.outcome is SendOutcome.HELD
    assert result.send_after == datetime(2026, 11, 24, 13, 0, tzinfo=UTC)  # 08:00 in New York
    assert twilio.attempts == 0
    schedules = boto3.client("scheduler").list_schedules(GroupName=ENVIRON["SCHEDULE_GROUP_NAME"])["Schedules"]
    assert len(schedules) == 1
    clock.set(datetime(2026, 11, 24, 13, 0, tzinfo=UTC))
    released = gateway.send_held(customer_pk(CUSTOMER), "survey")
    assert released.outcome is SendOutcome.SENT and len(twilio.sent) == 1


def test_a_reply_to_a_text_just_received_is_not_held_at_night(gateway, customer, twilio, repository, clock):
    clock.set(datetime(2026, 11, 24, 3, 0, tzinfo=UTC))  # 22:00 in New York
    customer.update(actions=[Customer.last_inbound_at.set(clock.now() - timedelta(minutes=2))])
    assert gateway.send(reply(purpose=Purpose.AGENT_REPLY)).outcome is SendOutcome.SENT


def test_at_most_three_proactive_messages_a_day(gateway, customer, twilio, repository, clock):
    outcomes = []
    for n in range(4):
        outcomes.append(gateway.send(reply(key=f"p{n}", purpose=Purpose.SLA_UPDATE)).outcome)
        clock.advance(timedelta(minutes=30))
    assert outcomes == [SendOutcome.SENT, SendOutcome.SENT, SendOutcome.SENT, SendOutcome.HELD]
    held = repository.message(customer_pk(CUSTOMER), "p3")
    assert held.send_after >= datetime(2026, 11, 24, 15, 0, tzinfo=UTC)  # 24 h after the first
