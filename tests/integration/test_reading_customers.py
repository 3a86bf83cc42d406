"""What smsdesk does with what it reads: a complaint inside an opt-out, a possible opt-out (a person
decides, nothing goes out meanwhile), HELP in words, an opt-in in words, repeat complaints from
the customer's history, self-harm, CALL and REFUND as first texts, and replies in the customer's
language."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from smsdesk import agent_views
from smsdesk.agents import Actor, Group
from smsdesk.classification import Intent, classify
from smsdesk.conversations import Status
from smsdesk.errors import InvalidTransition
from smsdesk.events import ReceivedEvent
from smsdesk.inbound import InboundOutcome, InboundService
from smsdesk.send_gateway import Outbound, Purpose
from smsdesk.table import Conversation
from tests.integration.conftest import CUSTOMER, KEYWORDS, outbox_events, sms

SUPERVISOR = Actor("sam@acme.example", frozenset({Group.AGENTS, Group.SUPERVISORS}))


def maybe_an_opt_out(text, **kwargs):
    """The classifier as it answers a text it is unsure about (which texts those are depends on
    the trained weights; what smsdesk does with the answer does not)."""
    result = classify(text, **kwargs)
    if result.intent is not Intent.COMPLAINT:  # keywords and rules are sure
        return result
    return replace(result, possible_opt_out=True, confidence=0.5)


# ------------------------------------------------------------------ a complaint inside an opt-out


def test_a_first_text_that_opts_out_and_complains_keeps_the_complaint_for_agents(
    inbound, responder, repository, twilio
):
    received = inbound.receive(sms("Stop texting me and refund my money, the blender arrived broken"))
    customer = repository.customer(CUSTOMER)
    assert customer.consent == "opted_out"
    assert received.conversation is not None and customer.open_conversation == received.conversation
    conversation, messages = repository.conversation_with_messages(received.conversation)
    assert [m.body for m in messages] == ["Stop texting me and refund my money, the blender arrived broken"]
    assert "opted out" in conversation.auto_reply_note
    assert {"ConsentRevoked", "ComplaintReceived"} <= {kind for kind, _ in outbox_events(repository)}
    responder.acknowledge(received.conversation)
    assert twilio.sent == []  # no automatic reply to an opted-out number


def test_a_plain_opt_out_opens_no_conversation(inbound, repository):
    received = inbound.receive(sms("please stop texting me"))
    assert received.outcome is InboundOutcome.OPTED_OUT and received.conversation is None
    assert repository.customer(CUSTOMER).open_conversation is None


# ------------------------------------------------------------------ a possible opt-out


@pytest.fixture
def unsure_inbound(repository, clock):
    return InboundService(repository, clock, auto_reply_keywords=KEYWORDS, classifier=maybe_an_opt_out)


def test_a_possible_opt_out_is_flagged_and_nothing_is_sent_until_an_agent_decides(
    unsure_inbound, responder, processor, desk, repository, twilio, clock
):
    received = unsure_inbound.receive(sms("the replacement part still has not come"))
    conversation = repository.conversation(received.conversation)
    assert conversation.possible_opt_out and "Possible opt-out" in conversation.auto_reply_note
    customer = repository.customer(CUSTOMER)
    assert customer.consent == "subscribed" and customer.consent_hold == "possible_opt_out"

    acknowledgement = responder.acknowledge(received.conversation).result
    assert acknowledgement.outcome == "refused" and "possible opt-out" in acknowledgement.note
    reply = desk.reply(received.conversation, "Hello, can we help?", agent="ana")
    assert reply.send.outcome == "refused"
    # HELP is still answered: the customer asked for it (in words: Twilio answers no such text).
    unsure_inbound.receive(sms("Who is this?", sid=2))
    [help_requested] = [d for kind, d in outbox_events(repository) if kind == "HelpRequested"]
    processor.help_requested(ReceivedEvent.from_detail("HelpRequested", help_requested))
    assert [s["Body"] for s in twilio.sent] == [processor_help_text(processor)]
    assert agent_views.conversation_summary(repository.conversation(received.conversation))["possible_opt_out"]

    desk.clear_possible_opt_out(CUSTOMER, agent="ana")
    assert repository.customer(CUSTOMER).consent_hold is None
    assert not repository.conversation(received.conversation).possible_opt_out
    assert desk.reply(received.conversation, "Hello, can we help?", agent="ana").send.outcome == "sent"
    with pytest.raises(InvalidTransition):
        desk.clear_possible_opt_out(CUSTOMER, agent="ana")  # nothing left to decide


def processor_help_text(processor):
    from smsdesk import templates

    business = processor._business
    return templates.help_reply(business=business.name, contact=business.support_contact)


def test_an_agent_confirming_a_possible_opt_out_opts_the_number_out(unsure_inbound, desk, repository):
    unsure_inbound.receive(sms("the replacement part still has not come"))
    desk.record_opt_out(CUSTOMER, actor=SUPERVISOR, reason="confirmed a possible opt-out")
    customer = repository.customer(CUSTOMER)
    assert (customer.consent, customer.consent_hold) == ("opted_out", None)


def test_a_proactive_survey_waits_for_the_agents_decision(unsure_inbound, gateway, repository):
    received = unsure_inbound.receive(sms("the replacement part still has not come"))
    survey = Outbound(
        CUSTOMER,
        Purpose.SATISFACTION_SURVEY,
        "survey-0",
        lambda c: "How did we do?",
        conversation=received.conversation,
    )
    result = gateway.send(survey)
    assert result.outcome == "refused" and "possible opt-out" in result.note


# ------------------------------------------------------------------ HELP and opt-in in words


def test_who_is_this_gets_the_help_content(inbound, processor, repository, twilio):
    received = inbound.receive(sms("hi, who's texting me?"))
    assert received.outcome is InboundOutcome.HELP
    [help_requested] = [d for kind, d in outbox_events(repository) if kind == "HelpRequested"]
    processor.help_requested(ReceivedEvent.from_detail("HelpRequested", help_requested))
    assert "Reply STOP to opt out" in twilio.sent[0]["Body"]


def test_an_opt_in_in_words_is_answered_with_how_to_confirm_and_changes_nothing(inbound, processor, repository, twilio):
    inbound.receive(sms("STOP", sid=1))
    received = inbound.receive(sms("ok you may message me again", sid=2))
    assert received.outcome is InboundOutcome.OPT_IN_REQUESTED
    assert repository.customer(CUSTOMER).consent == "opted_out"
    [detail] = [d for kind, d in outbox_events(repository) if kind == "OptInRequested"]
    processor.opt_in_requested(ReceivedEvent.from_detail("OptInRequested", detail))
    processor.opt_in_requested(ReceivedEvent.from_detail("OptInRequested", detail))  # delivered twice: answered once
    [sent] = twilio.sent
    assert sent["Body"] == "To get texts from Acme Outdoor again, reply START."
    assert repository.customer(CUSTOMER).consent == "opted_out"


# ------------------------------------------------------------------ urgency from history


def close(repository, reference):
    repository.conversation(reference).update(actions=[Conversation.status.set("closed")])


def test_the_third_complaint_in_30_days_is_urgent(inbound, repository, clock):
    first = inbound.receive(sms("My order arrived broken", sid=1))
    close(repository, first.conversation)
    clock.advance(timedelta(days=10))
    second = inbound.receive(sms("Another order arrived broken", sid=2))
    close(repository, second.conversation)
    assert repository.conversation(second.conversation).repeat_complaint
    assert repository.conversation(second.conversation).priority == "normal"
    clock.advance(timedelta(days=10))
    third = inbound.receive(sms("The replacement arrived broken too", sid=3))
    conversation = repository.conversation(third.conversation)
    assert conversation.priority == "urgent" and "repeat" in conversation.escalation_reasons


def test_complaints_further_apart_than_30_days_are_not_urgent(inbound, repository, clock):
    for sid in (1, 2, 3):
        received = inbound.receive(sms("My order arrived broken", sid=sid))
        close(repository, received.conversation)
        clock.advance(timedelta(days=20))
    assert repository.conversation(received.conversation).priority == "normal"


# ------------------------------------------------------------------ self-harm


def test_self_harm_shows_the_agent_a_crisis_note_and_the_customer_is_not_told(
    inbound, responder, desk, repository, twilio
):
    received = inbound.receive(sms("nobody helps, I want to kill myself"))
    conversation = repository.conversation(received.conversation)
    assert conversation.priority == "urgent" and "self_harm" in conversation.escalation_reasons
    view = agent_views.conversation_detail(desk.read(received.conversation))
    assert "988" in view["agent_note"]
    responder.acknowledge(received.conversation)
    [sent] = twilio.sent
    assert "988" not in sent["Body"] and "self" not in sent["Body"].lower()


# ------------------------------------------------------------------ CALL and REFUND first


def test_call_as_a_first_text_opens_a_conversation_asking_for_a_call(inbound, responder, repository, twilio):
    received = inbound.receive(sms("CALL"))
    assert received.outcome is InboundOutcome.KEYWORD and received.conversation is not None
    conversation = repository.conversation(received.conversation)
    assert conversation.callback_requested and conversation.status == Status.OPEN
    kinds = [kind for kind, _ in outbox_events(repository)]
    assert kinds == ["KeywordReceived"]  # answered by the CALL reply, not an acknowledgement too
    responder.answer_keyword(CUSTOMER, "CALL", received.conversation, "SM1")
    assert received.conversation in twilio.sent[0]["Body"]


def test_refund_as_a_first_text_does_not_claim_an_open_complaint(inbound, responder, twilio):
    inbound.receive(sms("REFUND"))
    responder.answer_keyword(CUSTOMER, "REFUND", None, "SM1")
    assert "stays open" not in twilio.sent[0]["Body"]
    assert twilio.sent[0]["Body"].startswith("To request a refund")


def test_refund_with_a_case_open_says_it_stays_open(inbound, responder, twilio):
    received = inbound.receive(sms("My order arrived broken", sid=1))
    responder.answer_keyword(CUSTOMER, "REFUND", received.conversation, "SM2")
    assert twilio.sent[-1]["Body"].endswith("Your complaint stays open.")


# ------------------------------------------------------------------ the customer's language


def test_a_spanish_complaint_is_answered_in_spanish(inbound, responder, repository, twilio):
    received = inbound.receive(sms("Mi pedido llegó roto y nadie contesta el teléfono"))
    assert repository.customer(CUSTOMER).language == "es"
    responder.acknowledge(received.conversation)
    body = twilio.sent[0]["Body"]
    assert body.startswith("Hola, le escribe Acme Outdoor. Lamentamos")
    assert received.conversation in body and "hoy antes de las 12:00" in body


def test_an_unclear_text_keeps_the_language_the_customer_wrote_in(inbound, repository):
    inbound.receive(sms("Mi pedido llegó roto y nadie contesta", sid=1))
    inbound.receive(sms("4432", sid=2))
    assert repository.customer(CUSTOMER).language == "es"


def test_a_spanish_speaker_who_texts_stop_and_start_is_answered_in_spanish(
    inbound_answering_every_keyword, processor, repository, twilio
):
    """STOP and START are the carriers' English keywords: alone they say nothing of the language.
    (Where Twilio's own handling is on, Twilio answers them, in English: tests/integration/functions/
    test_keyword_replies.py.)"""
    inbound = inbound_answering_every_keyword
    inbound.receive(sms("Mi pedido llegó roto y nadie contesta", sid=1))
    inbound.receive(sms("STOP", sid=2))
    assert repository.customer(CUSTOMER).language == "es"
    inbound.receive(sms("START", sid=3))
    assert repository.customer(CUSTOMER).language == "es"
    [granted] = [d for kind, d in outbox_events(repository) if kind == "ConsentGranted"]
    processor.granted(ReceivedEvent.from_detail("ConsentGranted", granted))
    assert twilio.sent[-1]["Body"].startswith("Se ha vuelto a suscribir a los mensajes de Acme Outdoor.")


def test_an_english_text_after_spanish_ones_is_answered_in_english(inbound, repository):
    inbound.receive(sms("Mi pedido llegó roto y nadie contesta", sid=1))
    inbound.receive(sms("Sorry, my English is better: the blender arrived broken", sid=2))
    assert repository.customer(CUSTOMER).language == "en"


def test_a_chinese_opt_out_is_confirmed_in_chinese(inbound, processor, repository, twilio):
    inbound.receive(sms("别再发短信了"))
    assert repository.customer(CUSTOMER).consent == "opted_out"
    [detail] = [d for kind, d in outbox_events(repository) if kind == "ConsentRevoked"]
    processor.revoked(ReceivedEvent.from_detail("ConsentRevoked", detail))
    assert "退订" in twilio.sent[0]["Body"]


def test_a_customer_whose_agent_chose_spanish_is_confirmed_in_spanish_when_they_opt_back_in(
    inbound_answering_every_keyword, processor, desk, repository, twilio
):
    from smsdesk.agent_desk import CustomerChanges

    inbound = inbound_answering_every_keyword
    inbound.receive(sms("My order arrived broken", sid=1))
    desk.update_customer(CUSTOMER, CustomerChanges(language="es"), actor=SUPERVISOR)
    inbound.receive(sms("STOP", sid=2))
    inbound.receive(sms("START", sid=3))  # English keywords: the language an agent chose stays
    [granted] = [d for kind, d in outbox_events(repository) if kind == "ConsentGranted"]
    processor.granted(ReceivedEvent.from_detail("ConsentGranted", granted))
    assert twilio.sent[-1]["Body"].startswith("Se ha vuelto a suscribir a los mensajes de Acme Outdoor.")


def test_an_opt_in_in_spanish_words_is_answered_in_spanish(inbound, processor, repository, twilio):
    inbound.receive(sms("STOP", sid=1))
    inbound.receive(sms("ya pueden escribirme otra vez", sid=2))
    [detail] = [d for kind, d in outbox_events(repository) if kind == "OptInRequested"]
    processor.opt_in_requested(ReceivedEvent.from_detail("OptInRequested", detail))
    assert [m["Body"] for m in twilio.sent] == ["Para volver a recibir mensajes de Acme Outdoor, responda START."]


def test_start_while_a_possible_opt_out_waits_ends_the_wait_and_counts_as_the_customers_decision(
    unsure_inbound, repository, business
):
    from smsdesk.analytics import Counting

    received = unsure_inbound.receive(sms("the replacement part still has not come", sid=1))
    close(repository, received.conversation)  # closed with the possible opt-out still undecided
    unsure_inbound.receive(sms("START", sid=2))
    customer = repository.customer(CUSTOMER)
    assert (customer.consent, customer.consent_hold) == ("subscribed", None)
    [granted] = [d for kind, d in outbox_events(repository) if kind == "ConsentGranted"]
    counts = Counting(business.hours).event("ConsentGranted", granted)  # what the weekly figures add
    assert {(c.group, c.name, c.delta) for c in counts} == {
        ("possible_opt_outs", "by_customer", 1),
        ("possible_opt_outs", "waiting", -1),
    }


def test_help_asked_in_spanish_is_answered_in_spanish(inbound, processor, repository, twilio):
    inbound.receive(sms("AYUDA"))
    [help_requested] = [d for kind, d in outbox_events(repository) if kind == "HelpRequested"]
    processor.help_requested(ReceivedEvent.from_detail("HelpRequested", help_requested))
    assert [m["Body"] for m in twilio.sent] == [
        "Soporte de Acme Outdoor: support@acme.example. Pueden aplicarse tarifas de mensajes y datos. "
        "Responda STOP para darse de baja."
    ]


def test_an_agent_sees_a_first_text_that_opts_out_and_complains_as_opted_out_with_nothing_to_decide(
    inbound, desk, repository
):
    received = inbound.receive(sms("Stop texting me and refund my money, the blender arrived broken"))
    view = agent_views.conversation_detail(desk.read(received.conversation))
    assert (view["consent"], view["consent_hold"]) == ("opted_out", None)
