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


@pytest.mark.parametrize("text", ["the beeping won\u2019t stop", "the beeping won\u2018t stop"])
def test_something_that_won_t_stop_is_a_complaint_with_a_phone_s_curly_apostrophe_too(text):
    # phones type ’ for ': "won’t stop" complains about the beeping, it does not opt out
    assert classify(text).intent is Intent.COMPLAINT


def test_a_chinese_sentence_is_not_a_few_words():
    # Chinese is written without spaces: "不想收到" (I don't want to get these) is one "word" but a
    # sentence, read at the ordinary opt-out threshold, not the stricter one for a few words
    assert classify("不想收到").intent is Intent.OPT_OUT
