"""The local stack, started as `make local` starts it (python -m smsdesk_local), in a subprocess.

Tests talk to it only over HTTP: the Twilio webhook signed as Twilio signs it, the agent API
signed with SigV4, the Twilio stand-in through the real twilio library, and the local controls
(/_local/settle, /_local/clock/advance) to wait for the asynchronous work deterministically.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

from smsdesk_cli.http import Stack

READY = re.compile(r"smsdesk is running locally on (?P<url>http://127\.0\.0\.1:\d+)")
# Monday 23 November 2026, 10:00 in New York: the business is open.
MONDAY_10AM_NEW_YORK = "2026-11-23T15:00:00Z"


@dataclass
class RunningStack:
    url: str
    process: subprocess.Popen
    output: list[str] = field(default_factory=list)  # everything the stack printed
    printed: threading.Condition = field(default_factory=threading.Condition)

    def read_output(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            with self.printed:
                self.output.append(line)
                self.printed.notify_all()

    def wait_for_output(self, text: str, timeout: float = 30) -> str:
        """Everything printed so far, once ``text`` is among it (the console is read in a thread)."""
        with self.printed:
            self.printed.wait_for(lambda: text in "".join(self.output), timeout=timeout)
            return "".join(self.output)

    @property
    def stack(self) -> Stack:
        return Stack(self.url)

    def twilio(self):
        """The real twilio Client, pointed at the local stand-in."""
        from smsdesk_cli.texting import _client

        return _client(self.stack.local_info())

    def texts_to(self, number: str) -> list:
        """What smsdesk texted ``number``, oldest first."""
        return list(reversed(self.twilio().messages.list(to=number, limit=100)))


def start_local_stack(*args: str) -> Iterator[RunningStack]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    process = subprocess.Popen(
        [sys.executable, "-m", "smsdesk_local", "--port", "0", "--twilio-port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=environment,
    )
    assert process.stdout is not None
    output: list[str] = []
    url = None
    for line in process.stdout:
        output.append(line)
        if match := READY.search(line):
            url = match.group("url")
            break
    if url is None:
        process.wait(timeout=10)
        pytest.fail("the local stack did not start:\n" + "".join(output))
    running = RunningStack(url, process, output)
    # Keep reading, so a full pipe never blocks the stack.
    threading.Thread(target=running.read_output, daemon=True).start()
    try:
        yield running
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.fixture(scope="module")
def local_stack() -> Iterator[RunningStack]:
    yield from start_local_stack("--start", MONDAY_10AM_NEW_YORK)
