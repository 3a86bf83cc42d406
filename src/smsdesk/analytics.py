"""Analytics: how well complaints are handled, counted as it happens (docs/metrics.md).

Facts come from the table's stream, never from reading the table: the domain events the outbox
writes (a complaint opened, the first human reply, a resolution, a reopen, a score, an opt-out)
and outbound texts moving forward (taken by Twilio, delivered, held). Each fact adds to small
counters: one item per group of figures and business-local day. Durations go into fixed
histogram buckets (two significant digits of whole minutes), so medians and p90s of any period
are read from the summed buckets. Counting is a pure function of the facts here; the analytics
function commits a batch's counts at once (functions/analytics), idempotently.
"""

from __future__ import annotations

import csv
import io
import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from smsdesk.business_hours import BusinessHours
from smsdesk.clock import from_iso
from smsdesk.errors import InvalidPeriod
from smsdesk.events import EventType

# The groups of counters: one item per group and day.
VOLUME, RESPONSE, RESOLUTION, CSAT, ESCALATIONS, OPT_OUTS, DELIVERY, POSSIBLE_OPT_OUTS = (
    "volume",
    "response",
    "resolution",
    "csat",
    "escalations",
    "opt_outs",
    "delivery",
    "possible_opt_outs",
)
GROUPS = (VOLUME, RESPONSE, RESOLUTION, CSAT, ESCALATIONS, OPT_OUTS, DELIVERY, POSSIBLE_OPT_OUTS)
# Read from the first day on, not only the period's: how many wait at its end is a running sum.
RUNNING_GROUPS = (POSSIBLE_OPT_OUTS,)
EPOCH = date(2000, 1, 1)
# The events that count (the analytics function's stream filter names the same).
COUNTED_EVENTS = (
    EventType.COMPLAINT_RECEIVED,
    EventType.AGENT_REPLIED,
    EventType.SLA_BREACHED,
    EventType.CONVERSATION_RESOLVED,
    EventType.CONVERSATION_REOPENED,
    EventType.SATISFACTION_RECORDED,
    EventType.CONVERSATION_ESCALATED,
    EventType.CONSENT_REVOKED,
    EventType.MESSAGE_FAILED,
    EventType.POSSIBLE_OPT_OUT_RAISED,
    EventType.POSSIBLE_OPT_OUT_CLEARED,
    EventType.CONSENT_GRANTED,
)
SURVEY_PURPOSE = "satisfaction_survey"
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
GROUP_BY = ("day", "week", "month")
MAX_DAYS = 366 * 2


@dataclass(frozen=True, slots=True)
class Count:
    """``delta`` added to counter ``name`` of ``group`` on business-local ``day``."""

    group: str
    day: date
    name: str
    delta: int


def bucket(minutes: float) -> int:
    """The histogram bucket of a duration: the nearest whole minute, then rounded up to two
    significant digits (7, 45, 130, 1300): exact below 100 minutes, at most 10% high above."""
    whole = max(0, math.floor(minutes + 0.5))
    if whole < 100:
        return whole
    scale = int(10 ** (len(str(whole)) - 2))
    return math.ceil(whole / scale) * scale


