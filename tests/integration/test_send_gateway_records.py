"""What the send gateway leaves on record when a text is held, released, cancelled, refused by
Twilio or left for a retry: what an agent sees on the message, what the analytics and the logs
read (found unguarded by make mutate)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from smsdesk.clock import to_iso
from smsdesk.send_gateway import SendOutcome, describe
from smsdesk.table import Customer, conversation_pk, customer_pk
from tests.integration.conftest import CUSTOMER, outbox_events
from tests.integration.test_compliance_guarantees import dynamodb_requests  # noqa: F401 — fixture
from tests.integration.test_send_gateway import Purpose, customer, reply  # noqa: F401 — customer is a fixture

NIGHT = datetime(2026, 11, 24, 3, 0, tzinfo=UTC)  # 22:00 in New York
EIGHT_AM = datetime(2026, 11, 24, 13, 0, tzinfo=UTC)
HELD_NOTE = "held: outside the customer's quiet-hours window or over the daily limit"


def survey(**extra):
    return reply("How did we do?", key="survey", purpose=Purpose.SATISFACTION_SURVEY, **extra)


def events(repository, kind):
    return [detail for k, detail in outbox_events(repository) if k == kind]


def test_a_text_held_for_the_night_says_why_on_the_message(gateway, customer, repository, clock):  # noqa: F811 — a fixture
    clock.set(NIGHT)
    result = gateway.send(survey())
    assert (result.outcome, result.key, result.note) == (SendOutcome.HELD, "survey", HELD_NOTE)
    held = repository.message(customer_pk(CUSTOMER), "survey")
    assert (held.status, held.note, held.send_after) == ("held", HELD_NOTE, EIGHT_AM)


def test_a_held_agent_reply_goes_out_as_written_by_whom_and_where_it_was(gateway, customer, repository, clock, twilio):  # noqa: F811 — a fixture
    customer.update(actions=[Customer.last_inbound_at.set(NIGHT - timedelta(hours=3))])
    clock.set(NIGHT)
    held = reply("We found your parcel.", key="r1", purpose=Purpose.AGENT_REPLY, conversation="C-7F3K", author="ana")
    assert gateway.send(held).outcome is SendOutcome.HELD
    clock.set(EIGHT_AM)
    released = gateway.send_held(conversation_pk("C-7F3K"), "r1")
    assert released.outcome is SendOutcome.SENT and twilio.sent[0]["Body"] == "We found your parcel."
    message = repository.message(conversation_pk("C-7F3K"), "r1")
    assert (message.status, message.author, message.purpose) == ("queued", "ana", "agent_reply")
    # when it was written (the agent sees it, the figures count it as held) and when it went
    assert (message.created_at, message.sent_at) == (NIGHT, EIGHT_AM)


def test_releasing_a_text_that_is_no_longer_held_sends_nothing_and_says_why(gateway, customer, twilio):  # noqa: F811 — a fixture
    gateway.send(reply())
    again = gateway.send_held(customer_pk(CUSTOMER), "k1")
    assert (again.outcome, again.key, again.note) == (SendOutcome.DUPLICATE, "k1", "queued")
    missing = gateway.send_held(customer_pk(CUSTOMER), "nothing-here")
    assert (missing.outcome, missing.key, missing.note) == (SendOutcome.DUPLICATE, "nothing-here", "no such message")
    assert len(twilio.sent) == 1


def test_a_held_text_cancelled_when_due_is_never_sent_and_says_why(gateway, customer, repository, clock, twilio):  # noqa: F811 — a fixture
    clock.set(NIGHT)
    gateway.send(survey(conversation="C-7F3K"))
    held = repository.message(conversation_pk("C-7F3K"), "survey")
    clock.set(EIGHT_AM)
    result = gateway.cancel_held(held, "the conversation was reopened")
    assert (result.outcome, result.key, result.note) == (SendOutcome.REFUSED, "survey", "the conversation was reopened")
    message = repository.message(conversation_pk("C-7F3K"), "survey")
    assert (message.status, message.note, message.updated_at) == (
        "refused",
        "not sent: the conversation was reopened",
        EIGHT_AM,
    )
    [refused] = events(repository, "MessageRefused")
    assert (refused["customer"], refused["conversation"], refused["purpose"], refused["key"], refused["reason"]) == (
        CUSTOMER,
        "C-7F3K",
        "satisfaction_survey",
        "survey",
        "the conversation was reopened",
    )
    assert twilio.sent == []


def test_a_cancel_that_comes_after_the_text_went_changes_nothing(gateway, customer, repository, clock, twilio):  # noqa: F811 — a fixture
    clock.set(NIGHT)
    gateway.send(survey())
    held = repository.message(customer_pk(CUSTOMER), "survey")
    clock.set(EIGHT_AM)
    gateway.send_held(customer_pk(CUSTOMER), "survey")
    late = gateway.cancel_held(held, "resolved")
    assert (late.outcome, late.key, late.note) == (SendOutcome.DUPLICATE, "survey", "handled meanwhile")
    assert repository.message(customer_pk(CUSTOMER), "survey").status == "queued"
    assert events(repository, "MessageRefused") == []


def test_a_number_twilio_refuses_shows_the_agent_why_and_stays_subscribed(gateway, customer, repository, clock, twilio):  # noqa: F811 — a fixture
    twilio.fail_next(400, 21211, message="Invalid 'To' Phone Number")
    result = gateway.send(reply(conversation="C-7F3K"))
    message = repository.message(conversation_pk("C-7F3K"), "k1")
    assert (result.outcome, result.key) == (SendOutcome.FAILED, "k1")
    assert result.note == f"21211: {message.note}" and message.note
    assert (message.status, message.error_code, message.updated_at) == ("failed", 21211, clock.now())
    [failed] = events(repository, "MessageFailed")
    assert (failed["customer"], failed["conversation"], failed["purpose"], failed["key"]) == (
        CUSTOMER,
        "C-7F3K",
        "keyword_reply",
        "k1",
    )
    assert (failed["error_code"], failed["reason"]) == (21211, message.note)
    assert repository.customer(CUSTOMER).consent == "subscribed" and repository.consent_history(CUSTOMER) == []


@pytest.mark.parametrize("code_field", [True, False], ids=["code-null", "no-code-field"])
def test_a_refusal_with_no_twilio_error_code_reads_as_twilios_reason_alone(
    gateway,
    customer,  # noqa: F811 — a fixture
    repository,
    twilio,
    code_field,
):
    # A 400 whose body names no error code (null, or no "code" at all: the twilio library then puts
    # the HTTP status there): the agent reads Twilio's reason, not "None: ..." or "400: ...".
    twilio.fail_next(400, None, message="The message could not be created", code_field=code_field)
    result = gateway.send(reply(conversation="C-7F3K"))
    message = repository.message(conversation_pk("C-7F3K"), "k1")
    assert result.outcome is SendOutcome.FAILED and twilio.attempts == 1
    assert result.note == "Unable to create record: The message could not be created" == message.note
    assert (message.status, message.error_code) == ("failed", None)
    [failed] = events(repository, "MessageFailed")
    assert (failed["error_code"], failed["reason"]) == (None, message.note)


def test_a_text_left_for_a_retry_says_so_on_the_message(gateway, customer, repository, clock, twilio):  # noqa: F811 — a fixture
    from smsdesk.errors import TransientSendFailure

    twilio.fail_next(503, None, times=4)
    with pytest.raises(TransientSendFailure):
        gateway.send(reply())
    message = repository.message(customer_pk(CUSTOMER), "k1")
    assert (message.status, message.note, message.updated_at) == (
        "retrying",
        "Twilio was unavailable; retrying",
        clock.now(),
    )


def test_the_log_line_of_a_send_masks_the_number():
    from smsdesk.send_gateway import SendResult

    logged = describe(SendResult(SendOutcome.REFUSED, "k1", "the customer has opted out"), CUSTOMER)
    assert logged == {"outcome": "refused", "key": "k1", "to": logged["to"], "note": "the customer has opted out"}
    assert CUSTOMER not in str(logged) and logged["to"].endswith("23")


def test_a_refusal_is_announced_with_what_was_refused_and_why(gateway, customer, repository, clock):  # noqa: F811 — a fixture
    Customer(customer_pk(CUSTOMER), "PROFILE").update(actions=[Customer.consent.set("opted_out")])
    result = gateway.send(reply(purpose=Purpose.AGENT_REPLY))
    assert (result.outcome, result.key) == (SendOutcome.REFUSED, "k1")
    [refused] = events(repository, "MessageRefused")
    assert (refused["purpose"], refused["key"], refused["reason"]) == (
        "agent_reply",
        "k1",
        "the customer has opted out",
    )


def test_a_refusal_recorded_meanwhile_by_a_redelivery_is_a_duplicate(aws_faults, gateway, customer):  # noqa: F811 — a fixture
    # The same event delivered twice at once: the other copy recorded the refusal first.
    Customer(customer_pk(CUSTOMER), "PROFILE").update(actions=[Customer.consent.set("opted_out")])
    aws_faults.cancel_transaction(["ConditionalCheckFailed", "None"])
    result = gateway.send(reply(purpose=Purpose.AGENT_REPLY))
    assert (result.outcome, result.key, result.note) == (SendOutcome.DUPLICATE, "k1", "the customer has opted out")


def written_items(requests):
    """Each item put, with the condition it was put under."""
    puts = [body for op, body in requests if op == "PutItem"]
    for op, body in requests:
        if op == "TransactWriteItems":
            puts += [item["Put"] for item in body["TransactItems"] if "Put" in item]
    return [(put["Item"]["sk"]["S"], put.get("ConditionExpression")) for put in puts]


def test_a_refusal_or_a_hold_is_written_only_over_what_the_decision_saw(gateway, customer, clock, dynamodb_requests):  # noqa: F811 — a fixture
    # A claim written meanwhile by another attempt is never overwritten by a refusal or a hold.
    clock.set(NIGHT)
    gateway.send(survey())  # held
    Customer(customer_pk(CUSTOMER), "PROFILE").update(actions=[Customer.consent.set("opted_out")])
    gateway.send(reply(key="k2", purpose=Purpose.AGENT_REPLY))  # refused
    conditions = dict(written_items(dynamodb_requests))
    assert conditions["MESSAGE#survey"] and conditions["MESSAGE#k2"]


def test_a_sent_text_shows_when_it_went_and_twilios_progress_moves_it_on(gateway, customer, repository, clock):  # noqa: F811 — a fixture
    from smsdesk.delivery_status import DeliveryStatusRecorder
    from smsdesk.twilio_webhook import DeliveryStatus

    result = gateway.send(reply())
    message = repository.message(customer_pk(CUSTOMER), "k1")
    assert (message.status, message.sent_at, message.updated_at) == ("queued", clock.now(), clock.now())
    DeliveryStatusRecorder(repository, clock).record(DeliveryStatus(result.twilio_sid, "sending", None, CUSTOMER, "k1"))
    assert repository.message(customer_pk(CUSTOMER), "k1").status == "sending"


def customer_updates(requests):
    """The conditions of each update of the customer's profile."""
    profile = {"pk": {"S": customer_pk(CUSTOMER)}, "sk": {"S": "PROFILE"}}
    updates = [body for op, body in requests if op == "UpdateItem" and body.get("Key") == profile]
    for op, body in requests:
        if op == "TransactWriteItems":
            updates += [i["Update"] for i in body["TransactItems"] if i.get("Update", {}).get("Key") == profile]
    return updates


