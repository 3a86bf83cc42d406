"""Whatever waits is decided again when it goes: held surveys and apologies against the
conversation as it is then; reopening is a real event (a new promise, a new SLA check); a text
long after resolution is a new case."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from smsdesk.agents import Actor, Group
from smsdesk.follow_ups import ScheduledFollowUp
from smsdesk.inbound import InboundOutcome, InboundService
from tests.integration.conftest import CUSTOMER, KEYWORDS, outbox_events, sms
from tests.integration.test_agent_desk_and_follow_ups import due_schedules

HONOLULU = "+18085550100"

SUPERVISOR = Actor("sam@acme.example", frozenset({Group.AGENTS, Group.SUPERVISORS}))


def fire_due(runner, clock):
    return [runner.run(ScheduledFollowUp.from_payload(payload)) for payload in due_schedules(clock)]


def bodies(twilio):
    return [m["Body"] for m in twilio.sent]


def resolved_at_night_with_the_survey_held(inbound, desk, runner, clock):
    reference = inbound.receive(sms("My order arrived broken", sid=1)).conversation
    clock.set(datetime(2026, 11, 24, 1, 30, tzinfo=UTC))  # Monday 20:30 New York
    desk.resolve(reference, agent="dana")
    clock.advance(timedelta(hours=24))  # Tuesday 20:30: the survey is due, and held for the night
    [survey] = fire_due(runner, clock)
    assert survey.done == "held"
    return reference


def test_a_held_survey_is_dropped_when_the_customer_reopened_the_case_meanwhile(
    inbound, desk, runner, repository, clock, twilio
):
    reference = resolved_at_night_with_the_survey_held(inbound, desk, runner, clock)
    assert inbound.receive(sms("It broke again", sid=2)).outcome is InboundOutcome.ADDED_TO_CONVERSATION
    clock.set(datetime(2026, 11, 25, 13, 0, tzinfo=UTC))  # Wednesday 08:00: the release is due
    [release] = fire_due(runner, clock)
    assert release.done == "dropped: the conversation is no longer resolved"
    assert not any("How did we do" in body for body in bodies(twilio))
    survey = repository.message(f"CONVERSATION#{reference}", "survey-0")
    assert (survey.status, survey.note) == ("refused", "not sent: the conversation is no longer resolved")


def test_a_2_while_the_survey_is_still_held_is_not_a_score(inbound, desk, runner, repository, clock, twilio):
    reference = resolved_at_night_with_the_survey_held(inbound, desk, runner, clock)
    received = inbound.receive(sms("2", sid=2))
    assert received.outcome is InboundOutcome.ADDED_TO_CONVERSATION
    conversation = repository.conversation(reference)
    assert conversation.csat_score is None and conversation.status == "waiting_on_agent"
    assert "SatisfactionRecorded" not in [kind for kind, _ in outbox_events(repository)]


def test_a_score_answering_a_delivered_survey_is_recorded_even_after_an_agent_reopened(
    inbound, desk, runner, repository, clock, twilio
):
    reference = resolved_at_night_with_the_survey_held(inbound, desk, runner, clock)
    clock.set(datetime(2026, 11, 25, 13, 0, tzinfo=UTC))
    [release] = fire_due(runner, clock)
    assert release.done == "released" and "How did we do" in bodies(twilio)[-1]
    assert repository.conversation(reference).survey_sent_at == clock.now()  # when Twilio took it
    desk.reopen(reference, agent="dana")
    clock.advance(timedelta(minutes=5))
    assert inbound.receive(sms("1", sid=2)).outcome is InboundOutcome.SATISFACTION
    conversation = repository.conversation(reference)
    assert (conversation.csat_score, conversation.status, conversation.priority) == (1, "waiting_on_agent", "urgent")
    assert ("SatisfactionRecorded", 1) in [(kind, d.get("score")) for kind, d in outbox_events(repository)]
    # and a second 1-5 text is an ordinary message, not a second score
    assert inbound.receive(sms("5", sid=3)).outcome is InboundOutcome.ADDED_TO_CONVERSATION


def test_a_held_sla_apology_is_dropped_once_the_agent_replied_and_the_reply_goes_out(
    inbound, responder, desk, runner, repository, clock, twilio
):
    # Monday 10:00 New York is 05:00 in Honolulu: the promise (noon New York) falls before 08:00 there.
    reference = inbound.receive(sms("My order arrived broken", sid=1, sender=HONOLULU)).conversation
    responder.acknowledge(reference)
    clock.advance(timedelta(hours=2))  # noon New York, 07:00 Honolulu: the SLA check fires
    [check] = fire_due(runner, clock)
    assert check.done == "breached" and check.send.outcome == "held"
    clock.advance(timedelta(minutes=30))
    reply = desk.reply(reference, "So sorry, a replacement ships today.", agent="dana")
    assert reply.send.outcome == "held"  # the customer has not texted for over an hour: proactive
    clock.set(datetime(2026, 11, 23, 18, 0, tzinfo=UTC))  # 08:00 Honolulu: both releases are due
    fire_due(runner, clock)
    assert bodies(twilio)[1:] == ["So sorry, a replacement ships today."]
    apology = repository.message(f"CONVERSATION#{reference}", "sla-update-0")
    assert apology.status == "refused" and "an agent has replied" in apology.note


def test_a_reopened_conversation_gets_a_new_promise_and_sla_check_and_is_flagged_when_missed(
    inbound, responder, desk, runner, promises, repository, clock, twilio
):
    reference = inbound.receive(sms("My order arrived broken", sid=1)).conversation
    responder.acknowledge(reference)
    desk.reply(reference, "Replacement sent.", agent="dana")
    desk.resolve(reference, agent="dana")
    fire_due(runner, clock)  # nothing is due yet
    clock.set(datetime(2026, 11, 24, 2, 0, tzinfo=UTC))  # Monday 21:00 New York: closed
    assert inbound.receive(sms("The replacement is broken too", sid=2)).outcome is InboundOutcome.ADDED_TO_CONVERSATION
    [reopened] = [d for kind, d in outbox_events(repository) if kind == "ConversationReopened"]
    assert (reopened["by"], reopened["reopened_count"]) == ("customer", 1)

    promise = promises.reopened(reference)
    assert promise == datetime(2026, 11, 24, 14, 0, tzinfo=UTC)  # Tuesday 09:00 New York, the next opening
    conversation = repository.conversation(reference)
    assert conversation.reply_by == promise and conversation.resolved_at is None
    assert promises.reopened(reference) == promise  # a redelivered event changes nothing

    clock.set(promise)
    [check] = fire_due(runner, clock)
    assert check.done == "breached"
    conversation = repository.conversation(reference)
    assert conversation.sla_breached and conversation.priority == "urgent"
    assert [kind for kind, _ in outbox_events(repository)].count("SlaBreached") == 1


def test_an_agent_reply_after_the_reopening_keeps_the_new_promise(
    inbound, responder, desk, runner, promises, repository, clock
):
    reference = inbound.receive(sms("My order arrived broken", sid=1)).conversation
    responder.acknowledge(reference)
    desk.resolve(reference, agent="dana")
    desk.reopen(reference, agent="dana")
    promise = promises.reopened(reference)
    desk.reply(reference, "Looking into it again.", agent="dana")
    clock.set(promise)
    assert [r.done for r in fire_due(runner, clock)] == ["promise kept"]
    assert not repository.conversation(reference).sla_breached


def test_a_text_a_week_after_resolution_opens_a_new_conversation(inbound, desk, repository, clock):
    old = inbound.receive(sms("My order arrived broken", sid=1)).conversation
    desk.resolve(old, agent="dana")
    clock.advance(timedelta(days=7, minutes=1))
    received = inbound.receive(sms("Now my bill is wrong", sid=2))
    assert received.outcome is InboundOutcome.NEW_CONVERSATION and received.conversation != old
    assert repository.conversation(old).status == "closed"
    assert repository.customer(CUSTOMER).open_conversation == received.conversation
    complaints = [d["conversation"] for kind, d in outbox_events(repository) if kind == "ComplaintReceived"]
    assert complaints == [old, received.conversation]  # the new case is acknowledged on its own


def test_the_reopen_window_is_configurable(repository, desk, clock):
    inbound = InboundService(repository, clock, auto_reply_keywords=KEYWORDS, reopen_window=timedelta(days=1))
    old = inbound.receive(sms("My order arrived broken", sid=1)).conversation
    desk.resolve(old, agent="dana")
    clock.advance(timedelta(hours=23))
    assert inbound.receive(sms("Still broken", sid=2)).conversation == old
    desk.resolve(old, agent="dana")
    clock.advance(timedelta(days=1, minutes=1))
    assert inbound.receive(sms("Another thing", sid=3)).conversation != old


def test_a_customer_whose_zone_is_unknown_is_promised_a_time_in_the_business_zone_named(inbound, responder, twilio):
    australian_mobile = "+61412345678"  # anywhere from Perth to Lord Howe Island
    reference = inbound.receive(sms("My order arrived broken", sid=1, sender=australian_mobile)).conversation
    responder.acknowledge(reference)
    assert bodies(twilio)[-1].endswith("A member of our team will reply by 12:00 PM today ET.")
    new_yorker = inbound.receive(sms("My order arrived broken", sid=2)).conversation
    responder.acknowledge(new_yorker)
    assert bodies(twilio)[-1].endswith("A member of our team will reply by 12:00 PM today.")  # their own zone


# ------------------------------------------------------------------------------- agents' rough edges


def test_references_are_case_insensitive_for_agents(inbound, desk, twilio):
    reference = inbound.receive(sms("My order arrived broken", sid=1)).conversation
    assert desk.read(f"  {reference.lower()} ").conversation.reference == reference
    assert desk.reply(reference.lower(), "On it.", agent="dana").send.outcome == "sent"
    assert desk.resolve(reference.lower(), agent="dana").status == "resolved"
    assert desk.reopen(reference.lower(), agent="dana").status == "waiting_on_agent"


@pytest.mark.parametrize("written", ["+12125550199", "(212) 555-0199", "212-555-0199", " 2125550199 "])
def test_an_agent_can_opt_out_a_number_that_never_texted_in_any_usual_format(desk, gateway, repository, written):
    from smsdesk.send_gateway import Outbound, Purpose

    assert desk.record_opt_out(written, actor=SUPERVISOR, reason="asked by e-mail") == "+12125550199"
    customer = repository.customer("+12125550199")
    assert customer.consent == "opted_out"
    [record] = repository.consent_history("+12125550199")
    assert (record.source, record.reason) == ("agent", "asked by e-mail")
    sent = gateway.send(Outbound(to="+12125550199", purpose=Purpose.AGENT_REPLY, key="a1", compose=lambda c: "Hi"))
    assert sent.outcome == "refused"


@pytest.mark.parametrize("written", ["not a number", "123", "+999", ""])
def test_a_malformed_number_is_refused_clearly_and_changes_nothing(desk, repository, written):
    from smsdesk.agent_desk import InvalidRequest

    with pytest.raises(InvalidRequest, match="is not a phone number"):
        desk.record_opt_out(written, actor=SUPERVISOR, reason=None)
    assert list(repository.iterate_table()) == []


def test_the_reply_limit_is_the_gateways_in_segments_with_the_count_in_the_error(inbound, desk, twilio):
    from smsdesk.agent_desk import InvalidRequest

    reference = inbound.receive(sms("My order arrived broken", sid=1)).conversation
    assert desk.reply(reference, "x" * 1530, agent="dana").send.outcome == "sent"  # 10 GSM-7 segments
    with pytest.raises(InvalidRequest, match=r"needs 11 SMS segments \(1531 GSM-7 characters\); at most 10"):
        desk.reply(reference, "x" * 1531, agent="dana")
    with pytest.raises(InvalidRequest, match=r"needs 11 SMS segments \(671 UCS-2"):
        desk.reply(reference, "é" * 600 + "ж" * 71, agent="dana")


def test_a_refused_reply_keeps_its_body_and_says_why(inbound, desk, repository, twilio):
    reference = inbound.receive(sms("My order arrived broken", sid=1)).conversation
    inbound.receive(sms("STOP", sid=2))
    result = desk.reply(reference, "Your refund is on its way.", agent="dana", request_id="r1")
    assert (result.send.outcome, result.send.note) == ("refused", "the customer has opted out")
    stored = repository.message(f"CONVERSATION#{reference}", "agent-r1")
    assert (stored.body, stored.status, stored.note) == (
        "Your refund is on its way.",
        "refused",
        "the customer has opted out",
    )


def test_a_reply_held_for_the_night_goes_before_a_later_one_once_the_customer_writes(
    inbound, desk, repository, clock, twilio
):
    reference = inbound.receive(sms("My order arrived broken", sid=1, sender=HONOLULU)).conversation
    clock.advance(timedelta(hours=2))  # noon New York, 07:00 in Honolulu; the customer wrote 2 h ago
    assert desk.reply(reference, "First: a replacement ships today.", agent="dana").send.outcome == "held"
    clock.advance(timedelta(minutes=10))
    inbound.receive(sms("Hello?", sid=2, sender=HONOLULU))  # the customer writes: replies are not proactive
    assert desk.reply(reference, "Second: here is the tracking number.", agent="dana").send.outcome == "sent"
    assert bodies(twilio) == ["First: a replacement ships today.", "Second: here is the tracking number."]


def test_an_sla_check_that_fires_a_moment_before_the_promise_still_checks_it(
    inbound, responder, runner, repository, clock
):
    # Scheduler's at() has whole seconds: a promise at 12:00:00.500 is checked at 12:00:00.
    clock.advance(timedelta(milliseconds=500))
    reference = inbound.receive(sms("My order arrived broken", sid=1)).conversation
    promise = responder.acknowledge(reference).reply_by
    assert promise.microsecond == 500_000
    clock.set(promise.replace(microsecond=0))
    assert (
        runner.run(
            ScheduledFollowUp.from_payload({"follow_up": "sla_check", "conversation": reference, "round": 0})
        ).done
        == "breached"
    )