class Counting:
    """Turns facts into counts, in the business's time zone and hours."""

    def __init__(self, hours: BusinessHours) -> None:
        self._hours = hours
        self._zone = hours.time_zone

    def day(self, at: datetime) -> date:
        return at.astimezone(self._zone).date()

    # ------------------------------------------------------------------ domain events

    def event(self, detail_type: str, detail: Mapping[str, Any]) -> list[Count]:
        """The counts a domain event adds (none for events the analytics does not count)."""
        at = from_iso(detail["occurred_at"])
        day = self.day(at)
        match detail_type:
            case EventType.COMPLAINT_RECEIVED:
                local = at.astimezone(self._zone)
                counts = [
                    Count(VOLUME, day, "complaints", 1),
                    Count(VOLUME, day, f"category:{detail.get('category') or 'other'}", 1),
                    Count(VOLUME, day, f"hour:{local.hour}", 1),
                ]
                previous = _day_of(detail.get("previous_opened_at"), self)
                if previous is not None:
                    earlier = _day_of(detail.get("earlier_opened_at"), self)
                    counts.append(Count(VOLUME, day, f"repeat:{previous}|{earlier or '-'}", 1))
                return counts
            case EventType.AGENT_REPLIED:
                if not detail.get("first_response") or not detail.get("opened_at"):
                    return []
                return self._first_response(from_iso(detail["opened_at"]), at, detail.get("reply_by"))
            case EventType.SLA_BREACHED:
                return [Count(RESPONSE, day, "sla_breaches", 1)]
            case EventType.CONVERSATION_RESOLVED:
                if not detail.get("opened_at"):
                    return []
                return self._resolution(from_iso(detail["opened_at"]), at, +1)
            case EventType.CONVERSATION_REOPENED:
                counts = [Count(RESOLUTION, day, "reopened", 1)]
                if detail.get("opened_at") and detail.get("resolved_at"):  # the resolution it undoes
                    counts += self._resolution(from_iso(detail["opened_at"]), from_iso(detail["resolved_at"]), -1)
                return counts
            case EventType.SATISFACTION_RECORDED:
                return [Count(CSAT, day, "responses", 1), Count(CSAT, day, f"score:{int(detail['score'])}", 1)]
            case EventType.CONVERSATION_ESCALATED:
                return [Count(ESCALATIONS, day, f"reason:{reason}", 1) for reason in detail.get("reasons") or []]
            case EventType.CONSENT_REVOKED:
                counts = [
                    Count(OPT_OUTS, day, "total", 1),
                    Count(OPT_OUTS, day, f"source:{detail.get('source') or 'unknown'}", 1),
                    Count(OPT_OUTS, day, f"reason:{detail.get('reason') or 'not_given'}", 1),
                ]
                if detail.get("possible_opt_out"):  # it ended a possible opt-out's wait
                    how = "confirmed" if detail.get("source") == "agent" else "by_customer"
                    counts += _possible_opt_out_ended(day, how)
                return counts
            case EventType.CONSENT_GRANTED:
                return _possible_opt_out_ended(day, "by_customer") if detail.get("possible_opt_out") else []
            case EventType.POSSIBLE_OPT_OUT_RAISED:
                return [Count(POSSIBLE_OPT_OUTS, day, "raised", 1), Count(POSSIBLE_OPT_OUTS, day, "waiting", 1)]
            case EventType.POSSIBLE_OPT_OUT_CLEARED:
                return _possible_opt_out_ended(day, "cleared")
            case EventType.MESSAGE_FAILED:
                code = detail.get("error_code")
                return [Count(DELIVERY, day, "failed", 1), Count(DELIVERY, day, f"failed:{code or 'none'}", 1)]
        return []

    def _first_response(self, opened: datetime, replied: datetime, reply_by: str | None) -> list[Count]:
        day = self.day(replied)
        counts = [
            Count(RESPONSE, day, "first_responses", 1),
            Count(RESPONSE, day, f"frt:{bucket(_minutes(opened, replied))}", 1),
            Count(RESPONSE, day, f"frt_business:{bucket(self._hours.open_minutes_between(opened, replied))}", 1),
        ]
        if reply_by:
            met = replied <= from_iso(reply_by)
            counts.append(Count(RESPONSE, day, "sla_met" if met else "sla_missed", 1))
        return counts

    def _resolution(self, opened: datetime, resolved: datetime, sign: int) -> list[Count]:
        day = self.day(resolved)
        return [
            Count(RESOLUTION, day, "resolutions", sign),
            Count(RESOLUTION, day, f"res:{bucket(_minutes(opened, resolved))}", sign),
            Count(RESOLUTION, day, f"res_business:{bucket(self._hours.open_minutes_between(opened, resolved))}", sign),
            # Share resolved: of the complaints opened on a day, how many stand resolved.
            Count(RESOLUTION, self.day(opened), "resolved_of_opened", sign),
        ]

    # ------------------------------------------------------------------ outbound texts

    def message(self, image: Mapping[str, Any], *, first_write: bool = True) -> list[Count]:
        """Counts for an outbound text moving forward (the stream's new image of a message).
        A status only moves forward, so each of these is one step of one text; a text is held
        when first written (held again later, it is still one held text)."""
        if image.get("direction") != "outbound":
            return []
        status = image.get("status")
        if status == "held":
            return [Count(DELIVERY, self.day(from_iso(image["updated_at"])), "held", 1)] if first_write else []
        if status == "delivered":
            return [Count(DELIVERY, self.day(from_iso(image["updated_at"])), "delivered", 1)]
        if image.get("sent_at") and image.get("twilio_sid") and int(image.get("status_rank") or 0) == 1:
            day = self.day(from_iso(image["sent_at"]))  # Twilio took it (the send gateway's record)
            counts = [
                Count(DELIVERY, day, "sent", 1),
                Count(DELIVERY, day, "segments", int(image.get("segments") or 1)),
            ]
            if image.get("purpose") == SURVEY_PURPOSE:
                counts.append(Count(CSAT, day, "surveys_sent", 1))
            return counts
        return []