@pytest.mark.parametrize("purpose", [Purpose.SLA_UPDATE, Purpose.OPT_OUT_CONFIRMATION])
def test_a_proactive_text_or_the_confirmation_goes_only_on_the_consent_it_was_decided_on(
    gateway,
    customer,  # noqa: F811 — a fixture
    repository,
    clock,
    dynamodb_requests,  # noqa: F811 — a fixture
    purpose,
):
    # An opt-out (or a new opt-in) committed after the read makes this update fail: decided again.
    if purpose is Purpose.OPT_OUT_CONFIRMATION:
        Customer(customer_pk(CUSTOMER), "PROFILE").update(
            actions=[
                Customer.consent.set("opted_out"),
                Customer.opt_out_confirmation.set("pending"),
                Customer.consent_changed_at.set(clock.now()),
            ]
        )
    assert gateway.send(reply(key="p1", purpose=purpose)).outcome is SendOutcome.SENT
    update = customer_updates(dynamodb_requests)[-1]  # the send's, after any set-up above
    [version] = [
        name for name, attribute in update["ExpressionAttributeNames"].items() if attribute == "consent_version"
    ]
    assert version in update["ConditionExpression"]


def test_a_sent_text_is_kept_with_the_segments_twilio_bills(gateway, customer, repository):  # noqa: F811 — a fixture
    gateway.send(reply("a" * 161))
    assert repository.message(customer_pk(CUSTOMER), "k1").segments == 2


