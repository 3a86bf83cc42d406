"""A time without a zone is a programming error in smsdesk (every time is an instant): the
scheduling rules refuse it, and the error names the argument that was wrong."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from smsdesk.business_hours import BusinessHours, describe_reply_by, reply_by
from smsdesk.quiet_hours import ProactiveCap, QuietHours, next_send_time

NEW_YORK = ZoneInfo("America/New_York")
NAIVE = datetime(2026, 11, 23, 10, 0)
AWARE = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
HOURS = BusinessHours.parse("Mon-Fri 09:00-17:00", "America/New_York")
QUIET, CAP = QuietHours(), ProactiveCap()

CALLS = {
    "quiet hours allow at": (lambda: QUIET.allows(NAIVE, [NEW_YORK]), "at"),
    "quiet hours next allowed": (lambda: QUIET.next_allowed(NAIVE, [NEW_YORK]), "at"),
    "cap recent, now": (lambda: CAP.recent([AWARE], NAIVE), "now"),
    "cap recent, a send": (lambda: CAP.recent([NAIVE], AWARE), "sent_at"),
    "cap next slot, a send": (lambda: CAP.next_slot([NAIVE] * 3, AWARE), "sent_at"),
    "next send time": (lambda: next_send_time(NAIVE, [NEW_YORK], [], QUIET, CAP), "now"),
    "open at": (lambda: HOURS.is_open(NAIVE), "at"),
    "next opening": (lambda: HOURS.next_opening(NAIVE), "at"),
    "open minutes from": (lambda: HOURS.add_open_minutes(NAIVE, 30), "start"),
    "open minutes between, start": (lambda: HOURS.open_minutes_between(NAIVE, AWARE), "start"),
    "open minutes between, end": (lambda: HOURS.open_minutes_between(AWARE, NAIVE), "end"),
    "reply by, received": (lambda: reply_by(NAIVE, HOURS, 120), "received_at"),
    "describe reply by": (lambda: describe_reply_by(NAIVE, AWARE, NEW_YORK), "reply_by"),
    "describe reply by, now": (lambda: describe_reply_by(AWARE, NAIVE, NEW_YORK), "now"),
}


@pytest.mark.parametrize("call", CALLS, ids=list(CALLS))
def test_a_time_without_a_zone_is_refused_naming_the_argument(call):
    function, argument = CALLS[call]
    with pytest.raises(ValueError, match=rf"^{argument} must be a timezone-aware datetime"):
        function()


@pytest.mark.parametrize(
    "call",
    [
        lambda: QUIET.allows(AWARE, []),
        lambda: QUIET.next_allowed(AWARE, ()),
        lambda: next_send_time(AWARE, [], [], QUIET, CAP),
    ],
    ids=["allows", "next allowed", "next send time"],
)
def test_quiet_hours_without_a_time_zone_are_refused(call):
    with pytest.raises(ValueError, match=r"^at least one time zone is needed$"):
        call()
