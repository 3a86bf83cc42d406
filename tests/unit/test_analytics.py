"""The analytics' counting and reading: buckets, percentiles, what each event adds, periods."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from smsdesk import analytics
from smsdesk.analytics import Count, Counting, InvalidPeriod, Period, bucket, percentile
from smsdesk.business_hours import BusinessHours
from smsdesk.clock import to_iso

HOURS = BusinessHours.parse("Mon-Fri 09:00-17:00", "America/New_York", "2026-11-26")  # Thanksgiving
MONDAY, TUESDAY = date(2026, 11, 23), date(2026, 11, 24)


def at(text: str) -> str:
    return to_iso(datetime.fromisoformat(text).astimezone(UTC))


def event(kind: str, when: str, **data) -> tuple[str, dict]:
    return kind, {"event_id": f"{kind}-{when}", "occurred_at": at(when), "customer": "+12125550100", **data}


def days_of(counts: list[Count]) -> analytics.Days:
    found: dict = {}
    for (group, day), counters in analytics.totals(counts).items():
        found.setdefault(group, {})[day] = counters
    return found


@pytest.mark.parametrize(
    ("minutes", "expected"),
    [(0, 0), (0.4, 0), (0.6, 1), (29.6, 30), (99.4, 99), (101, 110), (510, 510), (1980, 2000), (13_001, 14_000)],
)
def test_buckets_are_whole_minutes_then_two_significant_digits(minutes, expected):
    assert bucket(minutes) == expected


def test_percentiles_are_the_nearest_rank_bucket():
    assert percentile({}, 0.5) is None
    assert percentile({30: 1, 510: 1}, 0.5) == 30  # of two, the median is the lower
    assert percentile({30: 1, 510: 1}, 0.9) == 510
    assert percentile({10: 9, 500: 1}, 0.9) == 10
    assert percentile({10: 8, 500: 2}, 0.9) == 500


def test_business_minutes_skip_nights_weekends_and_holidays():
    friday_4pm, monday_10am = datetime(2026, 11, 20, 21, 0, tzinfo=UTC), datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
    assert HOURS.open_minutes_between(friday_4pm, monday_10am) == 60 + 60
    wednesday_4pm, friday_9am = datetime(2026, 11, 25, 21, 0, tzinfo=UTC), datetime(2026, 11, 27, 14, 0, tzinfo=UTC)
    assert HOURS.open_minutes_between(wednesday_4pm, friday_9am) == 60  # Thursday is a holiday
    assert HOURS.open_minutes_between(monday_10am, friday_4pm) == 0  # backwards: nothing


def test_a_complaint_counts_by_category_and_local_hour():
    counts = Counting(HOURS).event(*event("ComplaintReceived", "2026-11-23T23:30-05:00", category="billing"))
    # 23:30 in New York is already Tuesday in UTC: the day and hour are the business's.
    assert set(counts) == {
        Count("volume", MONDAY, "complaints", 1),
        Count("volume", MONDAY, "category:billing", 1),
        Count("volume", MONDAY, "hour:23", 1),
    }


def test_a_first_human_reply_counts_in_calendar_and_business_time_against_the_promise():
    counting = Counting(HOURS)
    reply = event(
        "AgentReplied",
        "2026-11-24T10:00-05:00",
        first_response=True,
        opened_at=at("2026-11-23T16:00-05:00"),
        reply_by=at("2026-11-24T10:00-05:00"),
    )
    assert set(counting.event(*reply)) == {
        Count("response", TUESDAY, "first_responses", 1),
        Count("response", TUESDAY, "frt:1100", 1),  # 18 h = 1,080 min: bucket 1,100
        Count("response", TUESDAY, "frt_business:120", 1),  # 16:00-17:00, 09:00-10:00
        Count("response", TUESDAY, "sla_met", 1),
    }
    later = event(
        "AgentReplied", "2026-11-24T12:00-05:00", first_response=False, opened_at=at("2026-11-23T16:00-05:00")
    )
    assert counting.event(*later) == []  # only the first human reply is a first response


def test_a_reopen_takes_back_the_resolution_it_undoes():
    counting = Counting(HOURS)
    opened = at("2026-11-23T10:00-05:00")
    resolved = counting.event(*event("ConversationResolved", "2026-11-23T11:30-05:00", opened_at=opened))
    reopened = counting.event(
        *event(
            "ConversationReopened", "2026-11-24T09:00-05:00", opened_at=opened, resolved_at=at("2026-11-23T11:30-05:00")
        )
    )
    again = counting.event(*event("ConversationResolved", "2026-11-24T10:00-05:00", opened_at=opened))
    days = days_of(resolved + reopened + again)
    summary = analytics.summary(days, Period(MONDAY, TUESDAY))
    assert (summary["resolutions"], summary["reopened"]) == (1, 1)
    assert summary["resolution_minutes"] == {"median": 1500, "p90": 1500}  # Monday 10:00 -> Tuesday 10:00: 1,440
    assert summary["resolution_minutes_business"] == {"median": 480, "p90": 480}
    assert days["resolution"][MONDAY] == {"resolved_of_opened": 1}  # the 90 minutes are gone from Monday


def test_repeat_customers_are_counted_once_in_any_period():
    counting = Counting(HOURS)
    a, b = at("2026-11-20T10:00-05:00"), at("2026-11-23T10:00-05:00")
    counts = counting.event(*event("ComplaintReceived", "2026-11-20T10:00-05:00", category="order"))
    counts += counting.event(
        *event("ComplaintReceived", "2026-11-23T10:00-05:00", category="order", previous_opened_at=a)
    )
    counts += counting.event(
        *event(
            "ComplaintReceived", "2026-11-24T10:00-05:00", category="order", previous_opened_at=b, earlier_opened_at=a
        )
    )
    days = days_of(counts)
    assert analytics.repeat_customers(days, Period(date(2026, 11, 20), TUESDAY)) == 1  # three complaints, one customer
    assert analytics.repeat_customers(days, Period(MONDAY, TUESDAY)) == 1
    assert analytics.repeat_customers(days, Period(TUESDAY, TUESDAY)) == 0


def test_possible_opt_outs_are_raised_decided_and_still_waiting_at_the_end_of_each_period():
    counting = Counting(HOURS)
    counts = []
    for n, when in enumerate(
        ["2026-11-20T10:00-05:00", "2026-11-23T09:00-05:00", "2026-11-23T10:00-05:00", "2026-11-23T11:00-05:00"]
    ):
        counts += counting.event("PossibleOptOutRaised", {**event("x", when)[1], "event_id": f"raised-{n}"})
    counts += counting.event(*event("PossibleOptOutCleared", "2026-11-23T12:00-05:00", agent="dana@acme.example"))
    counts += counting.event(*event("ConsentRevoked", "2026-11-24T09:00-05:00", source="agent", possible_opt_out=True))
    counts += counting.event(
        *event("ConsentRevoked", "2026-11-24T10:00-05:00", source="keyword", possible_opt_out=True)
    )
    counts += counting.event(*event("ConsentRevoked", "2026-11-24T11:00-05:00", source="keyword"))  # nothing held
    counts += counting.event(*event("ConsentGranted", "2026-11-24T12:00-05:00", source="keyword"))  # nothing held
    days = days_of(counts)
    monday = analytics.summary(days, Period(MONDAY, MONDAY))["possible_opt_outs"]
    # Friday's is still waiting on Monday night: the period's end counts what waits from before it.
    assert monday == {"raised": 3, "confirmed": 0, "cleared": 1, "by_customer": 0, "waiting": 3}
    tuesday = analytics.summary(days, Period(TUESDAY, TUESDAY))["possible_opt_outs"]
    assert tuesday == {"raised": 0, "confirmed": 1, "cleared": 0, "by_customer": 1, "waiting": 1}
    both = analytics.summary(days, Period(MONDAY, TUESDAY))
    assert both["possible_opt_outs"]["waiting"] == 1 and both["opt_outs"]["total"] == 3
    rows = analytics.series(days, Period(MONDAY, TUESDAY), "day")
    assert [row["possible_opt_outs_waiting"] for row in rows] == [3, 1]


def test_outbound_texts_count_when_twilio_takes_them_and_when_delivered():
    counting = Counting(HOURS)
    taken = {
        "direction": "outbound",
        "purpose": "satisfaction_survey",
        "status": "queued",
        "status_rank": 1,
        "sent_at": "2026-11-24T16:30:00.000000+0000",
        "twilio_sid": "SM1",
        "segments": 2,
        "updated_at": "2026-11-24T16:30:00.000000+0000",
    }
    assert set(counting.message(taken)) == {
        Count("delivery", TUESDAY, "sent", 1),
        Count("delivery", TUESDAY, "segments", 2),
        Count("csat", TUESDAY, "surveys_sent", 1),
    }
    assert counting.message({**taken, "status": "sent", "status_rank": 3}) == []  # a step not counted
    assert counting.message({**taken, "status": "delivered", "status_rank": 4}) == [
        Count("delivery", TUESDAY, "delivered", 1)
    ]
    assert counting.message({**taken, "direction": "inbound"}) == []


@pytest.mark.parametrize(
    ("first", "last", "problem"),
    [("2026-13-01", None, "dates"), ("2026-11-24", "2026-11-23", "before"), ("2020-01-01", "2026-11-23", "at most")],
)
def test_a_bad_period_is_refused_with_a_reason(first, last, problem):
    with pytest.raises(InvalidPeriod, match=problem):
        Period.parse(first, last, today=TUESDAY)


def test_periods_group_by_iso_week_and_month():
    period = Period(date(2026, 11, 27), date(2026, 12, 8))  # Friday .. the Tuesday after next
    assert [(p.first.isoformat(), p.last.isoformat()) for p in analytics.periods(period, "week")] == [
        ("2026-11-27", "2026-11-29"),
        ("2026-11-30", "2026-12-06"),
        ("2026-12-07", "2026-12-08"),
    ]
    assert len(analytics.periods(period, "month")) == 2
    with pytest.raises(InvalidPeriod):
        analytics.periods(period, "year")
