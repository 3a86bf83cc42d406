"""Follow-ups when they fire (the follow-up function): everything is read again first.

* the **SLA check**, at the reply-by time promised: if no agent has replied since the customer
  started waiting, the conversation is flagged breached (urgent), ``SlaBreached`` is published,
  and the customer gets one short "we haven't forgotten you";
* the **satisfaction check**, after a resolution that still stands: "How did we do? Reply 1-5";
* the **release of a held text**, after any text held earlier in the same thread, only if it still
  means something (:func:`still_wanted`); the send gateway decides consent and quiet hours again.

Above the gateway (it sends through it); scheduling is in :mod:`smsdesk.follow_ups`, below it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from smsdesk import templates
from smsdesk.clock import Clock, to_iso
from smsdesk.conversations import ACTIVE, Status, agent_owes_a_reply, status_actions, waiting_since
from smsdesk.events import DomainEvent, EventType
from smsdesk.follow_ups import FollowUpKind, ScheduledFollowUp
from smsdesk.repository import ConversationRepository, UnitOfWork, WriteConflict
from smsdesk.send_gateway import Outbound, Purpose, SendGateway, SendOutcome, SendResult
from smsdesk.table import Conversation, Item, Message, MessageStatus, Priority, thread_owner

if TYPE_CHECKING:
    from smsdesk.config import BusinessSettings

# at() has whole seconds, so a schedule may fire up to a second before the instant it was set
# for; a later promise (a reopening) is hours away, never within this.
SCHEDULE_SLACK = timedelta(minutes=1)


@dataclass(frozen=True, slots=True)
class FollowUpResult:
    follow_up: FollowUpKind
    done: str  # what happened, in words
    send: SendResult | None = None


class FollowUpRunner:
    """What a schedule does when it fires."""

    def __init__(
        self,
        repository: ConversationRepository,
        gateway: SendGateway,
        clock: Clock,
        business: BusinessSettings,
    ) -> None:
        self._repository = repository
        self._gateway = gateway
        self._clock = clock
        self._business = business

    def run(self, follow_up: ScheduledFollowUp) -> FollowUpResult:
        if follow_up.kind is FollowUpKind.SLA_CHECK:
            assert follow_up.conversation is not None  # ScheduledFollowUp.from_payload checks
            return self._sla_check(follow_up.conversation, follow_up.round)
        if follow_up.kind is FollowUpKind.SATISFACTION_SURVEY:
            assert follow_up.conversation is not None
            return self._survey(follow_up.conversation, follow_up.round)
        assert follow_up.thread is not None and follow_up.key is not None
        return self._release(follow_up.thread, follow_up.key)

    def _sla_check(self, reference: str, round_: int | None) -> FollowUpResult:
        conversation = self._repository.conversation(reference, consistent=True)
        now = self._clock.now()
        if conversation is None or (round_ is not None and round_ != conversation.reopened_count):
            return FollowUpResult(FollowUpKind.SLA_CHECK, "superseded by a later promise")
        if conversation.reply_by is not None and conversation.reply_by - now > SCHEDULE_SLACK:
            return FollowUpResult(FollowUpKind.SLA_CHECK, "the promise is not due yet")
        if conversation.status not in ACTIVE:
            return FollowUpResult(FollowUpKind.SLA_CHECK, "conversation no longer waiting")
        if not agent_owes_a_reply(conversation) or conversation.sla_breached:
            return FollowUpResult(FollowUpKind.SLA_CHECK, "promise kept")
        replied = conversation.last_agent_reply_at
        work = UnitOfWork().update(
            Item.CONVERSATION,
            conversation,
            [
                Conversation.sla_breached.set(True),
                Conversation.updated_at.set(now),
                *status_actions(conversation, Status(conversation.status), priority=Priority.URGENT),
            ],
            (Conversation.sla_breached == False)  # noqa: E712
            & (Conversation.reopened_count == conversation.reopened_count)
            & (
                Conversation.last_agent_reply_at.does_not_exist()
                if replied is None
                else Conversation.last_agent_reply_at == replied
            ),
        )
        work.publish(
            DomainEvent(
                EventType.SLA_BREACHED,
                now,
                conversation.customer,
                reference,
                {
                    "reply_by": to_iso(conversation.reply_by) if conversation.reply_by else None,
                    "waiting_since": to_iso(waiting_since(conversation)),
                    "category": conversation.category,
                },
            )
        )
        try:
            self._repository.commit(work)
        except WriteConflict:
            return FollowUpResult(FollowUpKind.SLA_CHECK, "answered meanwhile")
        result = self._gateway.send(
            Outbound(
                to=conversation.customer,
                purpose=Purpose.SLA_UPDATE,
                key=sla_update_key(conversation.reopened_count),
                conversation=reference,
                compose=lambda customer: templates.sla_update(
                    name=customer.name, reference=reference, language=templates.language_of(customer.language)
                ),
            )
        )
        return FollowUpResult(FollowUpKind.SLA_CHECK, "breached", result)

    def _survey(self, reference: str, round_: int | None) -> FollowUpResult:
        conversation = self._repository.conversation(reference, consistent=True)
        if conversation is None or conversation.status != Status.RESOLVED:
            return FollowUpResult(FollowUpKind.SATISFACTION_SURVEY, "conversation is no longer resolved")
        if round_ is not None and round_ != conversation.reopened_count:
            return FollowUpResult(FollowUpKind.SATISFACTION_SURVEY, "superseded by a later resolution")
        result = self._gateway.send(
            Outbound(
                to=conversation.customer,
                purpose=Purpose.SATISFACTION_SURVEY,
                key=survey_key(conversation.reopened_count),
                conversation=reference,
                compose=lambda customer: templates.satisfaction_survey(
                    business=self._business.name,
                    name=customer.name,
                    reference=reference,
                    language=templates.language_of(customer.language),
                ),
                on_sent=self._survey_sent(conversation),
            )
        )
        return FollowUpResult(FollowUpKind.SATISFACTION_SURVEY, str(result.outcome), result)

    def _survey_sent(self, conversation: Conversation) -> Callable[[UnitOfWork, Message], None]:
        """Committed with the survey's "sent" record: from Twilio's acceptance on (not while it is
        held), a 1-5 reply from this number is its answer (see conversations.awaits_a_score)."""

        def record(work: UnitOfWork, message: Message) -> None:
            work.update(Item.CONVERSATION, conversation, [Conversation.survey_sent_at.set(self._clock.now())])

        return record

    def _release(self, thread: str, key: str) -> FollowUpResult:
        """Release a held text, after any text held earlier for the same thread (so they go out
        in the order they were written), each decided again on the conversation as it is now."""
        target = self._repository.message(thread, key)
        if target is None or target.status != MessageStatus.HELD:
            status = target.status if target else "no such message"
            return FollowUpResult(
                FollowUpKind.RELEASE, "already handled", SendResult(SendOutcome.DUPLICATE, key, status)
            )
        held = [
            m
            for m in self._thread_messages(thread)
            if m.status == MessageStatus.HELD and m.created_at <= target.created_at
        ]
        held.sort(key=lambda m: (m.created_at, m.key))
        result: SendResult | None = None
        done = "released"
        for message in held or [target]:
            conversation = (
                self._repository.conversation(message.conversation, consistent=True) if message.conversation else None
            )
            reason = still_wanted(message, conversation)
            if reason is not None:
                outcome = self._gateway.cancel_held(message, reason)
            else:
                on_sent = (
                    self._survey_sent(conversation)
                    if conversation is not None and message.purpose == Purpose.SATISFACTION_SURVEY
                    else None
                )
                outcome = self._gateway.send_held(message.pk, message.key, on_sent=on_sent)
            if message.key == key:
                result, done = outcome, (f"dropped: {reason}" if reason else "released")
        return FollowUpResult(FollowUpKind.RELEASE, done, result)

    def _thread_messages(self, thread: str) -> list[Message]:
        reference, number = thread_owner(thread)
        if reference is not None:
            return self._repository.conversation_with_messages(reference)[1]
        assert number is not None
        return self._repository.customer_messages(number)


def survey_key(count: int) -> str:
    return f"survey-{count}"


def sla_update_key(count: int) -> str:
    return f"sla-update-{count}"


def still_wanted(message: Message, conversation: Conversation | None) -> str | None:
    """Why a held text should no longer go out, judged on the conversation as it is now (None:
    it should). A satisfaction check only while its resolution stands; an apology for a late
    reply only while the customer is still waiting for that reply."""
    if message.purpose == Purpose.SATISFACTION_SURVEY:
        if conversation is None or conversation.status != Status.RESOLVED:
            return "the conversation is no longer resolved"
        if message.key != survey_key(conversation.reopened_count):
            return "a later resolution has its own satisfaction check"
    if message.purpose == Purpose.SLA_UPDATE:
        if conversation is None or not agent_owes_a_reply(conversation):
            return "an agent has replied (or the conversation is no longer waiting)"
        if message.key != sla_update_key(conversation.reopened_count):
            return "the conversation was reopened since"
    return None
