"""Agents resolve complaints; Scheduler follow-ups check satisfaction and promised reply times."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import boto3
import pytest

from smsdesk.agent_desk import InvalidRequest
from smsdesk.conversations import Status, status_actions
from smsdesk.errors import ConversationNotFound, InvalidTransition
from smsdesk.follow_ups import ScheduledFollowUp
from smsdesk.inbound import InboundOutcome
from smsdesk.repository import UnitOfWork
from smsdesk.send_gateway import SendOutcome
from tests.integration.conftest import ENVIRON, outbox_events, sms


def due_schedules(clock):
    """The schedules Scheduler would fire now (what the local stack does on its clock)."""
    client = boto3.client("scheduler")
    group = ENVIRON["SCHEDULE_GROUP_NAME"]
    due = []
    for listed in client.list_schedules(GroupName=group)["Schedules"]:
        schedule = client.get_schedule(Name=listed["Name"], GroupName=group)
        at = datetime.fromisoformat(schedule["ScheduleExpression"][3:-1]).replace(tzinfo=UTC)
        if at <= clock.now():
            due.append(json.loads(schedule["Target"]["Input"]))
            client.delete_schedule(Name=listed["Name"], GroupName=group)
    return due


def test_the_queue_lists_urgent_first_then_oldest(inbound, desk, clock):
    normal = inbound.receive(sms("My order arrived late", sid=1, sender="+12125550001")).conversation
    clock.advance(timedelta(minutes=5))
    urgent = inbound.receive(sms("I will sue you", sid=2, sender="+12125550002")).conversation
    clock.advance(timedelta(minutes=5))
    newer = inbound.receive(sms("Wrong item delivered", sid=3, sender="+12125550003")).conversation
    page = desk.queue("active")
    assert [c.reference for c in page.conversations] == [urgent, normal, newer]


def test_open_means_not_yet_resolved_and_a_single_status_can_be_asked_for(inbound, desk, responder, twilio):
    acknowledged = inbound.receive(sms("My order arrived late", sid=1, sender="+12125550001")).conversation
    responder.acknowledge(acknowledged)
    unacknowledged = inbound.receive(sms("Wrong item delivered", sid=2, sender="+12125550002")).conversation
    resolved = inbound.receive(sms("The app crashes", sid=3, sender="+12125550003")).conversation
    desk.resolve(resolved, agent="ana")

    assert {c.reference for c in desk.queue("open").conversations} == {acknowledged, unacknowledged}
    assert [c.reference for c in desk.queue("acknowledged").conversations] == [acknowledged]
    assert [c.reference for c in desk.queue("unacknowledged").conversations] == [unacknowledged]
    assert [c.reference for c in desk.queue("resolved").conversations] == [resolved]


def test_the_queue_pages_with_a_cursor(inbound, desk, clock):
    for n in range(5):
        inbound.receive(sms(f"Complaint {n}", sid=n, sender=f"+1212555{n:04d}"))
        clock.advance(timedelta(minutes=1))
    first = desk.queue("active", limit=2)
    second = desk.queue("active", limit=2, cursor=first.cursor)
    third = desk.queue("active", limit=2, cursor=second.cursor)
    seen = [c.reference for c in first.conversations + second.conversations + third.conversations]
    assert len(seen) == 5 == len(set(seen))
    with pytest.raises(InvalidRequest):
        desk.queue("active", cursor="not-a-cursor")


def test_an_agent_reply_is_sent_and_counts_as_the_first_response(inbound, desk, repository, twilio, clock):
    reference = inbound.receive(sms("My order arrived broken")).conversation
    clock.advance(timedelta(minutes=20))
    result = desk.reply(reference, "We are sending a replacement today.", agent="dana", request_id="r1")
    desk.reply(reference, "We are sending a replacement today.", agent="dana", request_id="r1")  # retried
    assert result.send.outcome is SendOutcome.SENT
    assert [m["Body"] for m in twilio.sent] == ["We are sending a replacement today."]
    conversation = repository.conversation(reference)
    assert conversation.status == "waiting_on_customer"
    assert conversation.first_response_at == clock.now()
    view = desk.read(reference)
    assert [m.author for m in view.messages] == ["customer", "agent:dana"]


def test_a_first_reply_racing_a_customer_text_is_still_recorded_and_announced_once(
    inbound, desk, responder, repository, clock
):
    reference = inbound.receive(sms("My order arrived broken", sid=1)).conversation
    responder.acknowledge(reference)
    as_read_before_sending = repository.conversation(reference)
    assert as_read_before_sending.status == "acknowledged"
    clock.advance(timedelta(minutes=20))
    # The status moves while the agent's text goes out (the customer wrote again).
    repository.commit(
        UnitOfWork().update(
            "conversation", as_read_before_sending, status_actions(as_read_before_sending, Status.WAITING_ON_AGENT)
        )
    )
    desk._responded(as_read_before_sending, "dana", clock.now())
    desk._responded(as_read_before_sending, "erin", clock.now())
    assert repository.conversation(reference).first_response_at == clock.now()
    replied = [detail for kind, detail in outbox_events(repository) if kind == "AgentReplied"]
    assert [(r["agent"], r["first_response"]) for r in replied] == [("dana", True)]
    assert replied[0]["opened_at"] == as_read_before_sending.opened_at.isoformat(timespec="milliseconds").replace(
        "+00:00", "Z"
    )


def test_resolve_then_the_survey_arrives_next_day_inside_daytime_and_a_2_reopens(
    inbound, desk, runner, repository, twilio, clock
):
    reference = inbound.receive(sms("My order arrived broken", sid=1)).conversation
    desk.reply(reference, "Replacement sent.", agent="dana")
    clock.set(datetime(2026, 11, 24, 1, 30, tzinfo=UTC))  # Monday 20:30 New York
    desk.resolve(reference, agent="dana", note="replacement shipped")
    clock.advance(timedelta(hours=24))  # Tuesday 20:30: outside the customer's window
    for payload in due_schedules(clock):
        runner.run(ScheduledFollowUp.from_payload(payload))
    assert all("How did we do" not in m["Body"] for m in twilio.sent)  # held, not sent at night
    clock.set(datetime(2026, 11, 25, 13, 0, tzinfo=UTC))  # Wednesday 08:00 New York
    for payload in due_schedules(clock):
        runner.run(ScheduledFollowUp.from_payload(payload))
    survey = twilio.sent[-1]["Body"]
    assert "How did we do? Reply 1 (poor) to 5 (great)." in survey and reference in survey
    received = inbound.receive(sms("2", sid=2))
    assert received.outcome is InboundOutcome.SATISFACTION
    conversation = repository.conversation(reference)
    assert (conversation.csat_score, conversation.status, conversation.priority) == (2, "waiting_on_agent", "urgent")
    assert "low_satisfaction" in conversation.escalation_reasons


def test_a_good_score_closes_the_conversation_and_the_next_text_opens_a_new_one(
    inbound, desk, runner, repository, clock, twilio
):
    reference = inbound.receive(sms("My order arrived broken", sid=1)).conversation
    desk.resolve(reference, agent="dana")
    clock.advance(timedelta(hours=24))
    for payload in due_schedules(clock):
        runner.run(ScheduledFollowUp.from_payload(payload))
    assert inbound.receive(sms("5", sid=2)).outcome is InboundOutcome.SATISFACTION
    assert repository.conversation(reference).status == "closed"
    later = inbound.receive(sms("Another problem", sid=3))
    assert later.outcome is InboundOutcome.NEW_CONVERSATION and later.conversation != reference
    assert ("SatisfactionRecorded", 5) in [(k, d.get("score")) for k, d in outbox_events(repository)]


@pytest.mark.parametrize(
    ("score", "thanks"),
    [
        ("5", "Thank you for your feedback."),
        ("1", "Thank you for telling us. We're sorry we fell short; a member of our team will follow up."),
    ],
)
def test_a_score_is_thanked_once_and_a_low_one_is_promised_a_person(
    inbound, desk, runner, responder, repository, clock, twilio, score, thanks
):
    reference = inbound.receive(sms("My order arrived broken", sid=1)).conversation
    desk.resolve(reference, agent="dana")
    clock.advance(timedelta(hours=24))
    for payload in due_schedules(clock):
        runner.run(ScheduledFollowUp.from_payload(payload))
    inbound.receive(sms(score, sid=2))
    [detail] = [d for kind, d in outbox_events(repository) if kind == "SatisfactionRecorded"]
    for _ in range(2):  # EventBridge may deliver the event twice
        responder.thank_for_score(detail["customer"], detail["conversation"], detail["score"], detail["message_sid"])
    assert [m["Body"] for m in twilio.sent][-1] == thanks
    assert [m["Body"] for m in twilio.sent].count(thanks) == 1


def test_an_opt_out_between_resolve_and_survey_means_no_survey(inbound, desk, runner, repository, clock, twilio):
    reference = inbound.receive(sms("My order arrived broken", sid=1)).conversation
    desk.resolve(reference, agent="dana")
    inbound.receive(sms("STOP", sid=2))
    clock.advance(timedelta(hours=24))
    for payload in due_schedules(clock):  # (the consent function would have cancelled it)
        runner.run(ScheduledFollowUp.from_payload(payload))
    assert all("How did we do" not in m["Body"] for m in twilio.sent)


def test_a_reopened_conversation_gets_no_survey(inbound, desk, runner, repository, clock, twilio):
    reference = inbound.receive(sms("My order arrived broken", sid=1)).conversation
    desk.resolve(reference, agent="dana")
    desk.reopen(reference, agent="dana")
    clock.advance(timedelta(hours=24))
    for payload in due_schedules(clock):
        runner.run(ScheduledFollowUp.from_payload(payload))
    assert all("How did we do" not in m["Body"] for m in twilio.sent)
    assert repository.conversation(reference).status == "waiting_on_agent"


def test_a_missed_promise_flags_the_conversation_and_tells_the_customer_once(
    inbound, responder, runner, repository, twilio, clock
):
    reference = inbound.receive(sms("My order arrived broken", sid=1)).conversation
    responder.acknowledge(reference)
    clock.advance(timedelta(hours=2))  # noon: the promised time
    for payload in due_schedules(clock):
        runner.run(ScheduledFollowUp.from_payload(payload))
    conversation = repository.conversation(reference)
    assert conversation.sla_breached and conversation.priority == "urgent"
    assert "SlaBreached" in [kind for kind, _ in outbox_events(repository)]
    assert "we haven't forgotten you" in twilio.sent[-1]["Body"]


def test_a_missed_promise_is_told_in_the_language_the_customer_writes_in(
    inbound, responder, runner, repository, twilio, clock
):
    reference = inbound.receive(sms("Mi pedido llegó roto y nadie contesta el teléfono", sid=1)).conversation
    responder.acknowledge(reference)
    clock.advance(timedelta(hours=2))
    for payload in due_schedules(clock):
        runner.run(ScheduledFollowUp.from_payload(payload))
    body = twilio.sent[-1]["Body"]
    assert body.startswith("Hola, no le hemos olvidado.") and reference in body


def test_a_kept_promise_changes_nothing(inbound, responder, desk, runner, repository, twilio, clock):
    reference = inbound.receive(sms("My order arrived broken", sid=1)).conversation
    responder.acknowledge(reference)
    desk.reply(reference, "On it.", agent="dana")
    clock.advance(timedelta(hours=2))
    assert [runner.run(ScheduledFollowUp.from_payload(payload)).done for payload in due_schedules(clock)] == [
        "promise kept"
    ]
    assert not repository.conversation(reference).sla_breached
    assert len(twilio.sent) == 2  # the acknowledgement and the agent's reply, nothing more


def test_lifecycle_errors_are_clear(inbound, desk):
    reference = inbound.receive(sms("Broken", sid=1)).conversation
    with pytest.raises(InvalidTransition):
        desk.reopen(reference, agent="dana")
    desk.resolve(reference, agent="dana")
    with pytest.raises(InvalidTransition):
        desk.resolve(reference, agent="dana")
    with pytest.raises(InvalidTransition):
        desk.reply(reference, "Hello", agent="dana")
    with pytest.raises(ConversationNotFound):
        desk.read("C-ZZZZ")
    with pytest.raises(InvalidRequest):
        desk.reply(reference, "   ", agent="dana")
