"""What agents do: list their queue, read a conversation, reply, note, assign, resolve, reopen.

Replies go through the send gateway like every other text (consent, redaction, quiet hours for a
customer who has not texted in the last hour). An agent's reply counts as the first response
when the agent sends it, even if quiet hours hold its delivery. Resolving schedules the
satisfaction check; reopening brings the conversation back to the agent queue. Assigning,
resolving and reopening also add an activity entry, and notes an internal note, to the thread
(never sent; agents only), each with who did it: the thread is the conversation's history.
"""

from __future__ import annotations

import contextlib
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from pynamodb.expressions.update import Action

from smsdesk.agents import Actor
from smsdesk.clock import Clock, to_iso
from smsdesk.consent import ConsentEvidence, ConsentSource, opt_out
from smsdesk.conversations import ACTIVE, Queue, Status, reopen, status_actions
from smsdesk.errors import ConcurrentWrite, ConversationNotFound, InvalidTransition
from smsdesk.events import DomainEvent, EventType
from smsdesk.phone_numbers import e164_from_agent
from smsdesk.redaction import redact_card_numbers
from smsdesk.reference_codes import normalise_reference
from smsdesk.repository import ConversationRepository, UnitOfWork, WriteConflict
from smsdesk.send_decision import MAX_SEGMENTS
from smsdesk.send_gateway import Outbound, Purpose, SendGateway, SendOutcome, SendResult
from smsdesk.sms_segments import count_segments
from smsdesk.table import (
    PROFILE,
    Conversation,
    Customer,
    Item,
    Message,
    MessageStatus,
    Priority,
    conversation_pk,
    customer_pk,
    message_sk,
)
from smsdesk.templates import LANGUAGES
from smsdesk.time_zones import is_time_zone

if TYPE_CHECKING:
    from smsdesk.config import BusinessSettings
    from smsdesk.follow_ups import FollowUps

MAX_NOTE_LENGTH = 2000
MAX_EMAIL_LENGTH = 254
PAST_SHOWN = 10  # the customer's other conversations the panel lists
MAX_NAME_LENGTH = 60  # a customer's name as the panel keeps it (the texts shorten it further)
# The console's views of the queue: which queue, and which of its conversations.
INBOX_VIEWS = ("open", "urgent", "mine", "unassigned", "resolved")
INBOX_LIMIT = 100
QUEUE_OF_STATUS = {
    **{str(s): (Queue.ACTIVE, str(s)) for s in ACTIVE},
    # After the single statuses, so that "open" means what agents mean by it: not yet resolved.
    "active": (Queue.ACTIVE, None),
    "open": (Queue.ACTIVE, None),
    "unacknowledged": (Queue.ACTIVE, str(Status.OPEN)),
    "resolved": (Queue.RESOLVED, None),
    "closed": (Queue.CLOSED, None),
}


class InvalidRequest(ValueError):
    """The agent asked for something malformed (a 400)."""


@dataclass(frozen=True, slots=True)
class ConversationView:
    conversation: Conversation
    messages: list[Message]
    customer: Customer | None
    # The customer's other conversations, newest first, for the panel's history (with their CSAT).
    past: list[Conversation] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class ReplyResult:
    send: SendResult
    conversation: str


@dataclass(slots=True)
class Page:
    conversations: list[Conversation] = field(default_factory=list)
    cursor: str | None = None


