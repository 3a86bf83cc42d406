"""Where a customer's text goes (inbound.route), decided before anything is written: pure, so
these tests classify real texts and build the customer and conversation in memory."""

from datetime import UTC, datetime, timedelta

import pytest

from smsdesk.classification import classify
from smsdesk.inbound import Route, route, twilio_answered
from smsdesk.table import ConsentState, Conversation, Customer, conversation_pk, customer_pk
from smsdesk.twilio_webhook import InboundSms

NUMBER = "+12125550123"
NOW = datetime(2026, 11, 24, 17, 0, tzinfo=UTC)
KEYWORDS = frozenset({"REFUND", "HOURS", "STATUS", "CALL"})


def customer(**fields) -> Customer:
    return Customer(customer_pk(NUMBER), "PROFILE", number=NUMBER, created_at=NOW - timedelta(days=9), **fields)


def conversation(status: str = "acknowledged", **fields) -> Conversation:
    return Conversation(
        conversation_pk("C-7F3K"),
        "CONVERSATION",
        reference="C-7F3K",
        customer=NUMBER,
        status=status,
        opened_at=NOW - timedelta(days=2),
        **fields,
    )


def routed(text: str, who: Customer | None = None, current: Conversation | None = None):
    return route(classify(text, auto_reply_keywords=KEYWORDS), text, who or customer(), current, NOW)


def test_stop_opts_out_whatever_else_is_going_on():
    assert routed("STOP", current=conversation()).kind is Route.OPT_OUT


def test_an_opt_out_with_a_complaint_in_it_keeps_the_complaint_for_an_agent():
    assert routed("Stop texting me and refund my money now").kind is Route.OPT_OUT_WITH_COMPLAINT


def test_start_from_an_opted_out_number_opts_in_and_in_words_only_asks_how():
    opted_out = customer(consent=ConsentState.OPTED_OUT)
    assert routed("START", opted_out).kind is Route.OPT_IN
    assert routed("You can text me again", opted_out).kind is Route.OPT_IN_REQUESTED


def test_help_is_help_even_in_an_open_conversation():
    assert routed("HELP", current=conversation()).kind is Route.HELP


def test_a_score_answers_the_satisfaction_check_only_while_it_is_awaited():
    surveyed = conversation("resolved", resolved_at=NOW - timedelta(days=1), survey_sent_at=NOW - timedelta(hours=2))
    routing = routed("4", current=surveyed)
    assert (routing.kind, routing.score) == (Route.SATISFACTION, 4)
    assert routed("4", current=conversation("resolved", resolved_at=NOW - timedelta(days=1))).kind is not (
        Route.SATISFACTION
    )


def test_a_keyword_in_an_open_conversation_leaves_the_complaint_as_it_is():
    routing = routed("REFUND", current=conversation())
    assert routing.kind is Route.KEYWORD and routing.open_conversation is not None


def test_call_with_no_case_open_opens_one_flagged_for_a_call():
    assert routed("CALL").kind is Route.CALL_REQUESTED


def test_a_text_in_an_open_conversation_is_added_to_it():
    assert routed("It still has not arrived", current=conversation()).kind is Route.ADD_TO_CONVERSATION


def test_a_text_long_after_a_resolution_opens_a_new_case_and_closes_the_old_one_for_good():
    old = conversation("resolved", resolved_at=NOW - timedelta(days=30))
    routing = routed("My new order is broken too", current=old)
    assert routing.kind is Route.NEW_CONVERSATION and routing.close_first is old


# ------------------------------------------------------------------ who answers a keyword


def arrived(text: str, opt_out_type: str | None = None) -> InboundSms:
    return InboundSms("SM" + "0" * 32, "AC" + "0" * 32, NUMBER, "+15005550006", text, 0, None, opt_out_type)


@pytest.mark.parametrize(
    "text", ["STOP", "stop", " Unsubscribe ", "REVOKE", "optout", "START", "unstop", "Yes", "HELP", "info"]
)
def test_twilios_own_keywords_alone_are_twilios_to_answer_while_its_handling_is_on(text):
    assert twilio_answered(arrived(text), default_handling=True)
    assert not twilio_answered(arrived(text), default_handling=False)


@pytest.mark.parametrize(
    "text", ["Help!", "STOP please", "Stop.", "START\n-- Maria", "AYUDA", "BAJA", "who is this?", "opt-out"]
)
def test_anything_but_a_twilio_keyword_alone_is_smsdesks_to_answer(text):
    assert not twilio_answered(arrived(text), default_handling=True)


@pytest.mark.parametrize("kind", ["STOP", "START", "HELP"])
def test_what_advanced_opt_out_flagged_twilio_answered_whatever_the_setting(kind):
    assert twilio_answered(arrived("AYUDA", opt_out_type=kind), default_handling=False)
