"""Every customer-facing text: its length in segments, its encoding and its tone."""

import re
from datetime import datetime

import pytest

from smsdesk import templates
from smsdesk.sms_segments import Encoding, count_segments

TYPICAL = {"business": "Acme Outdoor", "contact": "support@acme.example", "name": "Karen", "reference": "C-7F3K"}
LONGEST = {
    "business": "B" * 30,  # BUSINESS_NAME's limit
    "contact": "c" * 40,  # SUPPORT_CONTACT's limit
    "name": "Maximiliana-Alexandra",  # folded and cut to 20
    "reference": "C-7F3K9Q",
}
LONGEST_PROMISE = "by 12:55 PM on Dec 28"


def every_template(values, promise="by 9:00 AM tomorrow"):
    v = values
    yield (
        "acknowledgement",
        templates.acknowledgement(
            business=v["business"],
            name=v["name"],
            reference=v["reference"],
            category="order",
            reply_by=promise,
            offer_call=False,
        ),
    )
    yield (
        "acknowledgement, no name",
        templates.acknowledgement(
            business=v["business"],
            name=None,
            reference=v["reference"],
            category="product",
            reply_by=promise,
            offer_call=False,
        ),
    )
    yield (
        "acknowledgement, urgent",
        templates.acknowledgement(
            business=v["business"],
            name=v["name"],
            reference=v["reference"],
            category="other",
            reply_by=promise,
            offer_call=True,
        ),
    )
    yield "help", templates.help_reply(business=v["business"], contact=v["contact"])
    yield "opt-out confirmation", templates.opt_out_confirmation(business=v["business"])
    yield "opt-in confirmation", templates.opt_in_confirmation(business=v["business"])
    yield "refund", templates.DEFAULT_KEYWORD_REPLIES["REFUND"]
    yield "hours", templates.hours_reply(business=v["business"], hours="Mon-Fri 9:00 AM-5:00 PM ET")
    yield "status", templates.status_reply(reference=v["reference"], status="acknowledged", reply_by=promise)
    yield "status, none", templates.status_reply(reference=None, status=None, reply_by=None)
    yield "call", templates.call_requested(reference=v["reference"])
    yield "survey", templates.satisfaction_survey(business=v["business"], name=v["name"], reference=v["reference"])
    yield "thanks", templates.satisfaction_thanks(score=5)
    yield "sorry", templates.satisfaction_thanks(score=1)
    yield "sla", templates.sla_update(name=v["name"], reference=v["reference"])
    for title, text in templates.CANNED_RESPONSES.items():
        yield f"canned: {title}", text


TEMPLATES_ONE_SEGMENT_EXCEPTIONS = {"acknowledgement, urgent"}  # the call offer may push it to two


@pytest.mark.parametrize(("label", "text"), list(every_template(TYPICAL)))
def test_with_typical_values_each_text_is_one_gsm7_segment(label, text):
    count = count_segments(text)
    assert count.encoding is Encoding.GSM7, label
    limit = 2 if label in TEMPLATES_ONE_SEGMENT_EXCEPTIONS else 1
    assert count.segments <= limit, f"{label}: {count.units} characters: {text}"


@pytest.mark.parametrize(("label", "text"), list(every_template(LONGEST, LONGEST_PROMISE)))
def test_with_the_longest_values_no_text_exceeds_two_segments(label, text):
    count = count_segments(text)
    assert count.encoding is Encoding.GSM7, label
    assert count.segments <= 2, f"{label}: {count.units} characters"


SLANG = re.compile(r"\b(u|ur|pls|plz|thx|lol|omg|asap|gonna|wanna|hey|yo|sry|k)\b", re.IGNORECASE)
EMOJI = re.compile("[\U0001f300-\U0001faff\u2600-\u27bf]")


@pytest.mark.parametrize(("label", "text"), list(every_template(TYPICAL)))
def test_the_tone_is_professional(label, text):
    assert not SLANG.search(text), label
    assert not EMOJI.search(text), label
    assert "!" not in text, label
    shouting = [w for w in re.findall(r"\b[A-Z]{4,}\b", text) if w not in {"STOP", "START", "HELP", "CALL"}]
    assert not shouting, f"{label}: {shouting}"
    assert text.strip() == text and "  " not in text, label
    assert text[-1] in ".)", f"{label} ends without punctuation"


