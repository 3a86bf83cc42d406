"""Faults in what smsdesk depends on: Twilio, DynamoDB, EventBridge, Scheduler, Lambda itself,
and the races between concurrent invocations. (Where every fault case is covered: the table in
test_faults.py.)

Each case asserts the outcome a customer or Twilio would notice: a clear 5xx so the caller
retries, nothing half-written, no message lost or sent twice, nothing to an opted-out number.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from requests.exceptions import ConnectionError as NetworkError
from requests.exceptions import ReadTimeout

from smsdesk.auto_replies import AutoResponder
from smsdesk.errors import TransientSendFailure
from smsdesk.send_gateway import Outbound, Purpose, SendOutcome
from smsdesk.table import Conversation, Customer, Message, customer_pk
from smsdesk.twilio_messages import RetryPolicy
from tests.integration.conftest import (
    CUSTOMER,
    ENVIRON,
    build_runtime,
    callback_route,
    message_with_sid,
    outbox_events,
)
from tests.integration.functions.events import conversation_request, inbound_params, status_params, twilio_post
from tests.support.aws_faults import PROVISIONED_THROUGHPUT_EXCEEDED, THROTTLING, linearizable_moto
from tests.support.lambda_functions import scheduler_inputs

GROUP = ENVIRON["SCHEDULE_GROUP_NAME"]


class LambdaCrashed(BaseException):
    """The execution environment dying mid-invocation (timeout, out of memory)."""


def messages(repository) -> list[Message]:
    return sorted((i for i in repository.iterate_table() if isinstance(i, Message)), key=lambda m: m.key)


def table_items(repository) -> list[tuple[str, str]]:
    return sorted((item.pk, item.sk) for item in repository.iterate_table())


def concurrently(*calls: Callable[[], Any]) -> list[Any]:
    """Run the calls at the same instant, each in its own thread; return their results."""
    barrier, results = threading.Barrier(len(calls)), [None] * len(calls)

    def run(n: int) -> None:
        barrier.wait()
        results[n] = calls[n]()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


# ------------------------------------------------------------------------------- Twilio


@pytest.fixture
def customer(repository, clock):
    item = Customer(
        customer_pk(CUSTOMER), "PROFILE", number=CUSTOMER, created_at=clock.now(), last_inbound_at=clock.now()
    )
    item.save()
    return item


@pytest.fixture
def waits():
    return []


@pytest.fixture
def patient_gateway(repository, schedule_group, secret, twilio, business, environ, clock, waits):
    """The gateway as deployed, with its waits recorded instead of slept and jitter fixed at 100%."""
    return build_runtime(environ, business, clock, sleep=waits.append, rng=lambda: 1.0).gateway


def reply(key="k1", text="We are looking into it."):
    return Outbound(to=CUSTOMER, purpose=Purpose.KEYWORD_REPLY, key=key, compose=lambda customer: text)


@pytest.mark.parametrize(("status", "code"), [(429, 20429), (429, None), (400, 20429)])
def test_rate_limits_back_off_exponentially_and_one_message_goes_out(
    patient_gateway, customer, twilio, waits, status, code
):
    twilio.fail_next(status, code, times=3, message="Too Many Requests")
    result = patient_gateway.send(reply())
    assert result.outcome is SendOutcome.SENT
    assert (twilio.attempts, len(twilio.sent)) == (4, 1)
    assert waits == [0.5, 1.0, 2.0]  # base 0.25 s doubling, at the top of the jitter range


def test_the_backoff_is_jittered_and_capped():
    policy = RetryPolicy()
    assert [policy.delay(a, lambda: 1.0) for a in range(1, 7)] == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]
    assert [policy.delay(a, lambda: 0.25) for a in range(1, 4)] == [0.125, 0.25, 0.5]  # full jitter: 0..cap
    assert policy.delay(3, lambda: 0.0) == 0.0


def test_rate_limited_past_every_attempt_the_message_waits_for_the_next_delivery(
    patient_gateway, customer, twilio, repository
):
    twilio.fail_next(429, 20429, times=4)
    with pytest.raises(TransientSendFailure):
        patient_gateway.send(reply())  # the invocation fails: EventBridge / Lambda retry it
    assert repository.message(customer_pk(CUSTOMER), "k1").status == "retrying"
    assert patient_gateway.send(reply()).outcome is SendOutcome.SENT
    assert len(twilio.sent) == 1


def test_a_twilio_that_hangs_is_given_up_within_the_send_budget(
    repository, secret, twilio, follow_ups, business, environ, clock, customer
):
    waits = []

    def elapsed():  # every request to Twilio takes its whole timeout (4 s), as when Twilio hangs
        return sum(waits) + 4.0 * len(twilio.mock.calls)

    gateway = build_runtime(environ, business, clock, sleep=waits.append, rng=lambda: 1.0, monotonic=elapsed).gateway
    for _ in range(4):
        twilio.crash_next(ReadTimeout())

    with pytest.raises(TransientSendFailure, match="after 2 attempts"):
        gateway.send(reply())  # the function's retries (then its dead-letter queue) take it from here

    # a create, then a listing and a create: 12.5 s of a 14 s budget; a third would end at 21.5 s
    assert elapsed() <= RetryPolicy().budget
    assert twilio.attempts == 2 and twilio.sent == []


@pytest.mark.parametrize(
    ("fault", "after_create"),
    [
        ("500", False),
        ("503", True),
        ("read timeout", False),
        ("read timeout", True),
        ("connection reset", False),
    ],
)
def test_ambiguous_twilio_failures_end_in_exactly_one_message(patient_gateway, customer, twilio, fault, after_create):
    if fault.isdigit():
        twilio.fail_next(int(fault), None, after_create=after_create)
    else:
        twilio.crash_next(ReadTimeout() if fault == "read timeout" else NetworkError(), after_create=after_create)

    result = patient_gateway.send(reply())

    assert result.outcome is SendOutcome.SENT
    [sent] = twilio.sent  # taken by Twilio once; found by listing instead of sent again
    assert result.twilio_sid == sent["Sid"]


def test_21610_when_acknowledging_opts_the_number_out_and_nothing_follows(
    text, acknowledgement, cloud, twilio, repository
):
    text("My order arrived broken", sid=1)
    twilio.fail_next(400, 21610, message="Attempt to send to unsubscribed recipient")

    assert acknowledgement.invoke(cloud.rules.delivered("AcknowledgementFunction")[0])["outcome"] == "failed"

    customer = repository.customer(CUSTOMER)
    assert (customer.consent, customer.consent_source, customer.opt_out_confirmation) == (
        "opted_out",
        "carrier_21610",
        "not_needed",
    )
    text("refund", sid=2)  # a keyword, answered automatically... except now
    [keyword] = cloud.rules.delivered("AcknowledgementFunction")
    assert acknowledgement.invoke(keyword)["outcome"] == "refused"
    assert (twilio.attempts, twilio.sent) == (1, [])


def test_an_invalid_number_fails_the_acknowledgement_for_good(text, acknowledgement, cloud, twilio, repository):
    text("My order arrived broken", sid=1)
    twilio.fail_next(400, 21211, message="The 'To' number is not a valid phone number.")
    [event] = cloud.rules.delivered("AcknowledgementFunction")

    first = acknowledgement.invoke(event)
    redelivered = acknowledgement.invoke(event)

    assert (first["outcome"], redelivered["outcome"]) == ("failed", "duplicate")
    assert twilio.attempts == 1  # a permanent failure is not retried
    [failed] = [m for m in messages(repository) if m.direction == "outbound"]
    assert (failed.status, failed.error_code) == ("failed", 21211)
    assert "MessageFailed" in [kind for kind, _ in outbox_events(repository)]


# ------------------------------------------------------------------------------- delivery failures


@pytest.fixture
def acknowledged(text, acknowledgement, cloud, twilio):
    """A complaint, acknowledged: the acknowledgement's Twilio SID, whose callbacks come next."""
    text("My order arrived broken", sid=1)
    acknowledgement.invoke(cloud.rules.delivered("AcknowledgementFunction")[0])
    return twilio.sent[0]["Sid"]