class AgentDesk:
    def __init__(
        self,
        repository: ConversationRepository,
        gateway: SendGateway,
        follow_ups: FollowUps,
        clock: Clock,
        business: BusinessSettings,
    ) -> None:
        self._repository = repository
        self._gateway = gateway
        self._follow_ups = follow_ups
        self._clock = clock
        self._business = business

    # ------------------------------------------------------------------ reading

    def queue(self, status: str = "active", *, limit: int = 25, cursor: str | None = None) -> Page:
        if status not in QUEUE_OF_STATUS:
            raise InvalidRequest(f"unknown status {status!r}; one of {', '.join(QUEUE_OF_STATUS)}")
        if not 1 <= limit <= 100:
            raise InvalidRequest("limit must be between 1 and 100")
        queue, only = QUEUE_OF_STATUS[status]
        try:
            conversations, next_cursor = self._repository.conversations_in_queue(
                queue, status=only, limit=limit, cursor=cursor
            )
        except ValueError:
            raise InvalidRequest("invalid cursor") from None
        return Page(conversations, next_cursor)

    def read(self, reference: str) -> ConversationView:
        reference = normalise_reference(reference)
        conversation, messages = self._repository.conversation_with_messages(reference)
        if conversation is None:
            raise ConversationNotFound(reference)
        customer = self._repository.customer(conversation.customer)
        others = [r for r in (customer.conversations if customer else None) or [] if r != reference][-PAST_SHOWN:]
        past = sorted(self._repository.conversations(others), key=lambda c: c.opened_at, reverse=True)
        return ConversationView(conversation, messages, customer, past)

    # ------------------------------------------------------------------ acting

    def reply(self, reference: str, text: str, *, agent: str, request_id: str | None = None) -> ReplyResult:
        text = redact_card_numbers((text or "").strip())
        if not text:
            raise InvalidRequest("the reply is empty")
        # The gateway's own limit, in its own unit: what an SMS costs is segments, not characters.
        segments = count_segments(text)
        if segments.segments > MAX_SEGMENTS:
            raise InvalidRequest(
                f"the reply needs {segments.segments} SMS segments ({segments.units} {segments.encoding} "
                f"characters); at most {MAX_SEGMENTS}"
            )
        reference = normalise_reference(reference)
        conversation, messages = self._repository.conversation_with_messages(reference)
        if conversation is None:
            raise ConversationNotFound(reference)
        if conversation.status not in ACTIVE:
            raise InvalidTransition(f"{reference} is {conversation.status}; reopen it to reply")
        now = self._clock.now()
        key = f"agent-{request_id or uuid.uuid4().hex}"
        # Earlier replies still held for the customer's quiet hours go first (decided again now:
        # if the customer has just written, they are no longer proactive), so texts arrive in
        # the order agents wrote them.
        for held in (
            m for m in messages if m.status == MessageStatus.HELD and m.purpose == Purpose.AGENT_REPLY and m.key != key
        ):
            self._gateway.send_held(held.pk, held.key)
        result = self._gateway.send(
            Outbound(
                to=conversation.customer,
                purpose=Purpose.AGENT_REPLY,
                key=key,
                compose=lambda customer: text,
                conversation=reference,
                author=author_label(agent),
            )
        )
        if result.outcome in {SendOutcome.SENT, SendOutcome.HELD}:
            self._responded(conversation, agent, now)
        return ReplyResult(result, reference)

    def _responded(self, conversation: Conversation, agent: str, now: datetime) -> None:
        actions: list[Action] = [Conversation.updated_at.set(now), Conversation.last_agent_reply_at.set(now)]
        if conversation.first_response_at is None:
            actions.append(Conversation.first_response_at.set(now))
        actions += status_actions(conversation, Status.WAITING_ON_CUSTOMER)
        work = UnitOfWork().update(Item.CONVERSATION, conversation, actions, Conversation.status == conversation.status)
        work.publish(_agent_replied(conversation, agent, now))
        try:
            self._repository.commit(work)
        except WriteConflict:
            # The status moved meanwhile (the customer wrote): keep it, record the response
            # (and announce a first one: the analytics count first responses from the event).
            fresh = self._existing(conversation.reference)
            late = [Conversation.last_agent_reply_at.set(now)]
            work, first = UnitOfWork(), None
            if fresh.first_response_at is None:
                late.append(Conversation.first_response_at.set(now))
                work.publish(_agent_replied(fresh, agent, now))
                first = Conversation.first_response_at.does_not_exist()
            work.update(Item.CONVERSATION, fresh, late, first)
            try:
                self._repository.commit(work)
            except WriteConflict:  # another reply was recorded meanwhile (and was the first)
                self._repository.commit(
                    UnitOfWork().update(Item.CONVERSATION, fresh, [Conversation.last_agent_reply_at.set(now)])
                )

    def resolve(self, reference: str, *, agent: str, note: str | None = None) -> Conversation:
        reference = normalise_reference(reference)
        conversation = self._existing(reference)
        if conversation.status not in ACTIVE:
            raise InvalidTransition(f"{reference} is already {conversation.status}")
        now = self._clock.now()
        note = redact_card_numbers(note.strip())[:1000] if note and note.strip() else None
        actions: list[Action] = [
            Conversation.resolved_at.set(now),
            Conversation.updated_at.set(now),
            Conversation.survey_sent_at.remove(),  # the next check is a new one
            *status_actions(conversation, Status.RESOLVED),
        ]
        actions.append(Conversation.resolution_note.set(note) if note else Conversation.resolution_note.remove())
        work = UnitOfWork().update(Item.CONVERSATION, conversation, actions, Conversation.status == conversation.status)
        work.put_new(
            Item.ACTIVITY, activity(conversation, author_label(agent), f"resolved: {note}" if note else "resolved", now)
        )
        work.publish(
            DomainEvent(
                EventType.CONVERSATION_RESOLVED,
                now,
                conversation.customer,
                reference,
                {
                    "agent": agent,
                    "category": conversation.category,
                    "opened_at": to_iso(conversation.opened_at),
                    "note": note,
                },
            )
        )
        self._commit_or_conflict(work, reference)
        self._follow_ups.cancel_sla_check(conversation)  # nothing left to check
        self._follow_ups.satisfaction_survey(conversation, now + self._business.survey_delay)
        return self._existing(reference)

    def reopen(self, reference: str, *, agent: str) -> Conversation:
        reference = normalise_reference(reference)
        conversation = self._existing(reference)
        if conversation.status in ACTIVE:
            raise InvalidTransition(f"{reference} is {conversation.status}, not resolved or closed")
        now = self._clock.now()
        work = UnitOfWork()
        actions: list[Action] = [
            Conversation.updated_at.set(now),
            *reopen(work, conversation, now, by=author_label(agent)),
            *status_actions(conversation, Status.WAITING_ON_AGENT),
        ]
        work.update(Item.CONVERSATION, conversation, actions, Conversation.status == conversation.status)
        customer = Customer(customer_pk(conversation.customer), PROFILE)
        work.update(
            Item.CUSTOMER,
            customer,
            [Customer.open_conversation.set(reference)],
            Customer.open_conversation.does_not_exist() | (Customer.open_conversation == reference),
        )
        work.put_new(Item.ACTIVITY, activity(conversation, author_label(agent), "reopened", now))
        try:
            self._repository.commit(work)
        except WriteConflict as conflict:
            if conflict.on(Item.CUSTOMER):
                raise InvalidTransition("the customer has another open conversation") from None
            raise InvalidTransition(f"{reference} changed meanwhile; try again") from None
        return self._existing(reference)

    def record_opt_out(self, number: str, *, actor: Actor, reason: str | None) -> str:
        """The customer asked an agent (by phone, by e-mail) to stop texting them: any
        well-formed number, E.164 or national, even one that never texted (then it never will
        be). Returns the number as recorded (E.164). Supervisors only: it silences a number for
        good, and only the customer's own START undoes it."""
        actor.require_supervisor("record an opt-out for a customer")
        agent = actor.name
        e164 = e164_from_agent(number)
        if e164 is None:
            raise InvalidRequest(f"{number!r} is not a phone number: give it as +14155550100 or (415) 555-0100")
        now = self._clock.now()
        for _ in range(3):
            customer = self._repository.customer(e164, consistent=True)
            work = UnitOfWork()
            if customer is None:  # never texted: recorded so that nothing is ever sent to it
                customer = Customer(customer_pk(e164), PROFILE, number=e164, created_at=now)
                work.put_new(Item.CUSTOMER, customer)
            evidence = ConsentEvidence(ConsentSource.AGENT, reason or f"recorded by agent {agent}")
            opt_out(work, customer, evidence, now, confirmation_needed=True)
            try:
                self._repository.commit(work)
                return e164
            except (WriteConflict, ConcurrentWrite):
                continue  # the customer texted (or consent changed, or another supervisor acted) meanwhile
        raise InvalidTransition(f"{e164} kept changing; try again")

    def assign(self, reference: str, *, actor: Actor, to: str | None) -> Conversation:
        """Give the conversation to an agent (``to``: their e-mail), or to nobody (None)."""
        assignee = to.strip().lower() if to and to.strip() else None
        if assignee is not None and (len(assignee) > MAX_EMAIL_LENGTH or "@" not in assignee or " " in assignee):
            raise InvalidRequest("assign to an agent's e-mail address")
        conversation = self._existing(reference)
        if conversation.assignee == assignee:
            return conversation  # already so: nothing to record (a retried request)
        now = self._clock.now()
        actions: list[Action] = [Conversation.updated_at.set(now)]
        actions.append(Conversation.assignee.set(assignee) if assignee else Conversation.assignee.remove())
        condition = (
            Conversation.assignee.does_not_exist()
            if conversation.assignee is None
            else Conversation.assignee == conversation.assignee
        )
        work = UnitOfWork().update(Item.CONVERSATION, conversation, actions, condition)
        what = f"assigned to {assignee}" if assignee else "unassigned"
        work.put_new(Item.ACTIVITY, activity(conversation, actor.label, what, now))
        self._commit_or_conflict(work, reference)
        return self._existing(reference)

    def add_note(self, reference: str, text: str, *, actor: Actor, request_id: str | None = None) -> Message:
        """An internal note: in the thread for agents, never sent to the customer."""
        text = redact_card_numbers((text or "").strip())
        if not text:
            raise InvalidRequest("the note is empty")
        if len(text) > MAX_NOTE_LENGTH:
            raise InvalidRequest(f"the note is longer than {MAX_NOTE_LENGTH} characters")
        conversation = self._existing(reference)
        note = activity(conversation, actor.label, text, self._clock.now(), kind="note", key=request_id)
        with contextlib.suppress(WriteConflict):  # the same request again: the note is there once
            self._repository.commit(UnitOfWork().put_new(Item.NOTE, note))
        return note

    def inbox(self, view: str, *, actor: Actor, search: str | None = None) -> list[Conversation]:
        """One of the console's views, newest activity first, optionally searched."""
        if view not in INBOX_VIEWS:
            raise InvalidRequest(f"unknown view {view!r}; one of {', '.join(INBOX_VIEWS)}")
        queue = Queue.RESOLVED if view == "resolved" else Queue.ACTIVE
        conversations, _ = self._repository.conversations_in_queue(
            queue, status=None, limit=INBOX_LIMIT, cursor=None, newest_first=queue is Queue.RESOLVED
        )
        return sorted(
            (c for c in conversations if in_view(c, view, actor) and matches(c, search)),
            key=lambda c: c.updated_at,
            reverse=True,
        )

    def update_customer(self, number: str, changes: CustomerChanges, *, actor: Actor) -> Customer:
        """The customer panel's edit: name, language, time zone (each only when given; an empty
        name or a null clears it). Validated whole before anything is written; recorded with who
        changed it, on the customer and in their open conversation's thread."""
        e164 = e164_from_agent(number)
        customer = self._repository.customer(e164, consistent=True) if e164 else None
        if customer is None:
            raise ConversationNotFound(number)
        actions, said = profile_actions(changes, customer, actor.label)
        if not actions:
            return customer
        now = self._clock.now()
        actions += [Customer.profile_changed_by.set(actor.label), Customer.profile_changed_at.set(now)]
        work = UnitOfWork().update(Item.CUSTOMER, customer, actions)
        conversation = self._repository.conversation(customer.open_conversation) if customer.open_conversation else None
        if conversation is not None:
            work.put_new(Item.ACTIVITY, activity(conversation, actor.label, f"customer details: {said}", now))
        self._repository.commit(work)
        return self._repository.customer(customer.number, consistent=True) or customer

    def clear_possible_opt_out(self, number: str, *, agent: str) -> None:
        """The agent read the text that may have been an opt-out and decided it is not one: texts
        to the number may go again. (Confirming it is :meth:`record_opt_out`.)"""
        customer = self._repository.customer(number, consistent=True)
        if customer is None:
            raise ConversationNotFound(number)
        if not customer.consent_hold:
            raise InvalidTransition("no possible opt-out awaits a decision for this number")
        now = self._clock.now()
        work = UnitOfWork().update(
            Item.CUSTOMER,
            customer,
            [Customer.consent_hold.remove(), Customer.consent_version.add(1)],
            Customer.consent_version == customer.consent_version,
        )
        conversation = (
            self._repository.conversation(customer.open_conversation, consistent=True)
            if customer.open_conversation
            else None
        )
        if conversation is not None and conversation.possible_opt_out:
            work.update(
                Item.CONVERSATION,
                conversation,
                [
                    Conversation.possible_opt_out.set(False),
                    Conversation.auto_reply_note.set(f"Not an opt-out (cleared by agent {agent}); texts may go again."),
                    Conversation.updated_at.set(now),
                ],
            )
        work.publish(
            DomainEvent(
                EventType.POSSIBLE_OPT_OUT_CLEARED, now, customer.number, customer.open_conversation, {"agent": agent}
            )
        )
        try:
            self._repository.commit(work)
        except WriteConflict:
            raise InvalidTransition("the customer's consent changed meanwhile; look again") from None

    # ------------------------------------------------------------------ helpers

    def _existing(self, reference: str) -> Conversation:
        reference = normalise_reference(reference)
        conversation = self._repository.conversation(reference, consistent=True)
        if conversation is None:
            raise ConversationNotFound(reference)
        return conversation

    def _commit_or_conflict(self, work: UnitOfWork, reference: str) -> None:
        try:
            self._repository.commit(work)
        except WriteConflict:
            raise InvalidTransition(f"{reference} changed meanwhile; try again") from None


