"""What a compliance officer reads back: the consent history says why a number was opted out,
and every confirmation smsdesk sent is on record as what it was."""

from __future__ import annotations

from datetime import timedelta

from smsdesk.consent_processing import ConsentProcessor
from smsdesk.inbound import InboundService
from smsdesk.send_gateway import Outbound, Outcome, Purpose
from smsdesk.table import Customer, customer_pk
from tests.integration.conftest import CUSTOMER, outbox_events
from tests.integration.test_inbound import KEYWORDS, sms


def test_a_carrier_opt_out_is_on_record_with_its_reason(gateway, repository, twilio, clock):
    Customer(customer_pk(CUSTOMER), "PROFILE", number=CUSTOMER, created_at=clock.now(), last_inbound_at=clock.now()).save()
    twilio.fail_next(400, 21610, message="Attempt to send to unsubscribed recipient")
    gateway.send(Outbound(to=CUSTOMER, purpose=Purpose.AGENT_REPLY, key="k1", compose=lambda c: "Your refund."))
    [record] = repository.consent_history(CUSTOMER)
    assert (record.action, record.source, record.reason, record.text) == (
        "opt_out", "carrier_21610", "carrier reported STOP (21610)", None,
    )


def test_the_opt_in_confirmation_is_on_record_as_one(repository, clock, gateway, follow_ups, business, twilio):
    inbound = InboundService(repository, clock, auto_reply_keywords=KEYWORDS)
    inbound.receive(sms("STOP", sid=1))
    inbound.receive(sms("START", sid=2))
    granted = [detail for kind, detail in outbox_events(repository) if kind == "ConsentGranted"][-1]
    followed = ConsentProcessor(gateway, follow_ups, business).granted(CUSTOMER, granted)
    assert (followed.cancelled, followed.send.outcome) == ((), Outcome.SENT)
    [sent] = [m for m in repository.customer_messages(CUSTOMER) if m.direction == "outbound"]
    assert (sent.purpose, sent.status, sent.body) == ("opt_in_confirmation", "queued", twilio.sent[0]["Body"])


def test_every_help_text_gets_its_own_answer_and_a_redelivery_none(repository, clock, gateway, follow_ups, business, twilio):
    inbound = InboundService(repository, clock, auto_reply_keywords=KEYWORDS)
    processor = ConsentProcessor(gateway, follow_ups, business)
    for sid in (1, 2):
        inbound.receive(sms("HELP", sid=sid))
        detail = [detail for kind, detail in outbox_events(repository) if kind == "HelpRequested"][-1]
        answers = [processor.help_requested(CUSTOMER, detail).send for _ in range(2)]  # delivered twice
        assert [a.outcome for a in answers] == [Outcome.SENT, Outcome.DUPLICATE]
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
        "subscribed", clock.now(), None,
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
        }
    ]