def test_a_text_twilio_answers_accepted_shows_accepted(gateway, customer, repository, twilio):  # noqa: F811 — a fixture
    # Through a Messaging Service Twilio answers "accepted" (it picks the sender later).
    twilio.status = "accepted"
    gateway.send(reply())
    assert repository.message(customer_pk(CUSTOMER), "k1").status == "accepted"


@pytest.mark.parametrize(
    ("on_twilio", "shown"),
    [
        ("queued", "queued"),
        ("sending", "sending"),
        ("sent", "sent"),
        # A final status is the status callback's to record (with its event): until then, queued.
        ("delivered", "queued"),
        ("undelivered", "queued"),
    ],
)
def test_a_text_found_on_twilio_after_a_crash_shows_how_far_it_got(
    gateway,
    customer,  # noqa: F811 — a fixture
    repository,
    clock,
    twilio,
    on_twilio,
    shown,
):
    from tests.integration.test_send_gateway import LambdaCrashed

    twilio.crash_next(LambdaCrashed(), after_create=True)  # Twilio has it, the function dies
    with pytest.raises(LambdaCrashed):
        gateway.send(reply())
    twilio.status = on_twilio  # how far it got meanwhile
    clock.advance(timedelta(minutes=3))
    assert gateway.send(reply()).outcome is SendOutcome.SENT and len(twilio.sent) == 1
    assert repository.message(customer_pk(CUSTOMER), "k1").status == shown


