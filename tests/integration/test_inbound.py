"""Receiving texts: what is stored, what is announced, and what duplicates change (nothing)."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from smsdesk.inbound import InboundOutcome
from smsdesk.table import ConsentRecord, Conversation, Message
from tests.integration.conftest import CUSTOMER, outbox_events, sms
from tests.support.aws_faults import linearizable_moto


def test_a_complaint_opens_a_conversation_with_a_reference_and_announces_it(inbound, repository):
    received = inbound.receive(sms("My order 4432 arrived broken and nobody answers the phone"))
    assert received.outcome is InboundOutcome.NEW_CONVERSATION
    conversation, messages = repository.conversation_with_messages(received.conversation)
    assert conversation.status == "open" and conversation.customer == CUSTOMER
    assert conversation.category == "order"
    assert [m.body for m in messages] == ["My order 4432 arrived broken and nobody answers the phone"]
    assert repository.customer(CUSTOMER).open_conversation == received.conversation
    [(kind, detail)] = outbox_events(repository)
    assert kind == "ComplaintReceived"
    assert detail["conversation"] == received.conversation and detail["customer"] == CUSTOMER


def test_a_second_text_joins_the_open_conversation(inbound, repository, clock):
    first = inbound.receive(sms("My order arrived broken", sid=1))
    clock.advance(timedelta(minutes=3))
    second = inbound.receive(sms("It was order 4432", sid=2))
    assert second.outcome is InboundOutcome.ADDED_TO_CONVERSATION and second.conversation == first.conversation
    _, messages = repository.conversation_with_messages(first.conversation)
    assert [m.body for m in messages] == ["My order arrived broken", "It was order 4432"]
    assert [kind for kind, _ in outbox_events(repository)] == ["ComplaintReceived", "CustomerMessageReceived"]


def test_a_duplicate_delivery_changes_nothing(inbound, repository):
    inbound.receive(sms("My order arrived broken", sid=7))
    items_before = sorted((i.pk, i.sk) for i in repository.iterate_table())
    again = inbound.receive(sms("My order arrived broken", sid=7))
    assert again.outcome is InboundOutcome.DUPLICATE
    assert sorted((i.pk, i.sk) for i in repository.iterate_table()) == items_before


def test_concurrent_duplicates_store_one_message_and_one_event(inbound, repository, monkeypatch):
    # moto applies a request in steps (a failed transaction restores an old snapshot of the table,
    # undoing a concurrent commit); DynamoDB applies each atomically. The races between requests
    # (a read, then a conditional write) stay real.
    linearizable_moto(monkeypatch)
    outcomes = []
    barrier = threading.Barrier(4)

    def deliver():
        barrier.wait()
        outcomes.append(inbound.receive(sms("My order arrived broken", sid=9)).outcome)

    threads = [threading.Thread(target=deliver) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes).count(InboundOutcome.NEW_CONVERSATION) == 1
    conversations = [i for i in repository.iterate_table() if isinstance(i, Conversation)]
    messages = [i for i in repository.iterate_table() if isinstance(i, Message)]
    assert len(conversations) == 1 and len(messages) == 1
    assert [kind for kind, _ in outbox_events(repository)] == ["ComplaintReceived"]


@pytest.mark.parametrize(
    "card",
    ["4111 1111 1111 1111", "4111.1111.1111.1111", "4111  1111\n1111\u00a01111", "4111\u20131111\u20131111\u20131111"],
)
def test_card_numbers_are_redacted_before_anything_is_stored_or_announced(inbound, repository, card):
    received = inbound.receive(sms(f"You charged my card {card} twice"))
    _, [message] = repository.conversation_with_messages(received.conversation)
    assert message.body == "You charged my card [card ending 1111] twice"
    stored = " ".join(str(i.attribute_values) for i in repository.iterate_table())
    assert card not in stored and "4111111111111111" not in stored and "[card ending 1111]" in stored


def test_stop_opts_out_before_returning_with_evidence(inbound, repository):
    received = inbound.receive(sms("STOP", sid=3))
    assert received.outcome is InboundOutcome.OPTED_OUT
    customer = repository.customer(CUSTOMER)
    assert customer.consent == "opted_out"
    # Twilio answers its own STOP: smsdesk will not send a second confirmation
    assert customer.opt_out_confirmation == "not_needed"
    [record] = repository.consent_history(CUSTOMER)
    assert (record.action, record.source, record.message_sid) == ("opt_out", "keyword", f"SM{3:032x}")
    assert [kind for kind, _ in outbox_events(repository)] == ["ConsentRevoked"]
    assert not [i for i in repository.iterate_table() if isinstance(i, Conversation)]


def test_a_natural_language_opt_out_needs_smsdesks_own_confirmation(inbound, repository):
    inbound.receive(sms("please stop texting me, too many messages", sid=4))
    customer = repository.customer(CUSTOMER)
    assert (customer.consent, customer.opt_out_confirmation) == ("opted_out", "pending")
    [record] = repository.consent_history(CUSTOMER)
    assert (record.source, record.reason) == ("natural_language", "too many messages")


def test_twilio_opt_out_type_wins(inbound, repository):
    inbound.receive(sms("arret", sid=5, opt_out_type="STOP"))
    [record] = repository.consent_history(CUSTOMER)
    assert record.source == "twilio_opt_out_type"
    assert repository.customer(CUSTOMER).opt_out_confirmation == "not_needed"


def test_start_restores_consent_with_evidence(inbound, repository):
    inbound.receive(sms("STOP", sid=1))
    received = inbound.receive(sms("START", sid=2))
    assert received.outcome is InboundOutcome.OPTED_IN
    assert repository.customer(CUSTOMER).consent == "subscribed"
    assert [r.action for r in sorted(repository.consent_history(CUSTOMER), key=lambda r: r.sk)] == ["opt_out", "opt_in"]


def test_only_an_explicit_keyword_resubscribes_a_request_in_words_is_kept_on_record(inbound, repository):
    inbound.receive(sms("STOP", sid=1))
    received = inbound.receive(sms("please opt me back in", sid=2))
    assert received.outcome is InboundOutcome.OPT_IN_REQUESTED
    assert repository.customer(CUSTOMER).consent == "opted_out"
    assert [r.action for r in repository.consent_history(CUSTOMER)] == ["opt_out"]
    assert [m.purpose for m in repository.customer_messages(CUSTOMER)] == ["opt_out", "opt_in_request"]
    assert "ConsentGranted" not in [kind for kind, _ in outbox_events(repository)]
    assert inbound.receive(sms("UNSTOP", sid=3)).outcome is InboundOutcome.OPTED_IN


def test_an_opted_out_customers_complaint_is_kept_for_agents_with_the_reason(inbound, repository):
    inbound.receive(sms("STOP", sid=1))
    received = inbound.receive(sms("My refund never arrived", sid=2))
    assert received.outcome is InboundOutcome.NEW_CONVERSATION
    conversation = repository.conversation(received.conversation)
    assert "opted out" in conversation.auto_reply_note


def test_help_is_recorded_on_the_customer_and_announced(inbound, repository):
    received = inbound.receive(sms("HELP", sid=1))
    assert received.outcome is InboundOutcome.HELP
    assert [kind for kind, _ in outbox_events(repository)] == ["HelpRequested"]
    assert [m.purpose for m in repository.customer_messages(CUSTOMER)] == ["help"]


def test_a_keyword_is_answered_without_touching_the_complaint(inbound, repository):
    opened = inbound.receive(sms("My order arrived broken", sid=1))
    before = repository.conversation(opened.conversation).status
    received = inbound.receive(sms("refund", sid=2))
    assert received.outcome is InboundOutcome.KEYWORD and received.conversation == opened.conversation
    assert repository.conversation(opened.conversation).status == before
    assert sorted(kind for kind, _ in outbox_events(repository)) == ["ComplaintReceived", "KeywordReceived"]


def test_legal_threats_are_urgent_and_escalated(inbound, repository):
    received = inbound.receive(sms("I'm calling my attorney about this", sid=1))
    conversation = repository.conversation(received.conversation)
    assert conversation.priority == "urgent" and "legal" in conversation.escalation_reasons
    assert sorted(kind for kind, _ in outbox_events(repository)) == ["ComplaintReceived", "ConversationEscalated"]


def test_a_second_complaint_within_30_days_is_recorded_as_a_repeat(inbound, repository, clock):
    first = inbound.receive(sms("My order arrived broken", sid=1))
    conversation = repository.conversation(first.conversation)
    # close the first conversation the way a 5-star survey reply would
    conversation.update(actions=[Conversation.status.set("closed")])
    clock.advance(timedelta(days=10))
    second = inbound.receive(sms("Another order arrived broken", sid=2))
    assert second.conversation != first.conversation
    repeat = repository.conversation(second.conversation)
    # Recorded as a repeat; urgent from the third within 30 days (test_reading_customers).
    assert repeat.repeat_complaint and repeat.priority == "normal" and "repeat" not in repeat.escalation_reasons


def test_an_empty_text_with_a_photo_opens_a_conversation(inbound, repository):
    received = inbound.receive(sms("", sid=1, num_media=1))
    conversation = repository.conversation(received.conversation)
    assert conversation.summary == "(1 attachment, no text)"


def test_the_reference_is_short_and_unambiguous(inbound, repository):
    received = inbound.receive(sms("Broken", sid=1))
    reference = received.conversation
    assert reference.startswith("C-") and len(reference) == 6
    assert not set(reference[2:]) & set("01OIL")


def test_consent_records_are_append_only(inbound, repository):
    for sid, text in enumerate(["STOP", "START", "STOP"], start=1):
        inbound.receive(sms(text, sid=sid))
    history = repository.consent_history(CUSTOMER)
    assert len(history) == 3
    assert all(isinstance(r, ConsentRecord) for r in history)
