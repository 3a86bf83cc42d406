"""Automatic replies: the acknowledgement of a new complaint, the keyword auto-responses, and
the thank-you for a satisfaction score.

The acknowledgement is sent once per conversation (its message key is ``acknowledgement``: a
redelivered event finds it already sent). It names the customer when known, gives the reference
and the issue, and promises when a human will reply: computed from the business's hours and
holidays from the moment the complaint arrived, and written in the customer's own time zone.
Urgent complaints are offered a call.

Keyword auto-responses (REFUND, HOURS, STATUS, CALL and any configured) answer at once and leave
the complaint as it was. A 1-5 answer to the satisfaction check is thanked once (a 1 or 2 is told
that a person will follow up). All of them answer a text the customer just sent: none is
proactive, so quiet hours do not hold them.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from smsdesk import templates
from smsdesk.business_hours import describe_reply_by, reply_by
from smsdesk.clock import Clock
from smsdesk.conversations import Status, acknowledged, status_actions
from smsdesk.events import EventType, ReceivedEvent
from smsdesk.repository import ConversationRepository, UnitOfWork, WriteConflict
from smsdesk.send_gateway import Outbound, Purpose, SendGateway, SendOutcome, SendResult
from smsdesk.table import Conversation, Customer, Item, Message, Priority
from smsdesk.templates import BUILT_IN_KEYWORDS, auto_reply_keywords  # noqa: F401 — re-exported

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

    from smsdesk.config import BusinessSettings
    from smsdesk.follow_ups import FollowUps


@dataclass(frozen=True, slots=True)
class Acknowledgement:
    result: SendResult | None  # None: nothing to do (already acknowledged, or unknown)
    reply_by: datetime | None


class AutoResponder:
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

    def customer_zone(self, customer: Customer) -> ZoneInfo:
        from smsdesk.time_zones import time_zones_for_number

        zones = time_zones_for_number(
            customer.number, customer.from_state, fallback=self._business.hours.time_zone, chosen=customer.time_zone
        )
        return zones[0]

    def describe_promise(self, promise: datetime, now: datetime, customer: Customer, language: str = "en") -> str:
        """The promise in the customer's zone when it is known; else in the business's, named."""
        from smsdesk.time_zones import customer_zones

        hours = self._business.hours
        where = customer_zones(
            customer.number, customer.from_state, fallback=hours.time_zone, chosen=customer.time_zone
        )
        if where.known:
            return describe_reply_by(promise, now, where.zones[0], language=language)
        return describe_reply_by(promise, now, hours.time_zone, zone_label=hours.zone_label(promise), language=language)

    # ------------------------------------------------------------------ acknowledgement

    def reply_to(self, event: ReceivedEvent) -> SendResult | None:
        """The automatic reply ``event`` calls for (None: none, or nothing left to do)."""
        # ReceivedEvent.from_detail checked that each type carries the fields used here.
        if event.type is EventType.COMPLAINT_RECEIVED and event.conversation:
            return self.acknowledge(event.conversation).result
        if event.type is EventType.KEYWORD_RECEIVED and event.keyword and event.message_sid:
            return self.answer_keyword(event.customer, event.keyword, event.conversation, event.message_sid)
        if event.type is EventType.SATISFACTION_RECORDED and event.conversation and event.message_sid:
            assert event.score is not None
            return self.thank_for_score(event.customer, event.conversation, event.score, event.message_sid)
        return None

    def acknowledge(self, reference: str) -> Acknowledgement:
        conversation = self._repository.conversation(reference, consistent=True)
        if conversation is None or conversation.acknowledged_at is not None:
            return Acknowledgement(None, None)
        target_minutes = int(self._business.first_reply_target.total_seconds() // 60)
        promise = reply_by(conversation.opened_at, self._business.hours, target_minutes)
        now = self._clock.now()
        if promise <= now:
            # Acknowledged late (an outage, a long retry): never promise a time already past.
            promise = reply_by(now, self._business.hours, target_minutes)

        def compose(customer: Customer) -> str:
            language = templates.language_of(customer.language)
            return templates.acknowledgement(
                business=self._business.name,
                name=customer.name,
                reference=conversation.reference,
                category=conversation.category,
                reply_by=self.describe_promise(promise, now, customer, language),
                offer_call=conversation.priority == Priority.URGENT,
                language=language,
            )

        def record(work: UnitOfWork, message: Message) -> None:
            acknowledged(work, conversation, promise, now)

        result = self._gateway.send(
            Outbound(
                to=conversation.customer,
                purpose=Purpose.ACKNOWLEDGEMENT,
                key="acknowledgement",
                compose=compose,
                conversation=reference,
                on_sent=record,
            )
        )
        if result.outcome is SendOutcome.SENT:
            self._move_to_acknowledged(conversation, now)
            self._follow_ups.sla_check(conversation, promise)  # did the promise hold?
        return Acknowledgement(result, promise)

    def _move_to_acknowledged(self, conversation: Conversation, now: datetime) -> None:
        """open -> acknowledged, unless the customer or an agent moved it on meanwhile."""
        if conversation.status != Status.OPEN:
            return
        work = UnitOfWork().update(
            Item.CONVERSATION,
            conversation,
            status_actions(conversation, Status.ACKNOWLEDGED),
            Conversation.status == str(Status.OPEN),
        )
        with contextlib.suppress(WriteConflict):  # it already moved on: its newer status stands
            self._repository.commit(work)

    # ------------------------------------------------------------------ keywords

    def answer_keyword(self, to: str, keyword: str, reference: str | None, message_sid: str) -> SendResult:
        conversation = self._repository.conversation(reference, consistent=True) if reference else None
        now = self._clock.now()

        def compose(customer: Customer) -> str:
            language = templates.language_of(customer.language)
            if keyword in self._business.keyword_replies:
                return self._business.keyword_replies[keyword]
            if keyword == "HOURS":
                return templates.hours_reply(
                    business=self._business.name, hours=self._business.hours.describe(now), language=language
                )
            if keyword == "STATUS":
                promise = None
                if conversation is not None and conversation.reply_by is not None:
                    promise = self.describe_promise(conversation.reply_by, now, customer, language)
                return templates.status_reply(
                    reference=conversation.reference if conversation else None,
                    status=conversation.status if conversation else None,
                    reply_by=promise,
                    language=language,
                )
            if keyword == "CALL":
                return templates.call_requested(reference=reference, language=language)
            if keyword == "REFUND":
                # "Your complaint stays open" only when there is one.
                open_case = conversation is not None and conversation.status not in {"resolved", "closed"}
                return templates.refund_reply(open_case=open_case, language=language)
            return templates.DEFAULT_KEYWORD_REPLIES[keyword]

        return self._gateway.send(
            Outbound(
                to=to,
                purpose=Purpose.KEYWORD_REPLY,
                key=f"reply-{message_sid}",
                compose=compose,
                conversation=reference,
            )
        )

    # ------------------------------------------------------------------ satisfaction

    def thank_for_score(self, to: str, reference: str, score: int, message_sid: str) -> SendResult:
        return self._gateway.send(
            Outbound(
                to=to,
                purpose=Purpose.SATISFACTION_THANKS,
                key=f"thanks-{message_sid}",
                compose=lambda customer: templates.satisfaction_thanks(
                    score=score, language=templates.language_of(customer.language)
                ),
                conversation=reference,
            )
        )
