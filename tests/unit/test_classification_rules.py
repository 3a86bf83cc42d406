"""Readings the rules make whatever the model says: a keyword spelt out letter by letter or
doubled with YES is the keyword (recorded as one in the consent history, an opt-in then needs no
confirmation question), and wanting to die, written in a script without word spaces or in
Cyrillic, pages a supervisor."""

import pytest

from smsdesk.classification import EscalationReason, Intent, classify


@pytest.mark.parametrize(
    ("text", "intent", "keyword"),
    [
        ("s t o p", Intent.OPT_OUT, "STOP"),
        ("S T O P", Intent.OPT_OUT, "STOP"),
        ("YES START", Intent.OPT_IN, "START"),
        ("START YES", Intent.OPT_IN, "START"),
        ("hủy đăng ký", Intent.OPT_OUT, "HUYDANGKY"),  # Vietnamese, its đ read as d
        ("HỦY ĐĂNG KÝ", Intent.OPT_OUT, "HUYDANGKY"),
    ],
)
def test_a_keyword_spelt_out_or_with_yes_is_the_keyword(text, intent, keyword):
    result = classify(text)
    assert (result.intent, result.keyword, result.natural_language) == (intent, keyword, False)


@pytest.mark.parametrize("text", ["자살", "хочу умереть"])
def test_wanting_to_die_in_korean_or_russian_pages_a_supervisor(text):
    result = classify(text)
    assert result.escalate
    assert EscalationReason.SELF_HARM in result.escalation_reasons
