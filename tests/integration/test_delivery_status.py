"""Status callbacks: recorded, only forward, 21610 opts out, permanent failures stop."""

from __future__ import annotations

from datetime import timedelta

import pytest

from smsdesk.delivery_status import DeliveryStatusRecorder, Recorded
from smsdesk.send_gateway import Outbound, Purpose
from smsdesk.table import Customer, customer_pk
from smsdesk.twilio_webhook import DeliveryStatus
from tests.integration.conftest import CUSTOMER, message_with_sid, outbox_events
from tests.integration.test_compliance_guarantees import customer_reads, dynamodb_requests  # noqa: F401 — fixture


@pytest.fixture
def sent(sent_sid):
    return sent_sid


@pytest.fixture
def recorder(repository, clock):
    return DeliveryStatusRecorder(repository, clock)


def status_of(repository, sid):
    return message_with_sid(repository, sid).status


def test_statuses_move_forward(recorder, repository, sent):
    for status in ("sent", "delivered"):
        assert recorder.record(DeliveryStatus(sent, status, None, CUSTOMER, "k1")).outcome is Recorded.UPDATED
    assert status_of(repository, sent) == "delivered"


def test_a_late_sent_never_overwrites_delivered(recorder, repository, sent):
    recorder.record(DeliveryStatus(sent, "delivered", None, CUSTOMER, "k1"))
    assert recorder.record(DeliveryStatus(sent, "sent", None, CUSTOMER, "k1")).outcome is Recorded.STALE
    assert (
        recorder.record(DeliveryStatus(sent, "delivered", None, CUSTOMER, "k1")).outcome is Recorded.STALE
    )  # duplicate
    assert status_of(repository, sent) == "delivered"


@pytest.mark.parametrize("code", [30003, 30004, 30005, 30006, 30007, 30008])
def test_permanent_failures_are_recorded_and_announced(recorder, repository, sent, code):
    recorder.record(DeliveryStatus(sent, "undelivered", code, CUSTOMER, "k1"))
    message = message_with_sid(repository, sent)
    assert (message.status, message.error_code) == ("undelivered", code)
    assert "MessageFailed" in [kind for kind, _ in outbox_events(repository)]
    assert repository.customer(CUSTOMER).consent == "subscribed"


def test_21610_opts_the_number_out(recorder, repository, sent):
    recorder.record(DeliveryStatus(sent, "failed", 21610, CUSTOMER, "k1"))
    assert repository.customer(CUSTOMER).consent == "opted_out"
    [record] = repository.consent_history(CUSTOMER)
    assert record.source == "carrier_21610"


def test_a_message_smsdesk_never_wrote_is_not_ours_and_never_will_be(recorder):
    assert recorder.record(DeliveryStatus("SM" + "f" * 32, "sent", None, CUSTOMER, "k1")).outcome is Recorded.NOT_OURS
    failed = DeliveryStatus("SM" + "f" * 32, "failed", 30003, CUSTOMER, "k9", "C-ZZZZ")
    assert recorder.record(failed).outcome is Recorded.NOT_OURS


def test_a_callback_with_another_sid_than_the_message_has_is_asked_again(recorder, sent):
    other = DeliveryStatus("SM" + "f" * 32, "sent", None, CUSTOMER, "k1")
    assert recorder.record(other).outcome is Recorded.UNKNOWN_MESSAGE


def test_an_unknown_status_changes_nothing(recorder, repository, sent):
    assert recorder.record(DeliveryStatus(sent, "teleported", None, CUSTOMER, "k1")).outcome is Recorded.UNKNOWN_STATUS
    assert status_of(repository, sent) == "queued"


def test_a_callback_that_overtook_the_send_is_asked_again_not_dropped(aws_faults, recorder, repository, sent):
    # The race: the callback's write found no SID on the message (the send was not recorded
    # yet), and by the time it looks again, the SID is there with an older status.
    aws_faults.fail(
        "dynamodb.UpdateItem",
        ("com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException", "The conditional request failed"),
    )
    early = recorder.record(DeliveryStatus(sent, "delivered", None, CUSTOMER, "k1"))
    assert early.outcome is Recorded.UNKNOWN_MESSAGE  # a 503: Twilio's retry will record it
    assert recorder.record(DeliveryStatus(sent, "delivered", None, CUSTOMER, "k1")).outcome is Recorded.UPDATED
    assert status_of(repository, sent) == "delivered"


def test_a_failure_reported_under_another_sid_is_asked_again_not_dropped(recorder, repository, sent):
    other = DeliveryStatus("SM" + "f" * 32, "failed", 30003, CUSTOMER, "k1")
    assert recorder.record(other).outcome is Recorded.UNKNOWN_MESSAGE  # a 503: Twilio retries it
    assert status_of(repository, sent) == "queued"
    assert "MessageFailed" not in [kind for kind, _ in outbox_events(repository)]


def test_a_failure_reported_after_delivery_changes_nothing(recorder, repository, sent):
    recorder.record(DeliveryStatus(sent, "delivered", None, CUSTOMER, "k1"))
    late = recorder.record(DeliveryStatus(sent, "undelivered", 30003, CUSTOMER, "k1"))
    assert late.outcome is Recorded.STALE
    message = message_with_sid(repository, sent)
    assert (message.status, message.error_code, message.note) == ("delivered", None, None)
    assert "MessageFailed" not in [kind for kind, _ in outbox_events(repository)]


