"""The analytics counters in the table: adding a stream batch's counts, reading a period.

Adding is idempotent at no cost per event: a batch's counts (summed in memory, one update per
group and day) commit in one transaction with a ledger item named after the batch's first
stream record, holding the last sequence number it covered. Lambda retries a stream batch from
the same record, so a retried batch finds its ledger and skips what it covered; within a batch
a domain event counts once per ``event_id``. A batch touching more items than a transaction
holds is applied in chunks, each with its own ledger, in order.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from smsdesk import analytics
from smsdesk.analytics import Count, Counting, Period
from smsdesk.aws.table_stream import StreamFact
from smsdesk.clock import Clock, to_iso
from smsdesk.events import EventType
from smsdesk.repository import ConversationRepository, WriteConflict
from smsdesk.table import ConsentRecord, ConsentState, Conversation, Customer, Message, MessageStatus

MAX_ITEMS_PER_TRANSACTION = 99  # TransactWriteItems takes 100 actions: one is the ledger
HELD_IF_SENT_LATER_THAN = timedelta(minutes=1)  # a rebuild's sign that a text was held


@dataclass(frozen=True, slots=True)
class Recorded:
    applied: int  # facts whose counts were added
    skipped: int  # facts a previous attempt had already added (or duplicate events)
    failed_from: str | None = None  # the first record not applied (Lambda retries from it)


class AnalyticsRecorder:
    def __init__(self, repository: ConversationRepository, counting: Counting, clock: Clock) -> None:
        self._repository = repository
        self._counting = counting
        self._clock = clock

    def record(self, facts: Sequence[StreamFact]) -> Recorded:
        pending, seen = list(facts), set[str]()
        applied = skipped = 0
        while pending:
            applied_until = self._repository.analytics_applied_until(pending[0].record_id)
            if applied_until is not None:  # a retry: what that attempt covered is counted
                rest = [f for f in pending if f.sequence > applied_until]
                skipped += len(pending) - len(rest)
                pending = rest
                continue
            chunk, pending = self._chunk(pending, seen)
            counts = [c for _, fact_counts in chunk for c in fact_counts]
            items = {(group, day.isoformat()): n for (group, day), n in analytics.totals(counts).items()}
            if not items:  # nothing to count: nothing to write, nothing a retry could count twice
                skipped += len(chunk)
                continue
            try:
                self._repository.add_to_analytics(
                    items,
                    first_record=chunk[0][0].record_id,
                    last_sequence=chunk[-1][0].sequence,
                    now=self._clock.now(),
                )
            except WriteConflict:  # applied meanwhile: read its ledger again
                pending = [fact for fact, _ in chunk] + pending
                continue
            except Exception:
                return Recorded(applied, skipped, failed_from=str(chunk[0][0].sequence))
            applied += len(chunk)
        return Recorded(applied, skipped)

    def _chunk(
        self, facts: Sequence[StreamFact], seen: set[str]
    ) -> tuple[list[tuple[StreamFact, list[Count]]], list[StreamFact]]:
        """The first facts with their counts, as many as touch no more items than a transaction
        holds; and the facts left. A repeated event_id counts nothing the second time."""
        chunk: list[tuple[StreamFact, list[Count]]] = []
        items: set[tuple[str, date]] = set()
        for n, fact in enumerate(facts):
            counts = self._counts(fact, seen)
            touched = items | {(c.group, c.day) for c in counts}
            if len(touched) > MAX_ITEMS_PER_TRANSACTION and chunk:
                if fact.detail_type is not None:
                    seen.discard(fact.detail.get("event_id"))  # counted with the next chunk
                return chunk, list(facts[n:])
            items = touched
            chunk.append((fact, counts))
        return chunk, []

    def _counts(self, fact: StreamFact, seen: set[str]) -> list[Count]:
        if fact.detail_type is not None:
            event_id = fact.detail.get("event_id")
            if event_id in seen:
                return []
            seen.add(str(event_id))
            return self._counting.event(fact.detail_type, fact.detail)
        if fact.message is not None:
            return self._counting.message(fact.message, first_write=fact.inserted)
        return []


class AnalyticsReader:
    """A period's figures, from its counters: one Query per group of figures."""

    def __init__(self, repository: ConversationRepository, clock: Clock, counting: Counting) -> None:
        self._repository = repository
        self._clock = clock
        self._counting = counting

    def period(self, first: str | None, last: str | None, *, since_days: int | None = None) -> Period:
        today = self._counting.day(self._clock.now())
        return Period.parse(first, last, today=today, default_days=since_days or 30)

    def days(self, period: Period) -> analytics.Days:
        daily = [g for g in analytics.GROUPS if g not in analytics.RUNNING_GROUPS]
        raw = self._repository.analytics_days(daily, period.first.isoformat(), period.last.isoformat())
        raw |= self._repository.analytics_days(
            analytics.RUNNING_GROUPS, analytics.EPOCH.isoformat(), period.last.isoformat()
        )
        return {group: {date.fromisoformat(d): c for d, c in by_day.items()} for group, by_day in raw.items()}

    def report(self, period: Period, group_by: str = "day") -> dict[str, Any]:
        days = self.days(period)
        return {
            **analytics.summary(days, period),
            "group_by": group_by,
            "series": analytics.series(days, period, group_by),
            "histograms": {k: {str(b): n for b, n in h.items()} for k, h in analytics.histograms(days, period).items()},
        }

    def csv(self, period: Period, group_by: str = "day") -> str:
        return analytics.series_csv(analytics.series(self.days(period), period, group_by))


