"""The analytics counters in the table: adding a stream batch's counts, reading a period.

Adding is idempotent at no cost per event: a batch's counts (summed in memory, one update per
group and day) commit in one transaction with a ledger item named after the batch's first
stream record, holding the last sequence number it covered. Lambda retries a stream batch from
the same record, so a retried batch finds its ledger and skips what it covered; within a batch
a domain event counts once per ``event_id``. A batch touching more items than a transaction
holds is applied in chunks, each with its own ledger, in order.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from smsdesk import analytics
from smsdesk.analytics import Count, Counting, Period
from smsdesk.aws.table_stream import StreamFact
from smsdesk.clock import Clock
from smsdesk.repository import ConversationRepository, WriteConflict

MAX_ITEMS_PER_TRANSACTION = 99  # TransactWriteItems takes 100 actions: one is the ledger


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
        pending, seen = list(facts), set()
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
                    items, first_record=chunk[0][0].record_id, last_sequence=chunk[-1][0].sequence,
                    now=self._clock.now(),
                )
            except WriteConflict:  # applied meanwhile: read its ledger again
                pending = [fact for fact, _ in chunk] + pending
                continue
            except Exception:  # noqa: BLE001 — retry from here; what came before is applied
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
            seen.add(event_id)
            return self._counting.event(fact.detail_type, fact.detail)
        if fact.message is not None:
            return self._counting.message(fact.message)
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
        raw = self._repository.analytics_days(analytics.GROUPS, period.first.isoformat(), period.last.isoformat())
        return {group: {date.fromisoformat(d): c for d, c in by_day.items()} for group, by_day in raw.items()}

    def report(self, period: Period, group_by: str = "day") -> dict:
        days = self.days(period)
        return {
            **analytics.summary(days, period),
            "group_by": group_by,
            "series": analytics.series(days, period, group_by),
            "histograms": {k: {str(b): n for b, n in h.items()} for k, h in analytics.histograms(days, period).items()},
        }

    def csv(self, period: Period, group_by: str = "day") -> str:
        return analytics.series_csv(analytics.series(self.days(period), period, group_by))