@pytest.mark.parametrize("code", [30003, 30004, 30005, 30006, 30007, 30008])
def test_carrier_delivery_failures_are_recorded_announced_and_not_retried(lambdas, sent_sid, repository, twilio, code):
    delivery_status = lambdas.load("DeliveryStatusFunction")
    for status in ("sent", "undelivered", "sent"):  # and a late "sent" changes nothing
        answer = delivery_status.http(
            twilio_post(callback_route(twilio, sent_sid), status_params(sent_sid, status, code))
        )
        assert answer.status == 204
    message = message_with_sid(repository, sent_sid)
    assert (message.status, message.error_code) == ("undelivered", code)
    assert message.note  # the reason, in words, for the agent
    failed = [d for kind, d in outbox_events(repository) if kind == "MessageFailed"]
    assert [(d["key"], d["error_code"]) for d in failed] == [("k1", code)]
    assert repository.customer(CUSTOMER).consent == "subscribed"
    assert twilio.attempts == 1


def test_21610_in_a_status_callback_opts_the_number_out_and_nothing_follows(
    lambdas, acknowledged, text, acknowledgement, cloud, repository, twilio
):
    delivery_status = lambdas.load("DeliveryStatusFunction")
    assert (
        delivery_status.http(
            twilio_post(callback_route(twilio, acknowledged), status_params(acknowledged, "failed", 21610))
        ).status
        == 204
    )
    assert repository.customer(CUSTOMER).consent == "opted_out"
    assert [r.source for r in repository.consent_history(CUSTOMER)] == ["carrier_21610"]

    text("refund", sid=2)
    assert acknowledgement.invoke(cloud.rules.delivered("AcknowledgementFunction")[-1])["outcome"] == "refused"
    assert len(twilio.sent) == 1  # the acknowledgement, before the carrier said STOP