def _possible_opt_out_ended(day: date, how: str) -> list[Count]:
    """An agent confirmed the opt-out or cleared it, or the customer decided (STOP, START)."""
    return [Count(POSSIBLE_OPT_OUTS, day, how, 1), Count(POSSIBLE_OPT_OUTS, day, "waiting", -1)]


def _minutes(start: datetime, end: datetime) -> float:
    return max(0.0, (end - start).total_seconds() / 60)


def _day_of(value: str | None, counting: Counting) -> str | None:
    return counting.day(from_iso(value)).isoformat() if value else None


def totals(counts: Iterable[Count]) -> dict[tuple[str, date], Counter[str]]:
    """Counts summed per item (group, day): what one batch writes, one update per item."""
    items: dict[tuple[str, date], Counter[str]] = defaultdict(Counter)
    for count in counts:
        items[(count.group, count.day)][count.name] += count.delta
    return {key: Counter({k: v for k, v in c.items() if v}) for key, c in items.items() if any(c.values())}


# ---------------------------------------------------------------------- reading: the report

Days = Mapping[str, Mapping[date, Mapping[str, float]]]  # group -> day -> counters


@dataclass(frozen=True, slots=True)
class Period:
    first: date
    last: date

    @classmethod
    def parse(cls, first: str | None, last: str | None, *, today: date, default_days: int = 30) -> Period:
        try:
            end = date.fromisoformat(last) if last else today
            start = date.fromisoformat(first) if first else end - timedelta(days=default_days - 1)
        except ValueError:
            raise InvalidPeriod("from and to are dates: YYYY-MM-DD") from None
        if end < start:
            raise InvalidPeriod("to is before from")
        if (end - start).days >= MAX_DAYS:
            raise InvalidPeriod(f"a period is at most {MAX_DAYS} days")
        return cls(start, end)

    def days(self) -> list[date]:
        return [self.first + timedelta(days=n) for n in range((self.last - self.first).days + 1)]


def percentile(histogram: Mapping[int, float], share: float) -> float | None:
    """Nearest rank: the smallest bucket at or below which ``share`` of the values lie."""
    n = sum(histogram.values())
    if n <= 0:
        return None
    rank, seen = max(1, math.ceil(share * n - 1e-9)), 0.0
    for value in sorted(histogram):
        seen += histogram[value]
        if seen >= rank:
            return value
    return max(histogram)


def _sum(days: Days, group: str, period: Period) -> Counter[str]:
    total: Counter[str] = Counter()
    by_day = days.get(group) or {}
    for day in period.days():
        total.update(by_day.get(day) or {})
    return total


def _labelled(counters: Mapping[str, float], prefix: str) -> dict[str, int]:
    return {
        name[len(prefix) :]: int(n)
        for name, n in sorted(counters.items(), key=lambda kv: (-kv[1], kv[0]))
        if name.startswith(prefix) and n
    }


def _histogram(counters: Mapping[str, float], prefix: str) -> dict[int, float]:
    return {int(name[len(prefix) :]): n for name, n in counters.items() if name.startswith(prefix) and n > 0}


def _share(part: float, whole: float) -> float | None:
    return round(part / whole, 4) if whole else None


def _durations(counters: Mapping[str, float], prefix: str) -> dict[str, float | None]:
    histogram = _histogram(counters, prefix)
    return {"median": percentile(histogram, 0.5), "p90": percentile(histogram, 0.9)}


