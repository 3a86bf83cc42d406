"""An urgency word customers use about everyday things ("burnt", "lawyer", "damn", "call my bank")
escalates only when the model sees urgency in the whole text too; the other words a rule
escalates on ("lawsuit", "crooks", a censored swear word, "the 3rd time") escalate on their own
(classification's RULE_CONFIRM, decisions 19). A supervisor is paged for the second kind only."""

import pytest

from smsdesk.classification import EscalationReason, Intent, classify


@pytest.mark.parametrize(
    "text",
    [
        "the toast was burnt",
        "I'm not calling a lawyer over $12",
        "damn, late again",
        "I had to call my bank to move money, can I pay tomorrow",
    ],
)
def test_an_everyday_word_alone_does_not_page_a_supervisor(text):
    result = classify(text)
    assert (result.intent, result.escalate, result.escalation_reasons) == (Intent.COMPLAINT, False, ())


@pytest.mark.parametrize(
    ("text", "reasons"),
    [
        ("this is the 3rd time I ask when my order ships", (EscalationReason.REPEAT,)),
        ("my order is late, crooks", (EscalationReason.ANGER,)),
        ("a lawsuit over toast, lol", (EscalationReason.LEGAL,)),
        # the swear word escalates; "burnt" beside it still needs the model
        ("the pizza was burnt, f***ing late too", (EscalationReason.ANGER,)),
        ("the toast was burnt, the lawsuit papers came too", (EscalationReason.LEGAL,)),  # urgency 0.04
    ],
)
def test_a_clear_urgency_word_pages_a_supervisor_on_its_own(text, reasons):
    result = classify(text)
    assert (result.intent, result.escalate, result.escalation_reasons) == (Intent.COMPLAINT, True, reasons)
