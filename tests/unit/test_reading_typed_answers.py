"""What customers type, read as they mean it: the satisfaction answers and opt-outs that mutation
testing (make mutate) found no test looking at. Each case is one a customer sends and an agent
or a compliance officer would notice read wrongly."""

from __future__ import annotations

import pytest

from smsdesk.classification import Intent, classify, parse_satisfaction_score


@pytest.mark.parametrize(
    ("text", "score"),
    [
        ("⭐⭐⭐⭐⭐", 5),  # five stars is the top score, not "not a score"
        ("⭐ ⭐ ⭐", 3),  # stars typed with spaces between them
        ("★★★★", 4),  # the black star some keyboards offer
        ("⭐★⭐", 3),  # both star characters in one answer
        ("3?", 3),  # a hesitant answer is still an answer
        ("5 great", 5),  # a number then a word of sentiment, no separator
        ("4 very good", 4),
    ],
)
def test_a_survey_answer_typed_as_customers_type_it_is_the_score_they_gave(text, score):
    assert parse_satisfaction_score(text) == score


@pytest.mark.parametrize("text", ["⭐⭐⭐⭐⭐⭐", "5 stars late again"])
def test_an_answer_that_is_no_1_to_5_score_is_not_recorded_as_one(text):
    assert parse_satisfaction_score(text) is None


@pytest.mark.parametrize(
    "text",
    [
        "unsbscribe me",  # a letter left out
        "I'd like to unsbscribe",
        "unsabscribe me",  # a letter mistyped
        "unasubscribe me",  # a letter too many
        "unsbuscribe me",  # two letters swapped
        "usnubscribe",
    ],
)
def test_a_misspelt_unsubscribe_opts_the_number_out(text):
    assert classify(text).intent is Intent.OPT_OUT


@pytest.mark.parametrize(
    "text",
    [
        "Stop texting me please, I paid",  # "please" is no word of a complaint
        "STOP. Refund me now",  # nor "me" and "now": one word of its own is a reason, not a complaint
    ],
)
def test_an_opt_out_with_a_word_or_two_of_reason_is_a_plain_opt_out(text):
    result = classify(text)
    assert result.intent is Intent.OPT_OUT
    assert not result.complaint_too


@pytest.mark.parametrize("text", ["stop texting me or I will call my lawyer", "stop messaging me I will sue"])
def test_an_opt_out_with_a_legal_threat_in_it_keeps_the_complaint_for_an_agent(text):
    result = classify(text)
    assert result.intent is Intent.OPT_OUT
    assert result.complaint_too
