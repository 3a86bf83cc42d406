"""`smsdesk classify`: texts on stdin, one JSON object a line out, with no AWS and no stack."""

from __future__ import annotations

import json
import os
import subprocess
import sys


def classify(*lines: str) -> list[dict]:
    # No AWS configuration at all, and no local stack: the command must not need either.
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "SMSDESK_"))}
    done = subprocess.run(
        [sys.executable, "-m", "smsdesk_cli.main", "classify"],
        input="\n".join(lines) + "\n",
        capture_output=True,
        text=True,
        env=environment,
        timeout=60,
        check=True,
    )
    return [json.loads(line) for line in done.stdout.splitlines()]


def test_each_line_is_read_as_the_webhook_would_read_it():
    rows = classify(
        "STOP",
        "please stop texting me, wrong number",
        "stop charging my card twice",
        "I will sue you, the heater caught fire",
        "",
        "HELP",
        "START",
        "My card 4111 1111 1111 1111 was charged twice",
    )
    assert [(r["intent"], r["escalate"], r["reason"]) for r in rows] == [
        ("opt_out", False, None),
        ("opt_out", False, "wrong number"),
        ("complaint", False, None),
        ("complaint", True, None),
        ("help", False, None),
        ("opt_in", False, None),
        ("complaint", False, None),
    ]
    assert rows[2]["category"] == "billing"
    assert set(rows[3]["escalation_reasons"]) == {"legal", "safety"}
    assert rows[6]["text"] == "My card [card ending 1111] was charged twice"  # redacted, as stored
    assert all(set(r) >= {"intent", "escalate", "reason"} for r in rows)


def test_each_line_says_its_language_and_how_sure():
    rows = classify("no me manden más mensajes", "别再发短信了", "STOP", "my order never arrived and nobody answers")
    assert [r["intent"] for r in rows] == ["opt_out", "opt_out", "opt_out", "complaint"]
    assert [r["language"] for r in rows[:2]] == ["es", "zh"]
    assert rows[3]["language"] == "en"
    assert rows[2]["confidence"] == 1.0  # an exact keyword
    assert all(0.0 <= r["confidence"] <= 1.0 for r in rows)
