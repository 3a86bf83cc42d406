"""Follow-ups: what smsdesk does later, on its own, with EventBridge Scheduler.

* the **SLA check**, at the reply-by time the acknowledgement promised: if no agent has replied,
  the conversation is flagged breached (urgent) and ``SlaBreached`` is published for paging; the
  customer gets one short "we haven't forgotten you";
* the **satisfaction check**, a day (configurable) after resolution: if the conversation is
  still resolved, "How did we do? Reply 1 (poor) to 5 (great)"; the customer's reply is read by
  the inbound webhook while the survey is pending;
* the **release of a held message**: a proactive message held for quiet hours or the daily cap
  goes out when its window opens (the gateway re-checks everything).

An opt-out cancels a customer's pending schedules by name (they follow from the conversation);
cancelling is hygiene, not the safeguard: the send gateway re-reads consent anyway.
When a schedule fires, everything is read again: a reopened conversation gets no survey, an
answered one no reminder, an opted-out customer nothing.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from smsdesk import templates
from smsdesk.clock import Clock, to_iso
from smsdesk.conversations import ACTIVE, Status, status_actions
from smsdesk.events import DomainEvent, EventType
from smsdesk.repository import ConversationRepository, UnitOfWork, WriteConflict
from smsdesk.send_gateway import Outbound, Outcome, Purpose, SendGateway, SendResult
from smsdesk.table import Conversation, Message

if TYPE_CHECKING:
    from smsdesk.aws.scheduler import Scheduler
    from smsdesk.config import BusinessSettings

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
        name = _sla_name(conversation.reference, conversation.reopened_count)
        self._schedule(name, FollowUp.SLA_CHECK, conversation.customer, conversation.reference, reply_by)

    def satisfaction_survey(self, conversation: Conversation, when: datetime) -> None:
        name = _survey_name(conversation.reference, conversation.reopened_count)
        self._schedule(name, FollowUp.SATISFACTION_SURVEY, conversation.customer, conversation.reference, when)

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
        """Cancel every follow-up that may be pending for ``number`` (on opt-out): those of its
        open conversation, for each time it was opened, and the releases of its held texts.
        Returns the names of the schedules that were still there."""
        customer = self._repository.customer(number, consistent=True)
        if customer is None or not customer.open_conversation:
            return []
        conversation, messages = self._repository.conversation_with_messages(customer.open_conversation)
        if conversation is None:
            return []
        names = [
            name
            for count in range(conversation.reopened_count + 1)
            for name in (_sla_name(conversation.reference, count), _survey_name(conversation.reference, count))
        ]
        names += [_release_name(m, m.send_after) for m in messages if m.status == "held" and m.send_after]
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
            return self._sla_check(payload["conversation"])
        if kind is FollowUp.SATISFACTION_SURVEY:
            return self._survey(payload["conversation"])
        return self._release(payload["thread"], payload["key"])

    def _sla_check(self, reference: str) -> FollowUpResult:
        conversation = self._repository.conversation(reference, consistent=True)
        if conversation is None or conversation.status not in ACTIVE:
            return FollowUpResult(FollowUp.SLA_CHECK, "conversation no longer waiting")
        if conversation.first_response_at is not None or conversation.sla_breached:
            return FollowUpResult(FollowUp.SLA_CHECK, "promise kept")
        now = self._clock.now()
        work = UnitOfWork().update(
            "conversation",
            conversation,
            [Conversation.sla_breached.set(True), Conversation.updated_at.set(now),
             *status_actions(conversation, Status(conversation.status), priority="urgent")],
            (Conversation.sla_breached == False) & Conversation.first_response_at.does_not_exist(),  # noqa: E712
        )
        work.publish(
            DomainEvent(
                EventType.SLA_BREACHED, now, conversation.customer, reference,
                {"reply_by": to_iso(conversation.reply_by) if conversation.reply_by else None,
                 "category": conversation.category},
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
                key=f"sla-update-{conversation.reopened_count}",
                conversation=reference,
                compose=lambda customer: templates.sla_update(name=customer.name, reference=reference),
            )
        )
        return FollowUpResult(FollowUp.SLA_CHECK, "breached", result)

    def _survey(self, reference: str) -> FollowUpResult:
        conversation = self._repository.conversation(reference, consistent=True)
        if conversation is None or conversation.status != Status.RESOLVED:
            return FollowUpResult(FollowUp.SATISFACTION_SURVEY, "conversation is no longer resolved")
        result = self._gateway.send(
            Outbound(
                to=conversation.customer,
                purpose=Purpose.SATISFACTION_SURVEY,
                key=f"survey-{conversation.reopened_count}",
                conversation=reference,
                compose=lambda customer: templates.satisfaction_survey(
                    business=self._business.name, name=customer.name, reference=reference,
                    language=templates.language_of(customer.language),
                ),
            )
        )
        if result.outcome in {Outcome.SENT, Outcome.HELD, Outcome.DUPLICATE}:
            # The survey is out (or will be, when the customer's window opens): from now on a
            # 1-5 reply from this number is its answer (see conversations.awaits_a_score).
            now = self._clock.now()
            self._repository.commit(
                UnitOfWork().update("conversation", conversation, [Conversation.survey_sent_at.set(now)])
            )
        return FollowUpResult(FollowUp.SATISFACTION_SURVEY, str(result.outcome), result)

    def _release(self, thread: str, key: str) -> FollowUpResult:
        return FollowUpResult(FollowUp.RELEASE, "released", self._gateway.release(thread, key))