# ------------------------------------------------------------------------------- DynamoDB


@pytest.fixture
def throttled_inbound(lambdas, aws_faults):
    """The webhook's cold start after the faults are installed: its DynamoDB clients get them."""
    return lambdas.load("InboundSmsFunction")


@pytest.mark.parametrize(
    "fault",
    [
        "provisioned throughput exceeded",
        "throttling",
        "transaction cancelled for throttling",
        "customer read throttled",
    ],
)
def test_throttling_answers_5xx_writes_nothing_and_twilios_retry_is_recorded_once(
    throttled_inbound, aws_faults, repository, fault
):
    if fault == "provisioned throughput exceeded":
        aws_faults.fail("dynamodb.TransactWriteItems", PROVISIONED_THROUGHPUT_EXCEEDED, times=4)
    elif fault == "throttling":
        aws_faults.fail("dynamodb.TransactWriteItems", THROTTLING, times=4)
    elif fault == "transaction cancelled for throttling":
        aws_faults.cancel_transaction(["None", "ThrottlingError", "None", "None"])
    else:
        aws_faults.fail("dynamodb.GetItem", THROTTLING, times=4)
    event = twilio_post("/sms/inbound", inbound_params("My order arrived broken"))

    answer = throttled_inbound.http(event)

    assert answer.status == 500 and answer.error is not None  # Twilio retries (rp=5xx)
    assert table_items(repository) == []
    retried = throttled_inbound.http(event)
    assert (retried.status, len(messages(repository))) == (200, 1)
    assert [kind for kind, _ in outbox_events(repository)] == ["ComplaintReceived"]


def test_a_text_written_while_another_from_the_number_is_being_written_is_recorded_once_without_a_5xx(
    throttled_inbound, aws_faults, repository
):
    """Two texts from one number at once: DynamoDB cancels one transaction (TransactionConflict);
    the webhook reads again and records it, rather than leaving it to Twilio's retry."""
    aws_faults.cancel_transaction(["TransactionConflict", "None", "None", "None"])

    answer = throttled_inbound.http(twilio_post("/sms/inbound", inbound_params("My order arrived broken")))

    assert (answer.status, answer.error) == (200, None)
    assert len(messages(repository)) == 1
    assert [kind for kind, _ in outbox_events(repository)] == ["ComplaintReceived"]


def test_brief_throttling_is_absorbed_by_the_sdks_backoff(throttled_inbound, aws_faults, repository):
    aws_faults.fail("dynamodb.TransactWriteItems", PROVISIONED_THROUGHPUT_EXCEEDED, times=2)
    answer = throttled_inbound.http(twilio_post("/sms/inbound", inbound_params("My order arrived broken")))
    assert answer.status == 200
    assert len(aws_faults.backoff) == 2 and all(0 <= wait <= 20 for wait in aws_faults.backoff)
    assert len(messages(repository)) == 1