def test_the_acknowledgement_names_the_customer_the_issue_the_reference_and_the_promise():
    text = templates.acknowledgement(
        business="Acme Outdoor",
        name="Karen",
        reference="C-7F3K",
        category="order",
        reply_by="by 9:00 AM tomorrow",
        offer_call=False,
    )
    assert text.startswith("Hi Karen,")
    for part in ("Acme Outdoor", "sorry", "your order", "C-7F3K", "by 9:00 AM tomorrow"):
        assert part in text


def test_urgent_complaints_are_offered_a_call():
    text = templates.acknowledgement(
        business="Acme",
        name=None,
        reference="C-AAAA",
        category="other",
        reply_by="by 9:00 AM tomorrow",
        offer_call=True,
    )
    assert "Reply CALL" in text


def test_help_has_what_ctia_requires():
    text = templates.help_reply(business="Acme Outdoor", contact="1-800-555-0100")
    for part in ("Acme Outdoor", "1-800-555-0100", "Msg&data rates may apply", "STOP"):
        assert part in text


def test_the_opt_out_confirmation_is_not_marketing():
    text = templates.opt_out_confirmation(business="Acme Outdoor")
    assert text == (
        "You're unsubscribed from Acme Outdoor texts and will get no more messages. Reply START to resubscribe."
    )


def test_a_customer_name_cannot_force_ucs2():
    text = templates.acknowledgement(
        business="Acme",
        name="Zoë Łukasz 😀",
        reference="C-AAAA",
        category="order",
        reply_by="by 9:00 AM today",
        offer_call=False,
    )
    assert count_segments(text).encoding is Encoding.GSM7
    assert text.startswith("Hi Zoe Lukasz,")


@pytest.mark.parametrize(
    ("values", "promise", "limit"),
    [(TYPICAL, "by 9:00 AM tomorrow ET", 1), (LONGEST, "by 12:55 PM on Dec 28 (Indianapolis time)", 2)],
)
def test_a_promise_that_names_the_business_zone_still_fits(values, promise, limit):
    # Written so when the customer's own zone is not known (an Australian mobile, a toll-free number).
    for label, text in every_template(values, promise):
        if label.startswith(("acknowledgement", "status")) and label != "acknowledgement, urgent":
            assert count_segments(text).segments <= limit, f"{label}: {text}"


# -- the other languages ----------------------------------------------------------------------

PROMISE_TOMORROW = {"en": "by 9:00 AM tomorrow"} | {
    language: templates.promise_in(language, datetime(2026, 11, 24, 9, 0), 1)
    for language in templates.LANGUAGES - {"en"}
}


def every_template_in(language, values=TYPICAL, promise=None, hours="Mon-Fri 9:00 AM-5:00 PM ET"):
    v, promise = values, promise or PROMISE_TOMORROW[language]
    yield (
        "acknowledgement",
        templates.acknowledgement(
            business=v["business"],
            name=v["name"],
            reference=v["reference"],
            category="order",
            reply_by=promise,
            offer_call=False,
            language=language,
        ),
    )
    yield (
        "acknowledgement, urgent",
        templates.acknowledgement(
            business=v["business"],
            name=v["name"],
            reference=v["reference"],
            category="other",
            reply_by=promise,
            offer_call=True,
            language=language,
        ),
    )
    yield "help", templates.help_reply(business=v["business"], contact=v["contact"], language=language)
    yield "opt-out confirmation", templates.opt_out_confirmation(business=v["business"], language=language)
    yield "opt-in confirmation", templates.opt_in_confirmation(business=v["business"], language=language)
    yield "opt-in instructions", templates.opt_in_instructions(business=v["business"], language=language)
    yield "refund", templates.refund_reply(open_case=False, language=language)
    yield "refund, case open", templates.refund_reply(open_case=True, language=language)
    yield "hours", templates.hours_reply(business=v["business"], hours=hours, language=language)
    yield (
        "status",
        templates.status_reply(reference=v["reference"], status="acknowledged", reply_by=promise, language=language),
    )
    yield "status, none", templates.status_reply(reference=None, status=None, reply_by=None, language=language)
    yield "call", templates.call_requested(reference=v["reference"], language=language)
    yield (
        "survey",
        templates.satisfaction_survey(
            business=v["business"], name=v["name"], reference=v["reference"], language=language
        ),
    )
    yield "thanks", templates.satisfaction_thanks(score=5, language=language)
    yield "sorry", templates.satisfaction_thanks(score=1, language=language)
    yield "sla", templates.sla_update(name=v["name"], reference=v["reference"], language=language)


