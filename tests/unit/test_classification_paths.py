"""Every way a text can be read before the model, with everything the reading carries: the
keyword recorded as consent evidence, the reason, the language the answer is written in, and
whether it was a keyword or words (a keyword opt-in is done at once; words are confirmed)."""

import pytest

from smsdesk.classification import Category, Intent, classify, detect_language


@pytest.mark.parametrize(
    ("text", "opt_out_type", "intent", "keyword", "reason", "language"),
    [
        ("Stop, too many texts", "STOP", Intent.OPT_OUT, "STOPTOOMANYTEXTS", "too many messages", "en"),
        ("Deja de mandarme mensajes por favor", "stop ", Intent.OPT_OUT, "DEJADEMANDARMEMENSAJESPORFAVOR", None, "es"),
        ("Quiero recibir mensajes otra vez", " start", Intent.OPT_IN, "QUIERORECIBIRMENSAJESOTRAVEZ", None, "es"),
        ("Necesito ayuda con mi pedido", "Help", Intent.HELP, "NECESITOAYUDACONMIPEDIDO", None, "es"),
    ],
)
def test_what_twilio_flagged_is_taken_as_it_flagged_it(text, opt_out_type, intent, keyword, reason, language):
    # Twilio's OptOutType decides; the whole text is kept as the keyword evidence
    result = classify(text, opt_out_type=opt_out_type)
    assert (result.intent, result.keyword, result.natural_language, result.reason, result.language) == (
        intent,
        keyword,
        False,
        reason,
        language,
    )


@pytest.mark.parametrize(
    ("text", "intent", "keyword", "natural_language", "language"),
    [
        ("CANCELAR", Intent.OPT_OUT, "CANCELAR", False, "es"),
        ("AYUDA", Intent.HELP, "AYUDA", False, "es"),
        ("stop stop stop", Intent.OPT_OUT, "STOP", False, "en"),
        ("stop stop stop stop", Intent.OPT_OUT, None, True, "en"),  # more than three words: read as words
        ("PARAR\nEnviado desde mi teléfono", Intent.OPT_OUT, "PARAR", True, "es"),  # a keyword over a signature
    ],
)
def test_a_keyword_is_read_with_the_language_to_answer_in(text, intent, keyword, natural_language, language):
    result = classify(text)
    assert (result.intent, result.keyword, result.natural_language, result.language) == (
        intent,
        keyword,
        natural_language,
        language,
    )


def test_an_auto_reply_keyword_keeps_its_category_and_language():
    result = classify("REFUND")
    assert (result.intent, result.auto_reply_keyword, result.category, result.language) == (
        Intent.COMPLAINT,
        "REFUND",
        Category.BILLING,
        "en",
    )


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("ok", None),
        ("a", None),
        ("End", "en"),
        ("안녕", "ko"),
        ("Where is my order? 감사합니다", "en"),  # English, a Korean "thank you" at the end
        ("hola que tal, mi pedido no llegó", "es"),
    ],
)
def test_the_language_is_named_only_when_the_text_says_enough(text, language):
    assert detect_language(text)[0] == language


@pytest.mark.parametrize(
    ("text", "intent", "keyword", "language"),
    [
        ("please stop texting me", Intent.OPT_OUT, None, "en"),  # recorded as a natural-language opt-out
        ("start sending me texts again", Intent.OPT_IN, None, "en"),  # confirmed before it counts
        ("ayuda por favor", Intent.HELP, "AYUDA", "es"),
        ("quien es?", Intent.HELP, None, "es"),
    ],
)
def test_words_are_read_as_words_with_the_language_to_answer_in(text, intent, keyword, language):
    result = classify(text)
    assert (result.intent, result.keyword, result.natural_language, result.language) == (
        intent,
        keyword,
        True,
        language,
    )