def repeat_customers(days: Days, period: Period) -> int:
    """Customers with two or more complaints in the period: each counted once, at the complaint
    that made it two (its previous one in the period, the one before that not)."""
    first = period.first.isoformat()
    found = 0
    for name, n in _sum(days, VOLUME, period).items():
        if not name.startswith("repeat:"):
            continue
        previous, earlier = name[len("repeat:") :].split("|")
        if previous >= first and (earlier == "-" or earlier < first):
            found += int(n)
    return found


def summary(days: Days, period: Period) -> dict[str, Any]:
    """Every figure of the period (the JSON of GET /metrics and ``smsdesk report --json``)."""
    volume, response, resolution = (_sum(days, g, period) for g in (VOLUME, RESPONSE, RESOLUTION))
    csat, delivery = _sum(days, CSAT, period), _sum(days, DELIVERY, period)
    escalations, opt_outs = _sum(days, ESCALATIONS, period), _sum(days, OPT_OUTS, period)
    possible = _sum(days, POSSIBLE_OPT_OUTS, period)
    waiting = sum(c.get("waiting", 0) for d, c in (days.get(POSSIBLE_OPT_OUTS) or {}).items() if d <= period.last)
    scores = {str(s): int(csat.get(f"score:{s}", 0)) for s in range(1, 6)}
    responses = sum(scores.values())
    met, missed = response.get("sla_met", 0), response.get("sla_missed", 0)
    heatmap = {WEEKDAYS[d]: [0] * 24 for d in range(7)}
    for day in period.days():
        for hour in range(24):
            heatmap[WEEKDAYS[day.weekday()]][hour] += int(
                ((days.get(VOLUME) or {}).get(day) or {}).get(f"hour:{hour}", 0)
            )
    return {
        "from": period.first.isoformat(),
        "to": period.last.isoformat(),
        "complaints": int(volume.get("complaints", 0)),
        "by_category": _labelled(volume, "category:"),
        "by_weekday_hour": heatmap,
        "first_responses": int(response.get("first_responses", 0)),
        "first_response_minutes": _durations(response, "frt:"),
        "first_response_minutes_business": _durations(response, "frt_business:"),
        "sla_met_share": _share(met, met + missed),
        "sla_met": int(met),
        "sla_missed": int(missed),
        "sla_breaches": int(response.get("sla_breaches", 0)),
        "resolutions": int(resolution.get("resolutions", 0)),
        "resolution_minutes": _durations(resolution, "res:"),
        "resolution_minutes_business": _durations(resolution, "res_business:"),
        "resolved_share": _share(resolution.get("resolved_of_opened", 0), volume.get("complaints", 0)),
        "reopened": int(resolution.get("reopened", 0)),
        "reopen_rate": _share(
            resolution.get("reopened", 0), resolution.get("resolutions", 0) + resolution.get("reopened", 0)
        ),
        "repeat_customers": repeat_customers(days, period),
        "csat": {
            "surveys_sent": int(csat.get("surveys_sent", 0)),
            "responses": responses,
            "response_rate": _share(responses, csat.get("surveys_sent", 0)),
            "average": round(sum(int(s) * n for s, n in scores.items()) / responses, 2) if responses else None,
            "satisfied_share": _share(scores["4"] + scores["5"], responses),
            "distribution": scores,
        },
        "escalations": _labelled(escalations, "reason:"),
        "opt_outs": {
            "total": int(opt_outs.get("total", 0)),
            "by_reason": _labelled(opt_outs, "reason:"),
            "by_source": _labelled(opt_outs, "source:"),
        },
        "possible_opt_outs": {
            "raised": int(possible.get("raised", 0)),
            "confirmed": int(possible.get("confirmed", 0)),
            "cleared": int(possible.get("cleared", 0)),
            "by_customer": int(possible.get("by_customer", 0)),
            "waiting": max(0, int(waiting)),
        },
        "delivery": {
            "sent": int(delivery.get("sent", 0)),
            "delivered": int(delivery.get("delivered", 0)),
            "failed": int(delivery.get("failed", 0)),
            "failed_by_code": _labelled(delivery, "failed:"),
            "held": int(delivery.get("held", 0)),
            "segments": int(delivery.get("segments", 0)),
        },
    }


