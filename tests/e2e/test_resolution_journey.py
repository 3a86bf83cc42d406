"""A complaint, end to end, the way the README shows it: acknowledged, answered by an agent,
resolved; the satisfaction check a day later inside the customer's daytime; a low score
reopens it. Driven only by the `smsdesk` commands and the local clock."""

from __future__ import annotations

import json
from datetime import UTC
from zoneinfo import ZoneInfo

import pytest

from smsdesk_cli.main import main as smsdesk
from tests.e2e.conftest import start_local_stack

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]

NEW_YORK = ZoneInfo("America/New_York")
SURVEY = "How did we do? Reply 1 (poor) to 5 (great)."


@pytest.fixture(scope="module")
def local_stack():
    # Monday 23 November 2026, 06:30 in New York: before the business opens, before 08:00.
    yield from start_local_stack("--start", "2026-11-23T11:30:00Z")


def run(stack, capsys, *args: str) -> str:
    capsys.readouterr()
    assert smsdesk(["--api", stack.url, *args]) == 0
    return capsys.readouterr().out


def reference_of(stack, capsys, number: str) -> str:
    rows = [json.loads(line) for line in run(stack, capsys, "conversations", "--json").splitlines()]
    [row] = [r for r in rows if r["customer"] == number]
    return row["reference"]


def test_a_complaint_end_to_end(local_stack, capsys):
    karen = "+12125550142"
    printed = run(local_stack, capsys, "text", "--from", karen, "My order 4432 arrived broken and nobody answers")
    assert "A member of our team will reply by 9:00 AM today." in printed
    reference = reference_of(local_stack, capsys, karen)

    # The customer texted a minute ago: the agent's answer is a reply, not held for quiet hours.
    assert run(local_stack, capsys, "reply", reference, "So sorry. A replacement ships today.").strip() == "sent"
    run(local_stack, capsys, "resolve", reference, "--note", "replacement shipped")

    # 24 hours later it is 06:3x in New York: the satisfaction check waits for 08:00.
    run(local_stack, capsys, "clock", "advance", "24h")
    assert not any(SURVEY in m.body for m in local_stack.texts_to(karen))
    run(local_stack, capsys, "clock", "advance", "2h")
    [survey] = [m for m in local_stack.texts_to(karen) if SURVEY in m.body]
    assert reference in survey.body
    local_time = survey.date_created.replace(tzinfo=UTC).astimezone(NEW_YORK)
    assert (local_time.date().isoformat(), local_time.hour) == ("2026-11-24", 8)

    printed = run(local_stack, capsys, "text", "--from", karen, "2")
    assert "a member of our team will follow up" in printed
    shown = run(local_stack, capsys, "show", reference)
    assert shown.startswith(f"{reference}  waiting_on_agent  urgent")
    assert "csat       2" in shown and "low_satisfaction" in shown
    # The agent sees the held survey where it went out (08:00 in New York), and when it was written.
    [survey_line] = [line for line in shown.splitlines() if SURVEY in line]
    assert survey_line.startswith("2026-11-24T13:00") and "written 2026-11-24T11:30" in survey_line
    lines = shown.splitlines()
    assert lines.index(survey_line) < next(
        i for i, line in enumerate(lines) if line.endswith("-> customer           2")
    )


def test_an_opt_out_between_resolution_and_survey_means_no_survey(local_stack, capsys):
    customer = "+12125550143"
    run(local_stack, capsys, "text", "--from", customer, "The courier left my parcel in the rain")
    reference = reference_of(local_stack, capsys, customer)
    run(local_stack, capsys, "resolve", reference)
    assert f"survey-{reference}-0" in run(local_stack, capsys, "clock")
    run(local_stack, capsys, "text", "--from", customer, "stop")
    assert f"survey-{reference}-0" not in run(local_stack, capsys, "clock")  # cancelled
    run(local_stack, capsys, "clock", "advance", "2d")
    texts = [m.body for m in local_stack.texts_to(customer)]
    assert len(texts) == 2 and "Your reference is" in texts[0]  # the acknowledgement,
    assert texts[1].startswith("You have successfully been unsubscribed.")  # Twilio's own answer to "stop"
