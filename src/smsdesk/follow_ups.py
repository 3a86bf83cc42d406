"""Follow-ups: what smsdesk does later, on its own, with EventBridge Scheduler.

* the **SLA check**, at the reply-by time the acknowledgement promised: if no agent has replied,
  the conversation is flagged breached (urgent) and ``SlaBreached`` is published for paging; the
  customer gets one short "we haven't forgotten you";
* the **satisfaction check**, a day (configurable) after resolution: if the conversation is
  still resolved, "How did we do? Reply 1 (poor) to 5 (great)"; the customer's reply is read by
  the inbound webhook while the survey is pending;
* the **release of a held message**: a proactive message held for quiet hours or the daily cap
  goes out when its window opens (the gateway re-checks everything).

Every schedule is registered on the customer before it is created, so an opt-out can cancel
them all; cancelling is hygiene, not the safeguard: the send gateway re-reads consent anyway.
When a schedule fires, everything is read again: a reopened conversation gets no survey, an
answered one no reminder, an opted-out customer nothing.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from smsdesk import templates
from smsdesk.clock import Clock, to_iso
from smsdesk.conversations import ACTIVE, Status, status_actions
from smsdesk.events import DomainEvent, EventType
from smsdesk.repository import ConversationRepository, UnitOfWork, WriteConflict
from smsdesk.send_gateway import Outbound, Outcome, Purpose, SendGateway, SendResult
from smsdesk.table import Conversation, Customer, Message, ScheduledFollowUp, customer_pk

if TYPE_CHECKING:
    from smsdesk.aws.scheduler import Scheduler
    from smsdesk.config import BusinessSettings

REGISTRY_RETENTION = timedelta(days=7)


class FollowUp(StrEnum):
    SLA_CHECK = "sla_check"
    SATISFACTION_SURVEY = "satisfaction_survey"
    RELEASE = "release"


class FollowUps:
    """Scheduling and cancelling follow-ups."""

    def __init__(self, repository: ConversationRepository, scheduler: Scheduler, clock: Clock) -> None:
        self._repository = repository
        self._scheduler = scheduler
        self._clock = clock

    def sla_check(self, conversation: Conversation, reply_by: datetime) -> None:
        name = f"sla-{conversation.reference}-{conversation.reopened_count}"
        self._schedule(name, FollowUp.SLA_CHECK, conversation.customer, conversation.reference, reply_by)

    def satisfaction_survey(self, conversation: Conversation, when: datetime) -> None:
        name = f"survey-{conversation.reference}-{conversation.reopened_count}"
        self._schedule(name, FollowUp.SATISFACTION_SURVEY, conversation.customer, conversation.reference, when)

    def hold(self, message: Message, when: datetime) -> None:
        digest = hashlib.sha256(f"{message.pk}|{message.key}".encode()).hexdigest()[:20]
        name = f"release-{digest}-{int(when.timestamp())}"
        self._schedule(
            name,
            FollowUp.RELEASE,
            message.customer,
            message.conversation,
            when,
            {"thread": message.pk, "key": message.key},
        )

    def cancel_all(self, number: str) -> list[str]:
        """Cancel every pending follow-up of ``number`` (on opt-out). Returns their names."""
        cancelled = []
        for item in self._repository.scheduled_follow_ups(number):
            self._scheduler.cancel(item.name)
            self._repository.commit(UnitOfWork().delete("schedule", item))
            cancelled.append(item.name)
        return cancelled

    def done(self, number: str, name: str) -> None:
        self._repository.commit(UnitOfWork().delete("schedule", _registry_item(number, name, None, None)))

    def _schedule(
        self,
        name: str,
        kind: FollowUp,
        number: str,
        conversation: str | None,
        when: datetime,
        extra: dict[str, Any] | None = None,
    ) -> None:
        now = self._clock.now()
        registry = _registry_item(number, name, kind, conversation)
        registry.due_at = max(when, now)
        registry.expires_at = registry.due_at + REGISTRY_RETENTION
        self._repository.commit(UnitOfWork().put("schedule", registry))
        payload = {"follow_up": str(kind), "name": name, "customer": number, "conversation": conversation}
        self._scheduler.schedule_once(name, when, {**payload, **(extra or {})}, now)


def _registry_item(number: str, name: str, kind: FollowUp | None, conversation: str | None) -> ScheduledFollowUp:
    return ScheduledFollowUp(
        customer_pk(number), f"SCHEDULE#{name}", name=name, purpose=str(kind or ""), conversation=conversation
    )


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
        try:
            if kind is FollowUp.SLA_CHECK:
                return self._sla_check(payload["conversation"])
            if kind is FollowUp.SATISFACTION_SURVEY:
                return self._survey(payload["conversation"])
            return self._release(payload["thread"], payload["key"])
        finally:
            self._follow_ups.done(payload["customer"], payload["name"])

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
                    business=self._business.name, name=customer.name, reference=reference
                ),
            )
        )
        if result.outcome in {Outcome.SENT, Outcome.HELD, Outcome.DUPLICATE}:
            # The survey is out (or will be, when the customer's window opens): from now on a
            # 1-5 reply from this number is its answer. Both writes are idempotent.
            now = self._clock.now()
            work = UnitOfWork()
            work.update("conversation", conversation, [Conversation.survey_sent_at.set(now)])
            work.update(
                "customer",
                Customer(customer_pk(conversation.customer), "PROFILE"),
                [Customer.pending_survey.set(reference)],
                Customer.pk.exists(),
            )
            self._repository.commit(work)
        return FollowUpResult(FollowUp.SATISFACTION_SURVEY, str(result.outcome), result)

    def _release(self, thread: str, key: str) -> FollowUpResult:
        return FollowUpResult(FollowUp.RELEASE, "released", self._gateway.release(thread, key))