def periods(period: Period, group_by: str) -> list[Period]:
    """The period cut into days, ISO weeks (Monday first) or calendar months."""
    if group_by not in GROUP_BY:
        raise InvalidPeriod(f"group_by is one of {', '.join(GROUP_BY)}")
    cuts: list[Period] = []
    for day in period.days():
        if cuts and _start_key(cuts[-1].first, group_by) == _start_key(day, group_by):
            cuts[-1] = Period(cuts[-1].first, day)
        else:
            cuts.append(Period(day, day))
    return cuts


def _start_key(day: date, group_by: str) -> date:
    if group_by == "day":
        return day
    if group_by == "week":
        return day - timedelta(days=day.weekday())
    return day.replace(day=1)


SERIES_COLUMNS = (
    "from",
    "to",
    "complaints",
    "first_responses",
    "first_response_median",
    "first_response_p90",
    "first_response_business_median",
    "first_response_business_p90",
    "sla_met_share",
    "sla_breaches",
    "resolutions",
    "resolution_median",
    "resolution_p90",
    "resolution_business_median",
    "resolution_business_p90",
    "resolved_share",
    "reopened",
    "repeat_customers",
    "csat_surveys_sent",
    "csat_responses",
    "csat_average",
    "csat_satisfied_share",
    "opt_outs",
    "possible_opt_outs_raised",
    "possible_opt_outs_waiting",
    "escalations",
    "sent",
    "delivered",
    "failed",
    "held",
    "segments",
)


def series(days: Days, period: Period, group_by: str) -> list[dict[str, Any]]:
    """One row of the main figures per day, week or month (the CSV, and the report's trends)."""
    rows = []
    for part in periods(period, group_by):
        s = summary(days, part)
        frt, frt_b = s["first_response_minutes"], s["first_response_minutes_business"]
        res, res_b = s["resolution_minutes"], s["resolution_minutes_business"]
        rows.append(
            {
                "from": s["from"],
                "to": s["to"],
                "complaints": s["complaints"],
                "first_responses": s["first_responses"],
                "first_response_median": frt["median"],
                "first_response_p90": frt["p90"],
                "first_response_business_median": frt_b["median"],
                "first_response_business_p90": frt_b["p90"],
                "sla_met_share": s["sla_met_share"],
                "sla_breaches": s["sla_breaches"],
                "resolutions": s["resolutions"],
                "resolution_median": res["median"],
                "resolution_p90": res["p90"],
                "resolution_business_median": res_b["median"],
                "resolution_business_p90": res_b["p90"],
                "resolved_share": s["resolved_share"],
                "reopened": s["reopened"],
                "repeat_customers": s["repeat_customers"],
                "csat_surveys_sent": s["csat"]["surveys_sent"],
                "csat_responses": s["csat"]["responses"],
                "csat_average": s["csat"]["average"],
                "csat_satisfied_share": s["csat"]["satisfied_share"],
                "opt_outs": s["opt_outs"]["total"],
                "possible_opt_outs_raised": s["possible_opt_outs"]["raised"],
                "possible_opt_outs_waiting": s["possible_opt_outs"]["waiting"],
                "escalations": sum(s["escalations"].values()),
                **{k: s["delivery"][k] for k in ("sent", "delivered", "failed", "held", "segments")},
                "by_category": s["by_category"],  # JSON only (the report's stacked bars), not a CSV column
            }
        )
    return rows


def series_csv(rows: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=SERIES_COLUMNS, lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: "" if row[k] is None else row[k] for k in SERIES_COLUMNS})
    return out.getvalue()


def histograms(days: Days, period: Period) -> dict[str, dict[int, int]]:
    """The duration histograms of the period (the report's distribution charts)."""
    response, resolution = _sum(days, RESPONSE, period), _sum(days, RESOLUTION, period)
    return {
        "first_response": {k: int(v) for k, v in sorted(_histogram(response, "frt:").items())},
        "resolution": {k: int(v) for k, v in sorted(_histogram(resolution, "res:").items())},
    }