UNCHANGED = "\0unchanged"


@dataclass(frozen=True, slots=True)
class CustomerChanges:
    """What an agent changes in the customer panel; ``UNCHANGED`` leaves a field as it is."""

    name: str | None = UNCHANGED
    language: str | None = UNCHANGED
    time_zone: str | None = UNCHANGED


def profile_actions(changes: CustomerChanges, customer: Customer, agent: str) -> tuple[list[Action], str]:
    """The updates a panel edit makes and how the thread says it (a field given as it already is
    changes nothing); bad input raises, all or nothing."""
    actions: list[Action] = []
    said: list[str] = []
    if changes.name != UNCHANGED:
        name = redact_card_numbers(" ".join((changes.name or "").split()))
        if len(name) > MAX_NAME_LENGTH:
            raise InvalidRequest(f"the name is longer than {MAX_NAME_LENGTH} characters")
        if any(not ch.isprintable() for ch in name):
            raise InvalidRequest("the name has characters that cannot be shown")
        if name != (customer.name or ""):
            actions.append(Customer.name.set(name) if name else Customer.name.remove())
            said.append(f"name {name!r}" if name else "name cleared")
    if changes.language != UNCHANGED:
        language = (changes.language or "").strip().lower()
        if language and language not in LANGUAGES:
            raise InvalidRequest(f"unsupported language {language!r}; one of {', '.join(sorted(LANGUAGES))}")
        if language and (language != customer.language or not customer.language_chosen_by):
            # chosen: detection no longer changes it
            actions += [Customer.language.set(language), Customer.language_chosen_by.set(agent)]
            said.append(f"language {language}")
        elif not language and customer.language_chosen_by:  # back to detecting it from their texts
            actions.append(Customer.language_chosen_by.remove())
            said.append("language detected from their texts")
    if changes.time_zone != UNCHANGED:
        zone = (changes.time_zone or "").strip()
        if zone and not is_time_zone(zone):
            raise InvalidRequest(f"{zone!r} is not a time zone: use an IANA name like America/New_York")
        if zone != (customer.time_zone or ""):
            actions.append(Customer.time_zone.set(zone) if zone else Customer.time_zone.remove())
            said.append(f"time zone {zone}" if zone else "time zone from their number")
    return actions, ", ".join(said)


