"""The conversation lifecycle.

::

    open ──ack──▶ acknowledged ──customer──▶ waiting_on_agent ◀──customer── waiting_on_customer
      │                │                          │     ▲                         ▲
      └────────────────┴──────agent reply─────────┴─────┼─────────────────────────┘
                                                        │ reopen / customer writes / score 1-2
                       resolve (any open status) ──▶ resolved ──score 3-5 / 7 days──▶ closed

A conversation is *open* for the customer (their texts go to it) until it is closed, or until
it has been resolved for longer than the reopen window (7 days by default): a text after that
starts a new conversation, with a new reference and its own acknowledgement. Reopening (the
customer writes, an agent reopens, a score of 1-2) restarts the wait for an agent: a new reply-by
promise and SLA check follow on ``ConversationReopened``. Each change
is a conditional update on the status it was decided from, so two changes decided on the same
old state cannot both apply. Urgent conversations (legal threat, safety, extreme anger, a repeat
complaint within 30 days, a low satisfaction score) list first.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING

from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action

from smsdesk.clock import to_iso
from smsdesk.events import DomainEvent, EventType
from smsdesk.repository import UnitOfWork
from smsdesk.table import CONVERSATION_SK, Conversation, Customer, Item, Priority, conversation_pk, queue_pk

if TYPE_CHECKING:
    from smsdesk.classification import Classification

REPEAT_WINDOW = timedelta(days=30)
KEPT_CONVERSATIONS = 50  # the references a customer keeps, for the console's history
OPTED_OUT_NOTE = "No automatic replies: the customer has opted out of texts."
REOPEN_WINDOW = timedelta(days=7)  # default: a text later than this after resolution is a new case
SUMMARY_LENGTH = 160


class Status(StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    WAITING_ON_AGENT = "waiting_on_agent"
    WAITING_ON_CUSTOMER = "waiting_on_customer"
    RESOLVED = "resolved"
    CLOSED = "closed"


ACTIVE = {Status.OPEN, Status.ACKNOWLEDGED, Status.WAITING_ON_AGENT, Status.WAITING_ON_CUSTOMER}
PRIORITY_RANK: dict[str, str] = {Priority.URGENT: "0", Priority.NORMAL: "1"}


class Queue(StrEnum):
    """The by-queue index partitions: where an agent looks."""

    ACTIVE = "active"  # open, acknowledged, waiting on agent or customer
    RESOLVED = "resolved"
    CLOSED = "closed"


def queue_of(status: str) -> Queue:
    if status == Status.RESOLVED:
        return Queue.RESOLVED
    if status == Status.CLOSED:
        return Queue.CLOSED
    return Queue.ACTIVE


def queue_keys(status: str, priority: str, opened_at: datetime, reference: str) -> tuple[str, str]:
    """The by-queue index keys: the status's queue; urgent first, then oldest first."""
    return (
        queue_pk(queue_of(status)),
        f"{PRIORITY_RANK.get(priority, '1')}#{to_iso(opened_at)}#{reference}",
    )


def summary_of(text: str, num_media: int) -> str:
    if text:
        return text if len(text) <= SUMMARY_LENGTH else text[: SUMMARY_LENGTH - 3] + "..."
    if num_media == 0:
        return "(an empty message)"
    return f"({num_media} attachment{'s' if num_media != 1 else ''}, no text)"


def new_conversation(
    reference: str,
    *,
    customer: str,
    classification: Classification,
    summary: str,
    now: datetime,
    repeat: bool,
    opted_out: bool,
    repeat_urgent: bool = False,
    note: str | None = None,
    possible_opt_out: bool = False,
) -> Conversation:
    """``repeat``: another complaint opened within 30 days (recorded); ``repeat_urgent``: this is
    at least the third (urgent, reason "repeat")."""
    reasons = [str(r) for r in classification.escalation_reasons]
    if repeat_urgent and "repeat" not in reasons:
        reasons.append("repeat")
    priority = Priority.URGENT if reasons else Priority.NORMAL
    gsi1pk, gsi1sk = queue_keys(Status.OPEN, priority, now, reference)
    return Conversation(
        conversation_pk(reference),
        CONVERSATION_SK,
        reference=reference,
        customer=customer,
        status=str(Status.OPEN),
        priority=priority,
        category=str(classification.category),
        escalation_reasons=reasons,
        summary=summary,
        opened_at=now,
        updated_at=now,
        last_customer_message_at=now,
        repeat_complaint=repeat,
        auto_reply_note=note or (OPTED_OUT_NOTE if opted_out else None),
        possible_opt_out=possible_opt_out,
        gsi1pk=gsi1pk,
        gsi1sk=gsi1sk,
    )