class AnalyticsRebuild:
    """``smsdesk analytics rebuild``: every counter written again from the records, when the
    definitions change or a batch was given up. It reads the whole table (an operator's command,
    never a request path) and replaces the counters; run it when the desk is quiet, since counts
    added while it runs are overwritten. What the records do not keep is approximated, as
    docs/metrics.md says (when a reopen or a score happened)."""

    def __init__(self, repository: ConversationRepository, counting: Counting) -> None:
        self._repository = repository
        self._counting = counting

    def rebuild(self) -> int:
        """Replace every counter; return how many counter items were written."""
        conversations, consent, messages, held = [], [], [], []
        for item in self._repository.iterate_table():
            if isinstance(item, Customer) and item.consent_hold:
                held.append(item)
            elif isinstance(item, Conversation):
                conversations.append(item)
            elif isinstance(item, ConsentRecord):
                consent.append(item)
            elif isinstance(item, Message) and item.direction == "outbound":
                messages.append(item)
        counts = [c for conversation_counts in self._conversations(conversations) for c in conversation_counts]
        counts += [c for record in consent for c in self._opt_out(record)]
        counts += [c for message in messages for c in self._message(message)]
        counts += [c for customer in held for c in self._possible_opt_out(customer)]
        items = {(group, day.isoformat()): n for (group, day), n in analytics.totals(counts).items()}
        self._repository.clear_analytics(analytics.GROUPS)
        self._repository.replace_analytics(items)
        return len(items)

    def _conversations(self, conversations: list[Conversation]) -> list[list[Count]]:
        found: list[list[Count]] = []
        history: defaultdict[str, list[datetime]] = defaultdict(list)
        for c in sorted(conversations, key=lambda c: (c.customer, c.opened_at)):
            before = list(history[c.customer])
            history[c.customer].append(c.opened_at)
            found.append(self._conversation(c, before))
        return found

    def _conversation(self, c: Conversation, before: list[datetime]) -> list[Count]:
        event = self._counting.event
        opened = to_iso(c.opened_at)
        counts = event(
            EventType.COMPLAINT_RECEIVED,
            {
                "occurred_at": opened,
                "category": c.category,
                "previous_opened_at": to_iso(before[-1]) if before else None,
                "earlier_opened_at": to_iso(before[-2]) if len(before) > 1 else None,
            },
        )
        if c.first_response_at:
            counts += event(
                EventType.AGENT_REPLIED,
                {
                    "occurred_at": to_iso(c.first_response_at),
                    "first_response": True,
                    "opened_at": opened,
                    "reply_by": to_iso(c.reply_by) if c.reply_by else None,
                },
            )
        if c.sla_breached and c.reply_by:
            counts += event(EventType.SLA_BREACHED, {"occurred_at": to_iso(c.reply_by)})
        if c.resolved_at and c.status in {"resolved", "closed"}:
            counts += event(
                EventType.CONVERSATION_RESOLVED, {"occurred_at": to_iso(c.resolved_at), "opened_at": opened}
            )
        reopened_on = to_iso(c.reopened_at or c.opened_at)  # only the last reopening's time is kept
        for _ in range(int(c.reopened_count or 0)):
            counts += event(EventType.CONVERSATION_REOPENED, {"occurred_at": reopened_on})
        if c.csat_score is not None:
            answered = to_iso(c.closed_at or c.updated_at)
            counts += event(EventType.SATISFACTION_RECORDED, {"occurred_at": answered, "score": int(c.csat_score)})
        if c.escalation_reasons:
            counts += event(
                EventType.CONVERSATION_ESCALATED, {"occurred_at": opened, "reasons": list(c.escalation_reasons)}
            )
        return counts

    def _opt_out(self, record: ConsentRecord) -> list[Count]:
        if record.action != "opt_out" or record.previous == ConsentState.OPTED_OUT:
            return []
        return self._counting.event(
            EventType.CONSENT_REVOKED,
            {
                "occurred_at": to_iso(record.recorded_at),
                "source": record.source,
                "reason": record.reason,
            },
        )

    def _possible_opt_out(self, customer: Customer) -> list[Count]:
        """A possible opt-out still waiting, raised on the day of the customer's last text (those
        decided since are not on record: a rebuild counts only the ones still waiting)."""
        raised = customer.last_inbound_at or customer.created_at
        return self._counting.event(EventType.POSSIBLE_OPT_OUT_RAISED, {"occurred_at": to_iso(raised)})

    def _message(self, m: Message) -> list[Count]:
        counts = []
        if m.sent_at and m.twilio_sid:
            counts += self._counting.message(
                {
                    "direction": "outbound",
                    "purpose": m.purpose,
                    "status_rank": 1,
                    "sent_at": to_iso(m.sent_at),
                    "twilio_sid": m.twilio_sid,
                    "segments": m.segments,
                }
            )
        updated = to_iso(m.updated_at)
        if m.status == MessageStatus.DELIVERED:
            counts += self._counting.message({"direction": "outbound", "status": m.status, "updated_at": updated})
        # Held: still held, or sent well after it was written (a held text keeps its created_at).
        if m.status == MessageStatus.HELD or (m.sent_at and m.sent_at - m.created_at > HELD_IF_SENT_LATER_THAN):
            counts += self._counting.message(
                {"direction": "outbound", "status": "held", "updated_at": to_iso(m.created_at)}
            )
        if m.status in {"failed", "undelivered"}:
            counts += self._counting.event(
                EventType.MESSAGE_FAILED, {"occurred_at": updated, "error_code": m.error_code}
            )
        return counts
