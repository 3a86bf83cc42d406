"""What a compliance officer reads back: the consent history says why a number was opted out,
and every confirmation smsdesk sent is on record as what it was."""

from __future__ import annotations

from datetime import timedelta

from smsdesk.consent_processing import ConsentProcessor
from smsdesk.events import ReceivedEvent
from smsdesk.inbound import InboundService
from smsdesk.send_gateway import Outbound, Purpose, SendOutcome
from smsdesk.table import Customer, customer_pk
from tests.integration.conftest import CUSTOMER, KEYWORDS, outbox_events, sms


def test_a_carrier_opt_out_is_on_record_with_its_reason(gateway, repository, twilio, clock):
    Customer(
        customer_pk(CUSTOMER), "PROFILE", number=CUSTOMER, created_at=clock.now(), last_inbound_at=clock.now()
    ).save()
    twilio.fail_next(400, 21610, message="Attempt to send to unsubscribed recipient")
    gateway.send(Outbound(to=CUSTOMER, purpose=Purpose.AGENT_REPLY, key="k1", compose=lambda c: "Your refund."))
    [record] = repository.consent_history(CUSTOMER)
    assert (record.action, record.source, record.reason, record.text) == (
        "opt_out",
        "carrier_21610",
        "carrier reported STOP (21610)",
        None,
    )


def test_the_opt_in_confirmation_is_on_record_as_one(repository, clock, gateway, follow_ups, business, twilio):
    inbound = InboundService(repository, clock, auto_reply_keywords=KEYWORDS, twilio_answers_opt_out_keywords=False)
    inbound.receive(sms("STOP", sid=1))
    inbound.receive(sms("START", sid=2))
    granted = [detail for kind, detail in outbox_events(repository) if kind == "ConsentGranted"][-1]
    followed = ConsentProcessor(gateway, follow_ups, business).granted(
        ReceivedEvent.from_detail("ConsentGranted", granted)
    )
    assert (followed.cancelled, followed.send.outcome) == ((), SendOutcome.SENT)
    [sent] = [m for m in repository.customer_messages(CUSTOMER) if m.direction == "outbound"]
    assert (sent.purpose, sent.status, sent.body) == ("opt_in_confirmation", "queued", twilio.sent[0]["Body"])


def test_every_help_text_gets_its_own_answer_and_a_redelivery_none(
    repository, clock, gateway, follow_ups, business, twilio
):
    inbound = InboundService(repository, clock, auto_reply_keywords=KEYWORDS, twilio_answers_opt_out_keywords=False)
    processor = ConsentProcessor(gateway, follow_ups, business)
    for sid in (1, 2):
        clock.advance(timedelta(minutes=1))  # the outbox lists events by time
        inbound.receive(sms("HELP", sid=sid))
        detail = [detail for kind, detail in outbox_events(repository) if kind == "HelpRequested"][-1]
        answers = [
            processor.help_requested(ReceivedEvent.from_detail("HelpRequested", detail)).send for _ in range(2)
        ]  # delivered twice
        assert [a.outcome for a in answers] == [SendOutcome.SENT, SendOutcome.DUPLICATE]
    assert len(twilio.sent) == 2
    assert all("Acme Outdoor" in m["Body"] for m in twilio.sent)


def test_a_re_subscription_is_on_record_and_announced_with_its_evidence(repository, clock, twilio):
    inbound = InboundService(repository, clock, auto_reply_keywords=KEYWORDS)
    conversation = inbound.receive(sms("My order arrived broken", sid=1)).conversation
    inbound.receive(sms("STOP", sid=2))
    clock.advance(timedelta(minutes=7))
    inbound.receive(sms("START", sid=3))
    customer = repository.customer(CUSTOMER)
    assert (customer.consent, customer.consent_changed_at, customer.opt_out_confirmation) == (
        "subscribed",
        clock.now(),
        None,
    )
    opt_in = [r for r in repository.consent_history(CUSTOMER) if r.action == "opt_in"]
    assert [(r.source, r.text, r.message_sid, r.previous) for r in opt_in] == [
        ("keyword", "START", sms("", sid=3).message_sid, "opted_out"),
    ]
    granted = [detail for kind, detail in outbox_events(repository) if kind == "ConsentGranted"]
    assert [{k: v for k, v in d.items() if k not in {"event_id", "occurred_at"}} for d in granted] == [
        {
            "customer": CUSTOMER,
            "conversation": conversation,
            "source": "keyword",
            "keyword": "START",
            "message_sid": sms("", sid=3).message_sid,
            "previous": "opted_out",
            "twilio_answered": True,  # Twilio's default handling answered START: smsdesk will not
        }
    ]


