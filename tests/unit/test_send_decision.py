"""The send gateway's decision, as a compliance officer reads it: who may be texted, what, when.

decide() is pure: these tests build the customer and the message record in memory (no table, no
Twilio) and read the answer.
"""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from smsdesk.clock import to_iso
from smsdesk.quiet_hours import ProactiveCap, QuietHours
from smsdesk.send_decision import (
    POSSIBLE_OPT_OUT_NOTE,
    AlreadyHandled,
    Hold,
    Outbound,
    ProactivePolicy,
    Purpose,
    Refuse,
    Send,
    decide,
)
from smsdesk.table import ConsentState, Customer, Message, MessageStatus, customer_pk, message_sk

NUMBER = "+12125550123"  # New York
NEW_YORK = ZoneInfo("America/New_York")
POLICY = ProactivePolicy(QuietHours(), ProactiveCap(), NEW_YORK)
NOON = datetime(2026, 11, 24, 17, 0, tzinfo=UTC)  # 12:00 in New York
NIGHT = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)  # 22:00 in New York


def customer(**fields) -> Customer:
    fields.setdefault("last_inbound_at", NOON - timedelta(minutes=5))
    return Customer(customer_pk(NUMBER), "PROFILE", number=NUMBER, created_at=NOON - timedelta(days=1), **fields)


def opted_out(at: datetime, confirmation: str = "pending") -> Customer:
    return customer(consent=ConsentState.OPTED_OUT, consent_changed_at=at, opt_out_confirmation=confirmation)


def text(purpose: Purpose, body: str = "We are looking into it.", key: str = "k1") -> Outbound:
    return Outbound(to=NUMBER, purpose=purpose, key=key, compose=lambda c: body, conversation="C-7F3K")


def recorded(status: MessageStatus, updated_at: datetime, sid: str | None = None) -> Message:
    return Message(
        "CONVERSATION#C-7F3K",
        message_sk("k1"),
        key="k1",
        status=status,
        updated_at=updated_at,
        created_at=updated_at,
        twilio_sid=sid,
    )


# ---------------------------------------------------------------------- consent


@pytest.mark.parametrize(
    "purpose",
    [Purpose.AGENT_REPLY, Purpose.ACKNOWLEDGEMENT, Purpose.KEYWORD_REPLY, Purpose.SATISFACTION_SURVEY],
)
def test_nothing_reaches_an_opted_out_number(purpose):
    decision = decide(text(purpose), None, opted_out(NOON - timedelta(minutes=1)), NOON, POLICY)
    assert decision == Refuse("the customer has opted out", "We are looking into it.")


def test_the_single_opt_out_confirmation_goes_within_five_minutes():
    decision = decide(text(Purpose.OPT_OUT_CONFIRMATION), None, opted_out(NOON - timedelta(minutes=4)), NOON, POLICY)
    assert isinstance(decision, Send)


def test_an_opt_out_confirmation_later_than_five_minutes_is_refused():
    decision = decide(text(Purpose.OPT_OUT_CONFIRMATION), None, opted_out(NOON - timedelta(minutes=6)), NOON, POLICY)
    assert isinstance(decision, Refuse) and decision.reason == "too late to confirm the opt-out"


@pytest.mark.parametrize("confirmation", ["sent", "not_needed"])
def test_a_second_confirmation_or_one_twilio_already_sent_is_refused(confirmation):
    customer_ = opted_out(NOON - timedelta(minutes=1), confirmation)
    decision = decide(text(Purpose.OPT_OUT_CONFIRMATION), None, customer_, NOON, POLICY)
    assert isinstance(decision, Refuse) and decision.reason == "opt-out confirmation already handled"


def test_no_opt_out_confirmation_to_a_customer_who_subscribed_again():
    decision = decide(text(Purpose.OPT_OUT_CONFIRMATION), None, customer(), NOON, POLICY)
    assert isinstance(decision, Refuse) and decision.reason == "the customer is subscribed again"


@pytest.mark.parametrize("purpose", [Purpose.HELP, Purpose.OPT_IN_INSTRUCTIONS])
def test_help_and_how_to_opt_in_are_answered_whatever_the_consent_state(purpose):
    for state in (opted_out(NOON - timedelta(hours=3)), customer(consent_hold="possible_opt_out")):
        assert isinstance(decide(text(purpose), None, state, NOON, POLICY), Send)


def test_a_possible_opt_out_pauses_everything_else_until_an_agent_decides():
    paused = customer(consent_hold="possible_opt_out")
    for purpose in (Purpose.AGENT_REPLY, Purpose.ACKNOWLEDGEMENT, Purpose.SATISFACTION_SURVEY):
        assert decide(text(purpose), None, paused, NOON, POLICY) == Refuse(
            POSSIBLE_OPT_OUT_NOTE, "We are looking into it."
        )


