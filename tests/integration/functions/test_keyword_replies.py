"""One reply to a keyword, whoever gives it: what smsdesk texts back to STOP, START and HELP (and
a Spanish speaker's AYUDA and START) with Twilio's own keyword handling on (the default,
TwilioAnswersOptOutKeywords true) and off, and when Advanced Opt-Out flags a text (OptOutType).

Through the template's functions as Lambda runs them: the signed webhook, the outbox relay, the
EventBridge rule to the consent function; Twilio at the HTTP layer (what smsdesk sent it). Where
Twilio answers a keyword itself, the customer's one reply is Twilio's, so smsdesk must send none;
the consent change and its evidence are recorded all the same.
"""

from __future__ import annotations

import pytest

from smsdesk import templates
from tests.integration.conftest import CUSTOMER, ENVIRON
from tests.integration.functions.events import inbound_params, twilio_post

BUSINESS, CONTACT = "Acme Outdoor", "support@acme.example"


@pytest.fixture
def environ(request):
    """The deployment: ``TWILIO_ANSWERS_OPT_OUT_KEYWORDS`` as the test's parameter says."""
    return {**ENVIRON, "TWILIO_ANSWERS_OPT_OUT_KEYWORDS": request.param}


TWILIO_ANSWERS = pytest.mark.parametrize("environ", ["true"], ids=["twilio-answers"], indirect=True)
SMSDESK_ANSWERS = pytest.mark.parametrize("environ", ["false"], ids=["smsdesk-answers"], indirect=True)


@pytest.fixture
def customer_texts(inbound, relay, consent, cloud, twilio):
    """The customer texts ``body``; returns what smsdesk texted back, once every event is handled."""
    sids = iter(range(1, 100))

    def send(body: str, **twilio_params: str) -> list[str]:
        before = len(twilio.to(CUSTOMER))
        params = inbound_params(body, sid=next(sids), **twilio_params)
        assert inbound.http(twilio_post("/sms/inbound", params)).status == 200
        assert relay.invoke(cloud.stream.lambda_event()) == {"batchItemFailures": []}
        for event in cloud.rules.delivered("ConsentFunction"):  # those delivered since the last text
            consent.invoke(event)
        return [m["Body"] for m in twilio.to(CUSTOMER)[before:]]

    return send


def consent_of(repository) -> tuple[str, list[tuple[str, str, str]]]:
    """The customer's consent, and its history: (action, source, the customer's text)."""
    history = sorted(repository.consent_history(CUSTOMER), key=lambda r: r.recorded_at)
    return repository.customer(CUSTOMER).consent, [(r.action, r.source, r.text) for r in history]


# ------------------------------------------------------------------ Twilio's handling on (the default)


@TWILIO_ANSWERS
def test_twilio_answers_stop_start_and_help_itself_and_smsdesk_records_them_but_sends_nothing(
    customer_texts, repository
):
    assert customer_texts("STOP") == []
    assert consent_of(repository) == ("opted_out", [("opt_out", "keyword", "STOP")])
    assert customer_texts("start") == []
    assert consent_of(repository)[0] == "subscribed"
    assert customer_texts("HELP") == []
    assert customer_texts(" Info ") == []
    helps = [m.body for m in repository.customer_messages(CUSTOMER) if m.purpose == "help"]
    assert sorted(helps) == ["HELP", "Info"]  # on record, with the customer's other texts


@TWILIO_ANSWERS
def test_a_keyword_twilio_does_not_take_for_its_own_is_answered_by_smsdesk(customer_texts):
    # Twilio answers only a text that is its keyword and nothing else.
    assert customer_texts("Help!") == [templates.help_reply(business=BUSINESS, contact=CONTACT)]
    assert customer_texts("STOP please") == [templates.opt_out_confirmation(business=BUSINESS)]


@TWILIO_ANSWERS
def test_a_spanish_speakers_ayuda_is_answered_in_spanish_and_their_start_by_twilio_alone(customer_texts, repository):
    assert customer_texts("ayuda") == [templates.help_reply(business=BUSINESS, contact=CONTACT, language="es")]
    assert customer_texts("BAJA") == [templates.opt_out_confirmation(business=BUSINESS, language="es")]
    assert customer_texts("START") == []  # Twilio's own (English) confirmation is the one reply
    assert consent_of(repository)[0] == "subscribed"
    assert repository.customer(CUSTOMER).language == "es"


# ------------------------------------------------------------------ Twilio's handling off


@SMSDESK_ANSWERS
def test_smsdesk_answers_stop_start_and_help_itself_once_each(customer_texts, repository):
    assert customer_texts("STOP") == [templates.opt_out_confirmation(business=BUSINESS)]
    assert customer_texts("start") == [templates.opt_in_confirmation(business=BUSINESS)]
    assert consent_of(repository) == (
        "subscribed",
        [("opt_out", "keyword", "STOP"), ("opt_in", "keyword", "start")],
    )
    assert customer_texts("HELP") == [templates.help_reply(business=BUSINESS, contact=CONTACT)]


@SMSDESK_ANSWERS
def test_a_spanish_speaker_is_answered_in_spanish_to_ayuda_stop_and_start(customer_texts):
    assert customer_texts("ayuda") == [templates.help_reply(business=BUSINESS, contact=CONTACT, language="es")]
    assert customer_texts("STOP") == [templates.opt_out_confirmation(business=BUSINESS, language="es")]
    assert customer_texts("START") == [templates.opt_in_confirmation(business=BUSINESS, language="es")]


@SMSDESK_ANSWERS
def test_what_advanced_opt_out_flagged_twilio_has_answered_whatever_the_setting(customer_texts, repository):
    # OptOutType: the Messaging Service's Advanced Opt-Out matched its own keyword (here Spanish ones).
    assert customer_texts("AYUDA", OptOutType="HELP") == []
    assert customer_texts("BAJA", OptOutType="STOP") == []
    assert customer_texts("ALTA", OptOutType="START") == []
    assert consent_of(repository) == (
        "subscribed",
        [("opt_out", "twilio_opt_out_type", "BAJA"), ("opt_in", "twilio_opt_out_type", "ALTA")],
    )


# ------------------------------------------------------------------ unchanged by the setting


@pytest.mark.parametrize("environ", ["true", "false"], indirect=True)
def test_an_opt_in_in_words_is_answered_with_how_to_confirm(customer_texts, repository):
    customer_texts("please stop texting me")
    assert customer_texts("ok you can text me again") == [templates.opt_in_instructions(business=BUSINESS)]
    assert consent_of(repository)[0] == "opted_out"