def in_view(conversation: Conversation, view: str, actor: Actor) -> bool:
    if view == "urgent":
        return conversation.priority == Priority.URGENT
    if view == "mine":
        return conversation.assignee == actor.name
    if view == "unassigned":
        return conversation.assignee is None
    return True


def matches(conversation: Conversation, search: str | None) -> bool:
    """A search by reference, number or words of the opening text (case-insensitive)."""
    words = (search or "").strip().lower()
    if not words:
        return True
    digits = "".join(ch for ch in words if ch.isdigit())
    haystack = f"{conversation.reference} {conversation.summary} {conversation.category}".lower()
    return words in haystack or (len(digits) >= 4 and digits in conversation.customer)


def activity(
    conversation: Conversation, author: str, text: str, at: datetime, *, kind: str = "activity", key: str | None = None
) -> Message:
    """A thread entry for agents only: an internal note, or who assigned, resolved, reopened."""
    key = f"{kind}-{key or uuid.uuid4().hex}"
    return Message(
        conversation_pk(conversation.reference),
        message_sk(key),
        key=key,
        direction=kind,
        customer=conversation.customer,
        conversation=conversation.reference,
        body=text,
        purpose="internal_note" if kind == "note" else "activity",
        author=author,
        created_at=at,
        updated_at=at,
        status="recorded",
    )


def author_label(agent: str) -> str:
    """How an actor is recorded: ``agent:<e-mail>``; a system's label (``system:<client>``) as is."""
    return agent if agent.startswith("system:") else f"agent:{agent}"


def _agent_replied(conversation: Conversation, agent: str, now: datetime) -> DomainEvent:
    return DomainEvent(
        EventType.AGENT_REPLIED,
        now,
        conversation.customer,
        conversation.reference,
        {
            "agent": agent,
            "first_response": conversation.first_response_at is None,
            # for the analytics: first response time, and whether it kept the promise
            "opened_at": to_iso(conversation.opened_at),
            "reply_by": to_iso(conversation.reply_by) if conversation.reply_by else None,
        },
    )
