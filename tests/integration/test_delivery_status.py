"""Status callbacks: recorded, only forward, 21610 opts out, permanent failures stop."""

from __future__ import annotations

import pytest

from smsdesk.delivery_status import DeliveryStatusRecorder, Recorded
from smsdesk.twilio_webhook import DeliveryStatus
from tests.integration.conftest import CUSTOMER, message_with_sid, outbox_events


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