def test_a_stale_cancel_leaves_a_text_held_again_meanwhile(gateway, customer, repository, clock, twilio):  # noqa: F811 — a fixture
    # The runner read the held text, then it was released at 08:00 into a full day (the cap) and
    # held again for later: the runner's cancel, decided on what it read, changes nothing.
    clock.set(NIGHT)
    gateway.send(survey())
    read_by_the_runner = repository.message(customer_pk(CUSTOMER), "survey")
    clock.set(EIGHT_AM)
    Customer(customer_pk(CUSTOMER), "PROFILE").update(
        actions=[Customer.proactive_sent.set([to_iso(EIGHT_AM - timedelta(hours=h)) for h in (3, 2, 1)])]
    )
    assert gateway.send_held(customer_pk(CUSTOMER), "survey").outcome is SendOutcome.HELD
    late = gateway.cancel_held(read_by_the_runner, "resolved")
    assert (late.outcome, late.note) == (SendOutcome.DUPLICATE, "handled meanwhile")
    again = repository.message(customer_pk(CUSTOMER), "survey")
    assert (again.status, again.updated_at) == ("held", EIGHT_AM)
    assert events(repository, "MessageRefused") == [] and twilio.sent == []


def test_a_text_whose_customer_keeps_changing_consent_waits_for_a_retry(
    gateway,
    customer,  # noqa: F811 — a fixture
    repository,
    clock,
    twilio,
):
    from smsdesk.consent import ConsentEvidence, ConsentSource, opt_in
    from smsdesk.errors import TransientSendFailure
    from smsdesk.repository import UnitOfWork
    from smsdesk.send_gateway import Outbound

    def compose_while_consent_changes(customer_as_read):
        work = UnitOfWork()  # a START (or an agent's change) commits between the read and the claim
        opt_in(
            work,
            repository.customer(CUSTOMER),
            ConsentEvidence(ConsentSource.KEYWORD, text="START"),
            clock.now(),
            twilio_answered=False,
        )
        repository.commit(work)
        return "Your refund is on its way."

    clock.advance(timedelta(seconds=7))
    # the function fails (its retries, then its queue), saying why in its log
    with pytest.raises(TransientSendFailure, match=r"^the customer's state kept changing during the send$"):
        gateway.send(
            Outbound(to=CUSTOMER, purpose=Purpose.KEYWORD_REPLY, key="k1", compose=compose_while_consent_changes)
        )
    message = repository.message(customer_pk(CUSTOMER), "k1")
    assert (message.status, message.note, message.updated_at) == (
        "retrying",
        "consent changed while sending; decided again",
        clock.now(),
    )
    assert twilio.sent == []


def test_a_gateway_wired_without_follow_ups_holds_no_text_it_could_not_release(
    business,
    customer,  # noqa: F811 — a fixture
    repository,
    clock,
    twilio,
):
    # A wiring mistake in a new function: it fails loudly, naming what is missing, and records no
    # hold that nothing would ever release (a text lost silently).
    from smsdesk.send_gateway import ProactivePolicy, SendGateway

    proactive = ProactivePolicy(business.quiet_hours, business.proactive_cap, business.hours.time_zone)
    wired_wrong = SendGateway(repository, twilio=None, clock=clock, proactive=proactive)  # Twilio is not reached
    clock.set(NIGHT)
    with pytest.raises(AssertionError, match=r"^a function that holds texts schedules their release$"):
        wired_wrong.send(survey())
    assert repository.message(customer_pk(CUSTOMER), "survey") is None and twilio.sent == []


def test_two_copies_taking_over_a_text_left_for_a_retry_at_once_send_it_once(gateway, customer, twilio, repository):  # noqa: F811 — a fixture
    # Lambda's retry and EventBridge's redelivery of the same event, at the same instant.
    from smsdesk.errors import TransientSendFailure
    from smsdesk.send_gateway import Outbound

    twilio.fail_next(503, None, times=4)
    with pytest.raises(TransientSendFailure):
        gateway.send(reply())  # left for a retry
    raced = []

    def compose_while_the_other_copy_sends(customer_as_read):
        if not raced:  # between this copy's read and its claim, the other copy sends the text
            raced.append(gateway.send(reply()).outcome)
        return "We are looking into it."

    result = gateway.send(
        Outbound(to=CUSTOMER, purpose=Purpose.KEYWORD_REPLY, key="k1", compose=compose_while_the_other_copy_sends)
    )
    assert (raced, result.outcome) == ([SendOutcome.SENT], SendOutcome.DUPLICATE)
    assert len(twilio.sent) == 1