def status_actions(conversation: Conversation, status: Status, *, priority: str | None = None) -> list[Action]:
    """Set the status (and priority), keeping the by-status index keys in step."""
    priority = priority or conversation.priority
    gsi1pk, gsi1sk = queue_keys(status, priority, conversation.opened_at, conversation.reference)
    actions: list[Action] = [
        Conversation.status.set(str(status)),
        Conversation.gsi1pk.set(gsi1pk),
        Conversation.gsi1sk.set(gsi1sk),
    ]
    if priority != conversation.priority:
        actions.append(Conversation.priority.set(priority))
    return actions


def _unchanged(conversation: Conversation) -> Condition:
    return Conversation.status == conversation.status


def customer_wrote(
    work: UnitOfWork,
    conversation: Conversation,
    classification: Classification,
    now: datetime,
    *,
    opted_out: bool,
    note: str | None = None,
    possible_opt_out: bool = False,
) -> None:
    """The customer texted again into their open conversation."""
    status = Status(conversation.status)
    new_reasons = [str(r) for r in classification.escalation_reasons if str(r) not in conversation.escalation_reasons]
    priority = Priority.URGENT if new_reasons or conversation.priority == Priority.URGENT else Priority.NORMAL
    target = Status.OPEN if status is Status.OPEN else Status.WAITING_ON_AGENT
    actions: list[Action] = [
        Conversation.last_customer_message_at.set(now),
        Conversation.updated_at.set(now),
        *status_actions(conversation, target, priority=priority),
    ]
    if new_reasons:
        actions.append(Conversation.escalation_reasons.set([*conversation.escalation_reasons, *new_reasons]))
    if note:
        actions.append(Conversation.auto_reply_note.set(note))
    elif opted_out and not conversation.auto_reply_note:
        actions.append(Conversation.auto_reply_note.set(OPTED_OUT_NOTE))
    if possible_opt_out:
        actions.append(Conversation.possible_opt_out.set(True))
    if status is Status.RESOLVED:
        actions += reopen(work, conversation, now, by="customer")
    if new_reasons:
        work.publish(
            DomainEvent(
                EventType.CONVERSATION_ESCALATED,
                now,
                conversation.customer,
                conversation.reference,
                {"reasons": new_reasons, "category": conversation.category},
            )
        )
    work.update(Item.CONVERSATION, conversation, actions, _unchanged(conversation))


def acknowledged(work: UnitOfWork, conversation: Conversation, reply_by: datetime, now: datetime) -> None:
    """The acknowledgement went out: record the promise (committed with the sent message, so it
    carries no condition that a concurrent text could fail; the status move is separate)."""
    work.update(
        Item.CONVERSATION,
        conversation,
        [
            Conversation.acknowledged_at.set(now),
            Conversation.reply_by.set(reply_by),
            Conversation.updated_at.set(now),
        ],
    )
    work.publish(
        DomainEvent(
            EventType.CONVERSATION_ACKNOWLEDGED,
            now,
            conversation.customer,
            conversation.reference,
            {"reply_by": to_iso(reply_by)},
        )
    )


def reopen(work: UnitOfWork, conversation: Conversation, now: datetime, *, by: str, **detail: object) -> list[Action]:
    """The actions that reopen a resolved (or closed) conversation, and its ``ConversationReopened``
    (which gets it a new reply-by promise and SLA check). The caller sets the new status."""
    work.publish(
        DomainEvent(
            EventType.CONVERSATION_REOPENED,
            now,
            conversation.customer,
            conversation.reference,
            {
                "by": by,
                "reopened_count": conversation.reopened_count + 1,
                **detail,
                # the resolution it undoes: the analytics take it back (a reopen extends the
                # resolution time, docs/metrics.md)
                "opened_at": to_iso(conversation.opened_at),
                "resolved_at": to_iso(conversation.resolved_at) if conversation.resolved_at else None,
            },
        )
    )
    return [
        Conversation.reopened_count.add(1),
        Conversation.reopened_at.set(now),
        Conversation.sla_breached.set(False),
        Conversation.resolved_at.remove(),
        Conversation.closed_at.remove(),
    ]


