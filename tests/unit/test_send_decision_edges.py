"""The send decision at its edges: the exact minute a window closes, the zone when the number says
nothing, and what is recorded of a text refused or sent (found unguarded by make mutate)."""

from datetime import UTC, datetime, timedelta

import pytest

from smsdesk.send_decision import Hold, Purpose, Refuse, Send, decide
from smsdesk.table import Customer, MessageStatus, customer_pk
from tests.unit.test_send_decision import NIGHT, NOON, POLICY, customer, opted_out, recorded, text

# A 500 number: its area code places it nowhere; Twilio's FromState may.
NOWHERE = "+15005550199"
SEVEN_THIRTY_PACIFIC = datetime(2026, 11, 24, 15, 30, tzinfo=UTC)  # 10:30 in New York
SEVEN_THIRTY_NEW_YORK = datetime(2026, 11, 24, 12, 30, tzinfo=UTC)


def customer_at(number: str, from_state: str | None) -> Customer:
    return Customer(
        customer_pk(number),
        "PROFILE",
        number=number,
        from_state=from_state,
        created_at=NOON - timedelta(days=1),
        last_inbound_at=NOON - timedelta(days=1),
    )


def test_the_opt_out_confirmation_still_goes_at_exactly_five_minutes():
    decision = decide(text(Purpose.OPT_OUT_CONFIRMATION), None, opted_out(NOON - timedelta(minutes=5)), NOON, POLICY)
    assert isinstance(decision, Send)


def test_an_agent_reply_exactly_an_hour_after_the_customer_texted_still_answers_them_at_night():
    texted = customer(last_inbound_at=NIGHT - timedelta(hours=1))
    decision = decide(text(Purpose.AGENT_REPLY), None, texted, NIGHT, POLICY)
    assert isinstance(decision, Send) and not decision.proactive


def test_a_claim_exactly_two_minutes_old_is_taken_over():
    claimed_at = NOON - timedelta(minutes=2)
    decision = decide(text(Purpose.AGENT_REPLY), recorded(MessageStatus.CLAIMED, claimed_at), customer(), NOON, POLICY)
    assert isinstance(decision, Send) and decision.reconcile_since == claimed_at


def test_a_text_refused_as_too_long_keeps_what_it_said_for_the_agent():
    decision = decide(text(Purpose.AGENT_REPLY, "a" * 1600), None, customer(), NOON, POLICY)
    assert isinstance(decision, Refuse) and decision.body == "a" * 1600


def test_a_text_sent_is_counted_in_the_segments_twilio_bills():
    decision = decide(text(Purpose.AGENT_REPLY, "a" * 161), None, customer(), NOON, POLICY)
    assert isinstance(decision, Send) and decision.segments == 2


def test_a_function_without_a_proactive_policy_says_so():
    with pytest.raises(RuntimeError, match=r"^this function was not configured to send proactive messages$"):
        decide(text(Purpose.SATISFACTION_SURVEY), None, customer(), NOON, None)


def test_the_state_twilio_reported_places_a_number_its_area_code_does_not():
    # 07:30 in California: the survey waits for 08:00 there, though it is 10:30 in New York.
    decision = decide(text(Purpose.SATISFACTION_SURVEY), None, customer_at(NOWHERE, "CA"), SEVEN_THIRTY_PACIFIC, POLICY)
    assert decision == Hold("We are looking into it.", SEVEN_THIRTY_PACIFIC + timedelta(minutes=30))


def test_a_number_nothing_places_gets_the_business_zone_quiet_hours():
    decision = decide(
        text(Purpose.SATISFACTION_SURVEY), None, customer_at(NOWHERE, None), SEVEN_THIRTY_NEW_YORK, POLICY
    )
    assert decision == Hold("We are looking into it.", SEVEN_THIRTY_NEW_YORK + timedelta(minutes=30))