def test_a_throttled_status_callback_is_a_5xx_and_its_retry_is_recorded(
    lambdas, aws_faults, acknowledged, repository, twilio
):
    delivery_status = lambdas.load("DeliveryStatusFunction")
    aws_faults.fail("dynamodb.UpdateItem", THROTTLING, times=4)
    callback = twilio_post(callback_route(twilio, acknowledged), status_params(acknowledged, "delivered"))

    assert delivery_status.http(callback).status == 500
    assert message_with_sid(repository, acknowledged).status == "queued"
    assert delivery_status.http(callback).status == 204
    assert message_with_sid(repository, acknowledged).status == "delivered"


# ------------------------------------------------------------------------------- races


@pytest.fixture
def linearizable(monkeypatch):
    linearizable_moto(monkeypatch)


def test_concurrent_duplicate_deliveries_of_one_text_store_it_once(linearizable, lambdas, repository):
    environments = [lambdas.load("InboundSmsFunction", instance=f"-{n}") for n in range(4)]
    event = twilio_post("/sms/inbound", inbound_params("My order arrived broken"))

    answers = concurrently(*[lambda f=f: f.http(event) for f in environments])

    assert [a.status for a in answers] == [200] * 4
    assert len(messages(repository)) == 1
    assert [kind for kind, _ in outbox_events(repository)] == ["ComplaintReceived"]


def test_two_texts_from_a_new_number_at_once_make_one_conversation(linearizable, lambdas, repository):
    first, second = (lambdas.load("InboundSmsFunction", instance=f"-{n}") for n in range(2))
    one = twilio_post("/sms/inbound", inbound_params("My order arrived broken", sid=1))
    two = twilio_post("/sms/inbound", inbound_params("It was order 4432", sid=2))

    answers = concurrently(lambda: first.http(one), lambda: second.http(two))

    assert [a.status for a in answers] == [200, 200]
    conversations = [i for i in repository.iterate_table() if isinstance(i, Conversation)]
    assert len(conversations) == 1
    assert {m.conversation for m in messages(repository)} == {conversations[0].reference}
    kinds = sorted(kind for kind, _ in outbox_events(repository))
    assert kinds == ["ComplaintReceived", "CustomerMessageReceived"]


def test_concurrent_status_callbacks_settle_on_the_furthest_status(
    linearizable, lambdas, acknowledged, repository, twilio
):
    first, second = (lambdas.load("DeliveryStatusFunction", instance=f"-{n}") for n in range(2))
    sent = twilio_post(callback_route(twilio, acknowledged), status_params(acknowledged, "sent"))
    delivered = twilio_post(callback_route(twilio, acknowledged), status_params(acknowledged, "delivered"))

    answers = concurrently(lambda: first.http(delivered), lambda: second.http(sent))

    assert [a.status for a in answers] == [204, 204]
    assert message_with_sid(repository, acknowledged).status == "delivered"


def test_one_event_delivered_to_two_environments_at_once_sends_one_text(linearizable, lambdas, text, cloud, twilio):
    text("My order arrived broken", sid=1)
    [event] = cloud.rules.delivered("AcknowledgementFunction")
    first, second = (lambdas.load("AcknowledgementFunction", instance=f"-{n}") for n in range(2))

    results = concurrently(lambda: first.invoke(event), lambda: second.invoke(event))

    assert sorted(str(r["outcome"]) for r in results) in (["None", "sent"], ["duplicate", "sent"])
    assert len(twilio.sent) == 1


# ------------------------------------------------------------------------------- Lambda crashes


@pytest.mark.parametrize("twilio_took_it", [False, True])
def test_a_crash_between_claim_and_send_never_sends_twice(
    text, acknowledgement, cloud, twilio, clock, repository, twilio_took_it
):
    text("My order arrived broken", sid=1)
    [event] = cloud.rules.delivered("AcknowledgementFunction")
    twilio.crash_next(LambdaCrashed(), after_create=twilio_took_it)

    with pytest.raises(LambdaCrashed):
        acknowledgement.invoke(event)
    assert acknowledgement.invoke(event)["outcome"] == "duplicate"  # Lambda's retry, at once: in flight
    clock.advance(timedelta(minutes=3))  # a claim this old belongs to no living invocation
    retried = acknowledgement.invoke(event)

    assert retried["outcome"] == "sent"
    assert len(twilio.sent) == 1
    [ack] = [m for m in messages(repository) if m.direction == "outbound"]
    assert ack.twilio_sid == twilio.sent[0]["Sid"]


# ------------------------------------------------------------------------------- scheduling


