"""Shouting (12 letters or more, at least 70% of them capitals, and two exclamation marks) is
read as anger, which pages a supervisor when the model sees some urgency in the text too
(classification's RULE_CONFIRM); a capital here and there, or half the words, is not shouting."""

import pytest

from smsdesk.classification import EscalationReason, classify


@pytest.mark.parametrize(
    "text",
    [
        "WHERE IS MY ORDER!!",
        "NOBODY ANSWER!!",  # 12 letters (the model's urgency 0.49: the rule, confirmed)
        "WHERE IS MY ORDER seller!!",  # 14 capitals of 20 letters
        "LOST AGAIN TODAY honest!!",  # 14 of 20 too, and the model alone would not escalate it (0.34)
    ],
)
def test_shouting_is_anger(text):
    result = classify(text)
    assert (result.escalate, result.escalation_reasons) == (True, (EscalationReason.ANGER,))


@pytest.mark.parametrize("text", ["Where is my order!!", "WHERE IS my order!!"])
def test_a_few_capitals_are_not_shouting(text):
    result = classify(text)
    assert (result.escalate, result.escalation_reasons) == (False, ())
