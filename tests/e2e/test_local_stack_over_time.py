"""The local stack as a developer's script meets it: texted the moment its port opens, its clock
moved a day at a time (each schedule firing at its own due time), a case reopened and missed
again, an absurd jump refused."""

from __future__ import annotations

import io
import json
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from contextlib import redirect_stderr, redirect_stdout

import pytest

from smsdesk_cli.main import main as smsdesk
from tests.e2e.conftest import start_local_stack

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]


@pytest.fixture(scope="module")
def local_stack():
    # Monday 23 November 2026, 01:30 in New York: hours before the business opens at 09:00.
    yield from start_local_stack("--start", "2026-11-23T06:30:00Z")


def run(stack, capsys, *args: str) -> str:
    capsys.readouterr()
    assert smsdesk(["--api", stack.url, *args]) == 0
    return capsys.readouterr().out


def reference_of(stack, capsys, number: str) -> str:
    rows = [
        json.loads(line) for line in run(stack, capsys, "conversations", "--status", "active", "--json").splitlines()
    ]
    [row] = [r for r in rows if r["customer"] == number]
    return row["reference"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_script_that_texts_as_soon_as_the_port_opens_is_answered(monkeypatch):
    monkeypatch.setenv("SMSDESK_WAIT_SECONDS", "180")  # a loaded CI machine starts the stack slowly
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "smsdesk_local", "--port", str(port), "--twilio-port", "0"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    first_answer: list[int] = []

    def knock_until_the_port_opens() -> None:
        # The very first request that gets through finds the route wired: no 404, no dropped connection.
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
            except OSError:
                time.sleep(0.02)  # polling another process's port, not waiting for time to pass
                continue
            request = urllib.request.Request(f"http://127.0.0.1:{port}/sms/inbound", data=b"Body=hi", method="POST")
            try:
                urllib.request.urlopen(request, timeout=10)
            except urllib.error.HTTPError as error:
                first_answer.append(error.code)
            return

    knocker = threading.Thread(target=knock_until_the_port_opens)
    knocker.start()
    try:
        out, err = io.StringIO(), io.StringIO()
        with redirect_stdout(out), redirect_stderr(err):
            code = smsdesk(["--api", f"http://127.0.0.1:{port}", "text", "--from", "+12125550180", "My parcel is lost"])
        knocker.join(timeout=180)
        assert code == 0, err.getvalue()
        assert "Your reference is C-" in out.getvalue()
        assert "waiting for the local stack" in err.getvalue()  # it said why it waited
        assert first_answer == [403]  # the webhook's answer to an unsigned request: the route was there
    finally:
        process.terminate()
        process.wait(timeout=15)


def test_clock_advance_fires_each_schedule_at_its_own_due_time(local_stack, capsys):
    customer = "+12125550181"
    printed = run(local_stack, capsys, "text", "--from", customer, "My order arrived broken")
    assert "A member of our team will reply by 9:00 AM today." in printed
    reference = reference_of(local_stack, capsys, customer)

    moved = local_stack.stack.control("POST", "clock/advance", {"by": "23h"})
    [sla] = [step for step in moved["steps"] if step["schedule"] == f"sla-{reference}-0"]
    assert sla["at"].startswith("2026-11-23T14:00:")  # 09:00 in New York, not the end of the jump
    [apology] = [m for m in local_stack.texts_to(customer) if "haven't forgotten you" in m.body]
    assert apology.date_created.isoformat().startswith("2026-11-23T14:00")
    assert moved["now"].startswith("2026-11-24T05:30")


def test_a_reopened_case_gets_a_new_promise_and_is_flagged_when_that_is_missed(local_stack, capsys):
    customer = "+12125550182"
    run(local_stack, capsys, "text", "--from", customer, "The tent pole snapped")
    reference = reference_of(local_stack, capsys, customer)
    run(local_stack, capsys, "reply", reference, "Sorry about that, a new pole is on its way.")
    run(local_stack, capsys, "resolve", reference)
    assert "resolved  " in run(local_stack, capsys, "show", reference)

    printed = run(local_stack, capsys, "text", "--from", customer, "The new pole snapped too")
    assert "<- (no reply)" in printed  # a reopened case is not acknowledged again: an agent answers
    shown = run(local_stack, capsys, "show", reference)
    assert shown.startswith(f"{reference}  waiting_on_agent")
    assert "\nresolved " not in shown  # reopened: no longer resolved
    assert f"sla-{reference}-1" in run(local_stack, capsys, "clock")  # a new check, at the new promise

    run(local_stack, capsys, "clock", "advance", "2d")
    shown = run(local_stack, capsys, "show", reference)
    assert "urgent" in shown.splitlines()[0] and "\nSLA        breached" in shown


def test_an_absurd_jump_is_refused_and_the_stack_keeps_working(local_stack, capsys):
    capsys.readouterr()
    assert smsdesk(["--api", local_stack.url, "clock", "advance", "10000000d"]) == 2
    assert "more than a year" in capsys.readouterr().err
    assert run(local_stack, capsys, "clock").startswith("now 2026-")


def test_stop_shows_the_reply_twilio_itself_sends_and_nothing_from_smsdesk(local_stack, capsys):
    customer = "+12125550183"
    printed = run(local_stack, capsys, "text", "--from", customer, "STOP")
    assert printed.splitlines()[1:] == [
        "<- You have successfully been unsubscribed. You will not receive any more messages from this number. "
        "Reply START to resubscribe."
    ]
    shown = local_stack.stack.agent("GET", "/conversations", query={"status": "active"}).body
    assert customer not in [c["customer"] for c in shown["conversations"]]


def test_a_bad_parameter_override_is_a_clear_message_not_a_traceback():
    for overrides, message in [
        ("SurveyDelayHours=0", "SurveyDelayHours=0 is below its minimum, 1"),
        ("Nope=1", "Nope is not a parameter of template.yaml"),
        ("BusinessHours='Mon-Fri 9-5'", 'BUSINESS_HOURS: "9-5" is not opening hours'),
    ]:
        finished = subprocess.run(
            [
                sys.executable,
                "-m",
                "smsdesk_local",
                "--port",
                "0",
                "--twilio-port",
                "0",
                "--parameter-overrides",
                overrides,
            ],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert finished.returncode != 0
        assert message in finished.stderr and "Traceback" not in finished.stderr + finished.stdout


def test_a_stack_on_another_port_says_how_to_point_the_commands_at_it(local_stack):
    assert f"export SMSDESK_API={local_stack.url}" in local_stack.wait_for_output("Activity (Ctrl-C to stop)")