def test_an_opt_out_in_words_is_on_record_with_its_text_and_announced_with_its_evidence(repository, clock, twilio):
    inbound = InboundService(repository, clock, auto_reply_keywords=KEYWORDS)
    conversation = inbound.receive(sms("My order arrived broken", sid=1)).conversation
    inbound.receive(sms("please stop texting me, card 4111 1111 1111 1111", sid=2))
    [record] = repository.consent_history(CUSTOMER)
    assert (record.action, record.source, record.text, record.message_sid) == (
        "opt_out",
        "natural_language",
        "please stop texting me, card [card ending 1111]",
        sms("", sid=2).message_sid,
    )
    [revoked] = [detail for kind, detail in outbox_events(repository) if kind == "ConsentRevoked"]
    assert {k: v for k, v in revoked.items() if k not in {"event_id", "occurred_at"}} == {
        "customer": CUSTOMER,
        "conversation": conversation,
        "source": "natural_language",
        "reason": record.reason,
        "keyword": None,
        "message_sid": sms("", sid=2).message_sid,
        "confirmation": "pending",
    }


def test_two_agents_recording_the_same_customers_opt_out_at_once_both_stay_on_record(
    repository, clock, gateway, follow_ups, business
):
    from smsdesk.agent_desk import AgentDesk
    from smsdesk.agents import Actor, Group

    def supervisor(email: str) -> Actor:
        return Actor(email, frozenset({Group.AGENTS, Group.SUPERVISORS}))

    Customer(customer_pk(CUSTOMER), "PROFILE", number=CUSTOMER, created_at=clock.now()).save()
    desk = AgentDesk(repository, gateway, follow_ups, clock, business)
    desk.record_opt_out(CUSTOMER, actor=supervisor("ana@acme.example"), reason="asked on the phone")
    desk.record_opt_out(CUSTOMER, actor=supervisor("ben@acme.example"), reason="asked by e-mail")  # the same instant
    history = repository.consent_history(CUSTOMER)
    assert sorted(r.reason for r in history) == ["asked by e-mail", "asked on the phone"]
    assert repository.customer(CUSTOMER).consent == "opted_out"


def test_a_first_text_that_is_stop_leaves_the_customer_opted_out_by_keyword(repository, clock, twilio):
    InboundService(repository, clock, auto_reply_keywords=KEYWORDS).receive(sms("STOP", sid=1))
    customer = repository.customer(CUSTOMER)
    assert (customer.consent, customer.consent_source, customer.consent_changed_at) == (
        "opted_out",
        "keyword",
        clock.now(),
    )


def test_the_consent_record_of_a_number_reads_in_the_order_it_happened(repository, clock, twilio):
    # Twilio's MessageSids are not in time order: the record is kept by time.
    inbound = InboundService(repository, clock, auto_reply_keywords=KEYWORDS)
    for text, sid in (("STOP", 9), ("START", 5), ("STOP", 1)):
        inbound.receive(sms(text, sid=sid))
        clock.advance(timedelta(minutes=1))
    history = repository.consent_history(CUSTOMER)
    assert [(r.action, r.message_sid) for r in history] == [
        ("opt_out", f"SM{9:032x}"),
        ("opt_in", f"SM{5:032x}"),
        ("opt_out", f"SM{1:032x}"),
    ]
    assert [r.recorded_at for r in history] == sorted(r.recorded_at for r in history)