@pytest.mark.parametrize(
    ("code", "note"),
    [(30003, "unreachable handset"), (30007, "filtered by the carrier"), (None, "delivery failed")],
)
def test_the_agent_sees_why_a_message_was_not_delivered(recorder, repository, sent, code, note):
    assert recorder.record(DeliveryStatus(sent, "failed", code, CUSTOMER, "k1")).outcome is Recorded.UPDATED
    message = message_with_sid(repository, sent)
    assert (message.status, message.error_code, message.note) == ("failed", code, note)
    [failed] = [detail for kind, detail in outbox_events(repository) if kind == "MessageFailed"]
    assert (failed["customer"], failed["purpose"], failed["error_code"], failed["reason"]) == (
        CUSTOMER,
        "keyword_reply",
        code,
        note,
    )


def test_a_failed_reply_is_announced_with_its_conversation(recorder, repository, gateway, sent):
    # the agent's reply in a complaint did not reach the customer: whoever reads the bus can tell
    # which complaint it was (the callback URL names the conversation)
    reply = gateway.send(
        Outbound(to=CUSTOMER, purpose=Purpose.AGENT_REPLY, key="r1", compose=lambda c: "On it.", conversation="C-7")
    )
    callback = DeliveryStatus(reply.twilio_sid, "undelivered", 30003, CUSTOMER, "r1", conversation="C-7")
    assert recorder.record(callback).outcome is Recorded.UPDATED
    [failed] = [detail for kind, detail in outbox_events(repository) if kind == "MessageFailed"]
    assert (failed["conversation"], failed["key"], failed["purpose"]) == ("C-7", "r1", "agent_reply")


def test_a_delivery_is_kept_with_the_time_twilio_reported_it(recorder, repository, sent, clock):
    # The analytics rebuild counts a delivered message on the day of this time.
    clock.advance(timedelta(minutes=3))
    recorder.record(DeliveryStatus(sent, "delivered", None, CUSTOMER, "k1"))
    assert message_with_sid(repository, sent).updated_at == clock.now()


def test_21610_reads_consent_strongly_consistently(recorder, repository, sent, dynamodb_requests):  # noqa: F811 — a fixture
    recorder.record(DeliveryStatus(sent, "failed", 21610, CUSTOMER, "k1"))
    reads = customer_reads(dynamodb_requests)
    assert reads and all(reads)


def test_21610_for_a_number_already_opted_out_leaves_its_consent_history_as_it_was(recorder, repository, sent):
    Customer(customer_pk(CUSTOMER), "PROFILE").update(actions=[Customer.consent.set("opted_out")])
    recorder.record(DeliveryStatus(sent, "failed", 21610, CUSTOMER, "k1"))
    assert repository.consent_history(CUSTOMER) == []
    assert message_with_sid(repository, sent).status == "failed"


def test_a_failure_recorded_meanwhile_by_a_duplicate_callback_is_stale_not_an_error(
    aws_faults, recorder, repository, sent
):
    # Twilio retried the callback and the other copy recorded the failure between this one's read
    # and its write: DynamoDB cancels the transaction on the message's condition.
    aws_faults.cancel_transaction(["None", "ConditionalCheckFailed"])
    assert recorder.record(DeliveryStatus(sent, "failed", 30003, CUSTOMER, "k1")).outcome is Recorded.STALE


def test_a_failure_is_written_only_onto_the_message_still_behind_it(recorder, sent, dynamodb_requests):  # noqa: F811 — a fixture
    # The guard a duplicate callback meets: only forward, only onto this SID, only outbound.
    recorder.record(DeliveryStatus(sent, "failed", 30003, CUSTOMER, "k1"))
    [(_, transaction)] = [(op, body) for op, body in dynamodb_requests if op == "TransactWriteItems"]
    [update] = [item["Update"] for item in transaction["TransactItems"] if "Update" in item]
    condition = update["ConditionExpression"]
    names = update["ExpressionAttributeNames"].values()
    assert {"twilio_sid", "direction", "status_rank"} <= set(names) and condition.count("AND") == 2


def test_21610_opts_out_only_the_consent_it_read(recorder, sent, dynamodb_requests):  # noqa: F811 — a fixture
    # A START recorded between the read and the write is not overwritten: the opt-out's write is
    # conditional on the consent version it read (the transaction is then cancelled and retried).
    recorder.record(DeliveryStatus(sent, "failed", 21610, CUSTOMER, "k1"))
    [(_, transaction)] = [(op, body) for op, body in dynamodb_requests if op == "TransactWriteItems"]
    profile = {"pk": {"S": customer_pk(CUSTOMER)}, "sk": {"S": "PROFILE"}}
    [update] = [item["Update"] for item in transaction["TransactItems"] if item.get("Update", {}).get("Key") == profile]
    [version] = [
        name for name, attribute in update["ExpressionAttributeNames"].items() if attribute == "consent_version"
    ]
    assert version in update.get("ConditionExpression", "")
