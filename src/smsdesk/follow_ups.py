"""Follow-ups: what smsdesk does later, on its own, scheduled with EventBridge Scheduler.

This module schedules and cancels them (below the send gateway, which schedules the release of
a held text here); :mod:`smsdesk.follow_up_runner` does what they say when they fire. The
schedule's payload is written and read back (:class:`ScheduledFollowUp`) only here. An opt-out
cancels a customer's pending surveys and held texts by name; never the SLA check: agents still
owe the complaint an answer.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from smsdesk.clock import Clock
from smsdesk.conversations import agent_owes_a_reply, waiting_since
from smsdesk.errors import SmsDeskError
from smsdesk.repository import ConversationRepository, UnitOfWork, WriteConflict
from smsdesk.table import Conversation, Item, Message, MessageStatus

if TYPE_CHECKING:
    from smsdesk.aws.scheduler import Scheduler
    from smsdesk.config import BusinessSettings


class FollowUpKind(StrEnum):
    SLA_CHECK = "sla_check"
    SATISFACTION_SURVEY = "satisfaction_survey"
    RELEASE = "release"


class InvalidFollowUp(SmsDeskError, ValueError):
    """A schedule's payload that smsdesk did not write: nothing is done."""


@dataclass(frozen=True, slots=True)
class ScheduledFollowUp:
    """What a schedule carries to the follow-up function (its payload, typed)."""

    kind: FollowUpKind
    customer: str | None = None
    conversation: str | None = None
    round: int | None = None  # which opening of the conversation it was scheduled for
    thread: str | None = None  # a release: the held message's thread and key
    key: str | None = None
    name: str | None = None  # the schedule's name

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> ScheduledFollowUp:
        try:
            kind = FollowUpKind(payload["follow_up"])
            round_ = payload.get("round")
            parsed = cls(
                kind,
                customer=payload.get("customer"),
                conversation=payload.get("conversation"),
                round=None if round_ is None else int(round_),
                thread=payload.get("thread"),
                key=payload.get("key"),
                name=payload.get("name"),
            )
        except (KeyError, TypeError, ValueError) as error:
            raise InvalidFollowUp(f"not a follow-up payload: {error}") from None
        needed = ("thread", "key") if kind is FollowUpKind.RELEASE else ("conversation",)
        if any(getattr(parsed, field) is None for field in needed):
            raise InvalidFollowUp(f"a {kind} needs {' and '.join(needed)}")
        return parsed

    def payload(self) -> dict[str, Any]:
        fields = {"round": self.round, "thread": self.thread, "key": self.key}
        return {
            "follow_up": str(self.kind),
            "name": self.name,
            "customer": self.customer,
            "conversation": self.conversation,
            **{k: v for k, v in fields.items() if v is not None},
        }


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
        self._schedule_for(FollowUpKind.SLA_CHECK, conversation, _sla_name, reply_by)

    def satisfaction_survey(self, conversation: Conversation, when: datetime) -> None:
        self._schedule_for(FollowUpKind.SATISFACTION_SURVEY, conversation, _survey_name, when)

    def schedule_release(self, message: Message, when: datetime) -> None:
        """A text held for quiet hours or the daily cap: released (decided again) at ``when``."""
        self._schedule(
            ScheduledFollowUp(
                FollowUpKind.RELEASE,
                message.customer,
                message.conversation,
                thread=message.pk,
                key=message.key,
                name=_release_name(message, when),
            ),
            when,
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

    def _schedule_for(
        self, kind: FollowUpKind, conversation: Conversation, name: Callable[[str, int], str], when: datetime
    ) -> None:
        """A follow-up of this opening of the conversation (a reopening has its own)."""
        count = conversation.reopened_count
        self._schedule(
            ScheduledFollowUp(
                kind,
                conversation.customer,
                conversation.reference,
                round=count,
                name=name(conversation.reference, count),
            ),
            when,
        )

    def _schedule(self, follow_up: ScheduledFollowUp, when: datetime) -> None:
        assert follow_up.name is not None
        self._scheduler.schedule_once(follow_up.name, when, follow_up.payload(), self._clock.now())


def _sla_name(reference: str, count: int) -> str:
    return f"sla-{reference}-{count}"


def _survey_name(reference: str, count: int) -> str:
    return f"survey-{reference}-{count}"


def _release_name(message: Message, when: datetime) -> str:
    digest = hashlib.sha256(f"{message.pk}|{message.key}".encode()).hexdigest()[:20]
    return f"release-{digest}-{int(when.timestamp())}"


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