def test_a_check_whose_time_passed_while_twilio_rate_limited_the_acknowledgement_goes_a_minute_ahead(
    text, follow_up, clock, twilio, repository, follow_ups, business, environ
):
    """AWS refuses an at() in the past. The acknowledgement starts 2 s before its promise (noon)
    and Twilio rate-limits it for 3.5 s: by the time the SLA check is scheduled, noon has passed."""
    text("My order arrived broken", sid=1)  # Monday 10:00 in New York: promised by noon (17:00 UTC)
    reference = repository.customer(CUSTOMER).open_conversation
    # The acknowledgement function's services, with the gateway's back-off moving the test's clock
    # instead of sleeping, and the jitter at the top of its range (0.5 + 1 + 2 s).
    backing_off = build_runtime(
        environ, business, clock, sleep=lambda seconds: clock.advance(timedelta(seconds=seconds)), rng=lambda: 1.0
    )
    responder = AutoResponder(repository, backing_off.gateway, backing_off.follow_ups, clock, business)
    clock.set(datetime(2026, 11, 23, 16, 59, 58, tzinfo=UTC))  # 11:59:58 in New York
    twilio.fail_next(429, 20429, times=3, message="Too Many Requests")

    acknowledged = responder.acknowledge(reference)

    assert acknowledged.result.outcome is SendOutcome.SENT
    assert acknowledged.reply_by == datetime(2026, 11, 23, 17, 0, tzinfo=UTC) < clock.now()  # 17:00:01.5
    [schedule] = scheduler_inputs(GROUP)
    assert schedule["expression"] == "at(2026-11-23T17:01:01)"  # a minute from then, not at(17:00:00)
    clock.set(datetime(2026, 11, 23, 17, 1, 1, tzinfo=UTC))
    assert follow_up.invoke(schedule["input"])["done"] == "breached"
    assert repository.conversation(reference).sla_breached


@pytest.mark.parametrize(
    ("resolved_at", "held_until", "local"),
    [
        # The survey falls due at midnight on the night clocks go back (2026-11-01, 02:00 EDT ->
        # 01:00 EST): 08:00 that morning is 13:00 UTC, no longer 12:00.
        (datetime(2026, 10, 31, 4, 0, tzinfo=UTC), "at(2026-11-01T13:00:00)", "08:00 EST"),
        # ...and on the night they go forward (2026-03-08, 02:00 EST -> 03:00 EDT): 12:00 UTC.
        (datetime(2026, 3, 7, 5, 0, tzinfo=UTC), "at(2026-03-08T12:00:00)", "08:00 EDT"),
    ],
)
def test_a_survey_due_at_night_across_a_dst_change_is_held_until_8_local(
    text, agent_api, follow_up, clock, twilio, repository, resolved_at, held_until, local
):
    clock.set(resolved_at - timedelta(minutes=30))
    text("My order arrived broken", sid=1)
    reference = repository.customer(CUSTOMER).open_conversation
    clock.set(resolved_at)
    assert agent_api.http(conversation_request("POST", reference, "resolve", body={})).status == 200
    [survey] = scheduler_inputs(GROUP)
    clock.set(resolved_at + timedelta(hours=24))  # midnight, local time

    assert follow_up.invoke(survey["input"])["outcome"] == "held"

    [release] = [s for s in scheduler_inputs(GROUP) if s["input"]["follow_up"] == "release"]
    assert release["expression"] == held_until, local
    clock.set(datetime.fromisoformat(held_until[3:-1]).replace(tzinfo=UTC))
    assert follow_up.invoke(release["input"])["outcome"] == "sent"
    assert follow_up.invoke(release["input"])["outcome"] == "duplicate"  # Scheduler delivered it twice
    assert ["How did we do" in m["Body"] for m in twilio.sent] == [True]


def test_a_follow_up_firing_after_an_opt_out_sends_nothing(text, acknowledgement, follow_up, cloud, clock, twilio):
    text("My order arrived broken", sid=1)
    acknowledgement.invoke(cloud.rules.delivered("AcknowledgementFunction")[0])
    [sla_check] = scheduler_inputs(GROUP)
    text("STOP", sid=2)  # the consent function has not cancelled the schedule yet
    clock.advance(timedelta(hours=2))

    result = follow_up.invoke(sla_check["input"])

    assert result["outcome"] == "refused"
    assert len(twilio.sent) == 1  # the acknowledgement, before the STOP