# The worst case a real business meets: the longest name, business and support contact the
# settings allow, the longest reference a conversation can get, its longest opening hours (two
# schedules) and every form of promise at 12:55 on a two-digit date, with a zone said after it
# (the customer's zone unknown: a US business's zone is at most four letters, "AKST").
WORST = LONGEST | {"reference": "C-7F3K9QXZ"}  # looks_like_reference: at most 8 after "C-"
WORST_HOURS = "Mon-Fri 9:00 AM-5:00 PM; Sat 10:00 AM-2:00 PM AKST"


def worst_promises(language):
    if language == "en":
        return ["by 12:55 PM on Wednesday AKST", "by 12:55 PM on Dec 28 AKST", "by 12:55 PM tomorrow AKST"]
    moment = datetime(2026, 12, 28, 12, 55)
    return [f"{templates.promise_in(language, moment, days)} AKST" for days in (0, 1, 3, 9)]


@pytest.mark.parametrize("language", sorted(templates.LANGUAGES))
def test_no_text_in_any_language_exceeds_two_segments_with_the_longest_values(language):
    for promise in worst_promises(language):
        for label, text in every_template_in(language, WORST, promise, WORST_HOURS):
            count = count_segments(text)
            assert count.segments <= 2, f"{language} {label}: {count.units} {count.encoding} units: {text}"


def test_long_values_drop_the_greeting_before_a_third_segment():
    """In Vietnamese (UCS-2, 67 a segment) the longest values leave no room for the name."""
    text = templates.acknowledgement(
        business=WORST["business"],
        name=WORST["name"],
        reference=WORST["reference"],
        category="service",
        reply_by="trước 12:55 ngày 28/12 AKST",
        offer_call=True,
        language="vi",
    )
    assert count_segments(text).segments == 2
    assert WORST["reference"] in text and "CALL" in text and "Maximiliana" not in text
    short = templates.acknowledgement(
        business="Acme",
        name="Lan",
        reference="C-7F3K",
        category="order",
        reply_by="trước 9:00 ngày mai",
        offer_call=False,
        language="vi",
    )
    assert short.startswith("Chào Lan, Acme")


def segment_table() -> dict[str, dict[str, str]]:
    table = {}
    for language in sorted(templates.LANGUAGES):
        for label, text in every_template_in(language):
            count = count_segments(text)
            table.setdefault(label, {})[language] = (
                f"{count.segments} {'G' if count.encoding is Encoding.GSM7 else 'U'}"
            )
    return table


@pytest.mark.parametrize("language", sorted(templates.LANGUAGES - {"en"}))
def test_each_language_has_every_text_within_two_segments(language):
    for label, text in every_template_in(language):
        count = count_segments(text)
        assert count.segments <= 2, f"{language} {label}: {count.units} units: {text}"
        assert "{" not in text and "}" not in text, f"{language} {label}: a placeholder left: {text}"
        assert "!" not in text and not EMOJI.search(text), f"{language} {label}"


@pytest.mark.parametrize("language", ["es", "fr", "pt"])
def test_spanish_french_and_portuguese_texts_are_mostly_one_gsm7_segment(language):
    """Worded with GSM-7's own letters (é, ñ, à...) where natural: one segment, 7-bit."""
    one_gsm7 = [
        label
        for label, text in every_template_in(language)
        if count_segments(text).encoding is Encoding.GSM7 and count_segments(text).segments == 1
    ]
    assert len(one_gsm7) >= 11, one_gsm7


def test_chinese_texts_fit_one_ucs2_segment():
    for label, text in every_template_in("zh"):
        if label not in {"acknowledgement, urgent", "sla"}:
            assert count_segments(text).segments == 1, f"{label}: {text}"


def test_texts_in_other_languages_are_their_own_not_english():
    for language in templates.LANGUAGES - {"en"}:
        english = dict(every_template_in("en"))
        for label, text in every_template_in(language):
            assert text != english[label], f"{language} {label} is the English text"


def test_an_unknown_language_is_answered_in_english():
    assert templates.language_of("ko") == "en" and templates.language_of(None) == "en"
    assert templates.language_of("es") == "es"