def open_for_customer(conversation: Conversation | None, now: datetime, reopen_window: timedelta) -> bool:
    """Whether the customer's next text belongs to this conversation (else it opens a new one)."""
    if conversation is None or conversation.status == Status.CLOSED:
        return False
    if conversation.status == Status.RESOLVED and conversation.resolved_at is not None:
        return now - conversation.resolved_at <= reopen_window
    return True


def waiting_since(conversation: Conversation) -> datetime:
    """Since when the customer has been waiting for an agent: opening, or the last reopening."""
    return conversation.reopened_at or conversation.opened_at


def agent_owes_a_reply(conversation: Conversation) -> bool:
    """Active, and no agent has replied since the customer started waiting."""
    if conversation.status not in ACTIVE:
        return False
    replied = conversation.last_agent_reply_at or conversation.first_response_at
    return replied is None or replied < waiting_since(conversation)


def awaits_a_score(conversation: Conversation | None, now: datetime, window: timedelta = REOPEN_WINDOW) -> bool:
    """Whether a 1-5 text from the customer answers this conversation's satisfaction check: one
    that Twilio took (a survey still held does not count), not answered yet, within the window.
    Whatever happened meanwhile (an agent reopened the case) does not matter."""
    if conversation is None or conversation.survey_sent_at is None:
        return False
    answered = conversation.survey_answered_at
    if answered is not None and answered >= conversation.survey_sent_at:
        return False
    return now - conversation.survey_sent_at <= window


def record_satisfaction(
    work: UnitOfWork, customer: Customer, conversation: Conversation, score: int, now: datetime, message_sid: str
) -> None:
    """A 1-5 reply to a delivered satisfaction check, always recorded. 1-2 put the conversation
    back in front of a human, urgently (reopening it if it was still resolved); 3-5 close it if it
    was still resolved, and leave a conversation reopened meanwhile as it is.
    ``SatisfactionRecorded`` (with the reply's MessageSid) gets the customer a thank-you."""
    actions: list[Action] = [
        Conversation.csat_score.set(score),
        Conversation.survey_answered_at.set(now),
        Conversation.updated_at.set(now),
    ]
    resolved = conversation.status == Status.RESOLVED
    if score <= 2:
        reasons = [*conversation.escalation_reasons, "low_satisfaction"]
        actions += status_actions(conversation, Status.WAITING_ON_AGENT, priority=Priority.URGENT)
        actions.append(Conversation.escalation_reasons.set(reasons))
        if resolved:
            actions += reopen(work, conversation, now, by="satisfaction", score=score)
        work.publish(
            DomainEvent(
                EventType.CONVERSATION_ESCALATED,
                now,
                conversation.customer,
                conversation.reference,
                {"reasons": ["low_satisfaction"], "category": conversation.category},
            )
        )
    elif resolved:
        actions += status_actions(conversation, Status.CLOSED)
        actions.append(Conversation.closed_at.set(now))
        work.update(
            Item.CUSTOMER,
            customer,
            [Customer.open_conversation.remove()],
            Customer.open_conversation == conversation.reference,
        )
    # As when the reply was read: a second answer (or one racing it) is not a score.
    unanswered = (
        Conversation.survey_answered_at.does_not_exist()
        if conversation.survey_answered_at is None
        else Conversation.survey_answered_at == conversation.survey_answered_at
    )
    work.update(Item.CONVERSATION, conversation, actions, _unchanged(conversation) & unanswered)
    work.publish(
        DomainEvent(
            EventType.SATISFACTION_RECORDED,
            now,
            conversation.customer,
            conversation.reference,
            {"score": score, "category": conversation.category, "message_sid": message_sid},
        )
    )


def close_for_good(work: UnitOfWork, conversation: Conversation, now: datetime) -> None:
    """A conversation resolved longer ago than the reopen window, closed as the customer's next
    text opens a new one."""
    actions: list[Action] = [Conversation.closed_at.set(now), Conversation.updated_at.set(now)]
    actions += status_actions(conversation, Status.CLOSED)
    work.update("old conversation", conversation, actions, _unchanged(conversation))