def test_no_text_to_a_number_smsdesk_has_never_heard_from():
    decision = decide(text(Purpose.AGENT_REPLY), None, None, NOON, POLICY)
    assert decision == Refuse("no conversation with this number on record")


# ---------------------------------------------------------------------- quiet hours and the cap


def test_a_satisfaction_check_due_at_night_waits_for_eight_in_the_morning_local_time():
    decision = decide(text(Purpose.SATISFACTION_SURVEY), None, customer(), NIGHT, POLICY)
    assert decision == Hold("We are looking into it.", datetime(2026, 11, 25, 13, 0, tzinfo=UTC))  # 08:00 NY


def test_an_agent_reply_to_a_customer_who_just_texted_goes_at_night():
    just_texted = customer(last_inbound_at=NIGHT - timedelta(minutes=10))
    decision = decide(text(Purpose.AGENT_REPLY), None, just_texted, NIGHT, POLICY)
    assert isinstance(decision, Send) and not decision.proactive


def test_an_agent_reply_to_a_customer_silent_for_over_an_hour_is_held_at_night():
    silent = customer(last_inbound_at=NIGHT - timedelta(hours=2))
    decision = decide(text(Purpose.AGENT_REPLY), None, silent, NIGHT, POLICY)
    assert isinstance(decision, Hold) and decision.until == datetime(2026, 11, 25, 13, 0, tzinfo=UTC)


def test_a_fourth_proactive_text_in_a_day_is_held_until_the_first_one_is_a_day_old():
    sent = [NOON - timedelta(hours=h) for h in (3, 2, 1)]
    busy = customer(proactive_sent=[to_iso(at) for at in sent])
    decision = decide(text(Purpose.SLA_UPDATE), None, busy, NOON, POLICY)
    assert isinstance(decision, Hold) and decision.until == sent[0] + timedelta(hours=24)


def test_a_daytime_proactive_text_within_the_cap_goes_and_counts_as_proactive():
    decision = decide(text(Purpose.SATISFACTION_SURVEY), None, customer(), NOON, POLICY)
    assert isinstance(decision, Send) and decision.proactive


def test_a_function_without_a_proactive_policy_cannot_send_proactive_texts():
    with pytest.raises(RuntimeError, match="not configured to send proactive messages"):
        decide(text(Purpose.SATISFACTION_SURVEY), None, customer(), NOON, None)


# ---------------------------------------------------------------------- the text itself


def test_a_card_number_never_leaves_in_a_text():
    decision = decide(
        text(Purpose.AGENT_REPLY, "Your card 4111 1111 1111 1111 was refunded"), None, customer(), NOON, POLICY
    )
    assert isinstance(decision, Send) and "4111 1111 1111 1111" not in decision.body


def test_an_empty_text_is_refused():
    assert decide(text(Purpose.AGENT_REPLY, "   "), None, customer(), NOON, POLICY) == Refuse("the text is empty")


def test_a_text_longer_than_ten_segments_is_refused():
    decision = decide(text(Purpose.AGENT_REPLY, "a" * 1600), None, customer(), NOON, POLICY)
    assert isinstance(decision, Refuse) and decision.reason == "the text needs 11 SMS segments; at most 10"


# ---------------------------------------------------------------------- once, and only once


def test_a_text_already_sent_is_not_sent_again():
    sent = recorded(MessageStatus.SENT, NOON - timedelta(minutes=1), sid="SM1")
    assert decide(text(Purpose.AGENT_REPLY), sent, customer(), NOON, POLICY) == AlreadyHandled("sent", "SM1")


def test_a_send_in_progress_elsewhere_is_left_alone():
    claimed = recorded(MessageStatus.CLAIMED, NOON - timedelta(seconds=30))
    assert isinstance(decide(text(Purpose.AGENT_REPLY), claimed, customer(), NOON, POLICY), AlreadyHandled)


def test_a_claim_abandoned_by_a_crashed_function_is_taken_over_after_asking_twilio():
    claimed_at = NOON - timedelta(minutes=3)
    decision = decide(text(Purpose.AGENT_REPLY), recorded(MessageStatus.CLAIMED, claimed_at), customer(), NOON, POLICY)
    assert isinstance(decision, Send) and decision.reconcile_since == claimed_at


def test_a_held_text_when_its_window_opens_is_sent_without_asking_twilio_first():
    held = recorded(MessageStatus.HELD, NOON - timedelta(hours=8))
    decision = decide(text(Purpose.SATISFACTION_SURVEY), held, customer(), NOON, POLICY)
    assert isinstance(decision, Send) and decision.reconcile_since is None


def test_a_held_text_to_a_customer_who_opted_out_meanwhile_is_refused():
    held = recorded(MessageStatus.HELD, NOON - timedelta(hours=8))
    decision = decide(text(Purpose.SATISFACTION_SURVEY), held, opted_out(NOON - timedelta(hours=1)), NOON, POLICY)
    assert isinstance(decision, Refuse) and decision.reason == "the customer has opted out"
