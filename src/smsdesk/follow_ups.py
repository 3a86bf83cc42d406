"""Follow-ups: what smsdesk does later, on its own, with EventBridge Scheduler.

* the **SLA check**, at the reply-by time promised (by the acknowledgement, or again when the
  conversation is reopened): if no agent has replied since the customer started waiting, the
  conversation is flagged breached (urgent) and ``SlaBreached`` is published for paging; the
  customer gets one short "we haven't forgotten you";
* the **satisfaction check**, a day (configurable) after resolution: if the conversation is
  still resolved, "How did we do? Reply 1 (poor) to 5 (great)"; it counts as asked (a 1-5 reply
  is its answer) only once Twilio took it;
* the **release of a held message**: a proactive message held for quiet hours or the daily cap
  goes out when its window opens, after earlier held texts to the same thread, and only if it
  still means something: a survey only for a conversation still resolved, an SLA apology only if
  no agent has replied meanwhile (:func:`still_wanted`). The gateway re-checks consent.

An opt-out cancels the customer's pending surveys and held texts by name; never the SLA check:
agents still owe the complaint an answer (only the text to the customer is refused).
When a schedule fires, everything is read again.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from smsdesk import templates
from smsdesk.clock import Clock, to_iso
from smsdesk.conversations import ACTIVE, Status, agent_owes_a_reply, status_actions, waiting_since
from smsdesk.events import DomainEvent, EventType
from smsdesk.repository import ConversationRepository, UnitOfWork, WriteConflict
from smsdesk.send_gateway import Outbound, Outcome, Purpose, SendGateway, SendResult
from smsdesk.table import Conversation, Item, Message, MessageStatus, Priority

if TYPE_CHECKING:
    from smsdesk.aws.scheduler import Scheduler
    from smsdesk.config import BusinessSettings

# at() has whole seconds, so a schedule may fire up to a second before the instant it was set
# for; a later promise (a reopening) is hours away, never within this.
SCHEDULE_SLACK = timedelta(minutes=1)


class FollowUp(StrEnum):
    SLA_CHECK = "sla_check"
    SATISFACTION_SURVEY = "satisfaction_survey"
    RELEASE = "release"


class FollowUps:
    """Scheduling and cancelling follow-ups.

    Every schedule's name follows from what it is about (``sla-C-7F3K-0``, ``survey-C-7F3K-0``,
    ``release-<message>-<when>``), so scheduling twice is harmless and cancelling needs no
    registry: the names of a customer's pending follow-ups are derived from their conversation.
    """

    def __init__(self, repository: ConversationRepository, scheduler: Scheduler, clock: Clock) -> None:
        self._repository = repository
        self._scheduler = scheduler
        self._clock = clock

    def sla_check(self, conversation: Conversation, reply_by: datetime) -> None:
        count = conversation.reopened_count
        name = _sla_name(conversation.reference, count)
        self._schedule(
            name, FollowUp.SLA_CHECK, conversation.customer, conversation.reference, reply_by, {"round": count}
        )

    def satisfaction_survey(self, conversation: Conversation, when: datetime) -> None:
        count = conversation.reopened_count
        name = _survey_name(conversation.reference, count)
        self._schedule(
            name, FollowUp.SATISFACTION_SURVEY, conversation.customer, conversation.reference, when, {"round": count}
        )

    def hold(self, message: Message, when: datetime) -> None:
        self._schedule(
            _release_name(message, when),
            FollowUp.RELEASE,
            message.customer,
            message.conversation,
            when,
            {"thread": message.pk, "key": message.key},
        )

    def cancel_sla_check(self, conversation: Conversation) -> None:
        """The promise is moot (resolved): no need for the check to fire."""
        self._scheduler.cancel(_sla_name(conversation.reference, conversation.reopened_count))

    def cancel_all(self, number: str) -> list[str]:
        """Cancel the follow-ups that would text ``number`` (on opt-out): the satisfaction checks
        of its open conversation, for each time it was opened, and the releases of its held texts.
        Not the SLA check: the complaint still needs an agent, and a breach must still be
        flagged (the gateway refuses its text to the customer). Returns the names of the
        schedules that were still there."""
        customer = self._repository.customer(number, consistent=True)
        if customer is None or not customer.open_conversation:
            return []
        conversation, messages = self._repository.conversation_with_messages(customer.open_conversation)
        if conversation is None:
            return []
        names = [_survey_name(conversation.reference, count) for count in range(conversation.reopened_count + 1)]
        names += [_release_name(m, m.send_after) for m in messages if m.status == MessageStatus.HELD and m.send_after]
        return [name for name in names if self._scheduler.cancel(name)]

    def _schedule(
        self,
        name: str,
        kind: FollowUp,
        number: str,
        conversation: str | None,
        when: datetime,
        extra: dict[str, Any] | None = None,
    ) -> None:
        payload = {"follow_up": str(kind), "name": name, "customer": number, "conversation": conversation}
        self._scheduler.schedule_once(name, when, {**payload, **(extra or {})}, self._clock.now())


def _sla_name(reference: str, count: int) -> str:
    return f"sla-{reference}-{count}"


def _survey_name(reference: str, count: int) -> str:
    return f"survey-{reference}-{count}"


def _release_name(message: Message, when: datetime) -> str:
    digest = hashlib.sha256(f"{message.pk}|{message.key}".encode()).hexdigest()[:20]
    return f"release-{digest}-{int(when.timestamp())}"


@dataclass(frozen=True, slots=True)
class FollowUpResult:
    follow_up: str
    done: str  # what happened, in words
    send: SendResult | None = None


class FollowUpRunner:
    """What a schedule does when it fires."""

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

    def run(self, payload: dict[str, Any]) -> FollowUpResult:
        kind = FollowUp(payload["follow_up"])
        if kind is FollowUp.SLA_CHECK:
            return self._sla_check(payload["conversation"], payload.get("round"))
        if kind is FollowUp.SATISFACTION_SURVEY:
            return self._survey(payload["conversation"], payload.get("round"))
        return self._release(payload["thread"], payload["key"])

    def _sla_check(self, reference: str, round_: int | None) -> FollowUpResult:
        conversation = self._repository.conversation(reference, consistent=True)
        now = self._clock.now()
        if conversation is None or (round_ is not None and round_ != conversation.reopened_count):
            return FollowUpResult(FollowUp.SLA_CHECK, "superseded by a later promise")
        if conversation.reply_by is not None and conversation.reply_by - now > SCHEDULE_SLACK:
            return FollowUpResult(FollowUp.SLA_CHECK, "the promise is not due yet")
        if conversation.status not in ACTIVE:
            return FollowUpResult(FollowUp.SLA_CHECK, "conversation no longer waiting")
        if not agent_owes_a_reply(conversation) or conversation.sla_breached:
            return FollowUpResult(FollowUp.SLA_CHECK, "promise kept")
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
            return FollowUpResult(FollowUp.SLA_CHECK, "answered meanwhile")
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
        return FollowUpResult(FollowUp.SLA_CHECK, "breached", result)

    def _survey(self, reference: str, round_: int | None) -> FollowUpResult:
        conversation = self._repository.conversation(reference, consistent=True)
        if conversation is None or conversation.status != Status.RESOLVED:
            return FollowUpResult(FollowUp.SATISFACTION_SURVEY, "conversation is no longer resolved")
        if round_ is not None and round_ != conversation.reopened_count:
            return FollowUpResult(FollowUp.SATISFACTION_SURVEY, "superseded by a later resolution")
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
        return FollowUpResult(FollowUp.SATISFACTION_SURVEY, str(result.outcome), result)

    def _survey_sent(self, conversation: Conversation):
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
            return FollowUpResult(FollowUp.RELEASE, "already handled", SendResult(Outcome.DUPLICATE, key, status))
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
                outcome = self._gateway.release(message.pk, message.key, on_sent=on_sent)
            if message.key == key:
                result, done = outcome, (f"dropped: {reason}" if reason else "released")
        return FollowUpResult(FollowUp.RELEASE, done, result)

    def _thread_messages(self, thread: str) -> list[Message]:
        if thread.startswith("CONVERSATION#"):
            return self._repository.conversation_with_messages(thread.removeprefix("CONVERSATION#"))[1]
        return self._repository.customer_messages(thread.removeprefix("CUSTOMER#"))


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


class ReplyPromises:
    """A reopened conversation gets a new reply-by promise, from business hours as of its
    reopening, and an SLA check at that time (on ``ConversationReopened``; redelivery-safe: the
    promise is recorded once per reopening, the schedule's name is deterministic)."""

    def __init__(
        self, repository: ConversationRepository, follow_ups: FollowUps, clock: Clock, business: BusinessSettings
    ) -> None:
        self._repository = repository
        self._follow_ups = follow_ups
        self._clock = clock
        self._business = business

    def reopened(self, reference: str) -> datetime | None:
        from smsdesk.business_hours import reply_by

        conversation = self._repository.conversation(reference, consistent=True)
        if conversation is None or not agent_owes_a_reply(conversation):
            return None  # answered (or resolved) already: nothing to promise
        since = waiting_since(conversation)
        if conversation.reply_by is not None and conversation.reply_by > since:
            promise = conversation.reply_by  # promised already (a redelivered event)
        else:
            target = int(self._business.first_reply_target.total_seconds() // 60)
            promise = reply_by(since, self._business.hours, target)
            now = self._clock.now()
            if promise <= now:
                promise = reply_by(now, self._business.hours, target)
            work = UnitOfWork().update(
                Item.CONVERSATION,
                conversation,
                [Conversation.reply_by.set(promise)],
                Conversation.reopened_count == conversation.reopened_count,
            )
            try:
                self._repository.commit(work)
            except WriteConflict:
                return None  # reopened again meanwhile: that reopening makes its own promise
        self._follow_ups.sla_check(conversation, promise)
        return promise
