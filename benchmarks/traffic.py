"""Traffic for the benchmarks that need the whole stack (cost, burst): the local stack in this
process, customers texting it as Twilio would, agents acting through the signed agent API."""

from __future__ import annotations

import os
import re
import secrets
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from smsdesk_cli.http import Stack
from smsdesk_local.stack import LocalSettings, LocalStack

REFERENCE = re.compile(r"Your reference is (C-[0-9A-Z]+)\.")


@contextmanager
def local_stack(start: datetime) -> Iterator[LocalStack]:
    """The local stack, started on ``start``, its functions' logs and metrics discarded."""
    saved = sys.stdout
    sys.stdout = open(os.devnull, "w")  # noqa: SIM115 — the functions bind it at their cold start
    stack = LocalStack(LocalSettings(port=0, twilio_port=0, start=start, background=True), say=lambda line: None)
    try:
        stack.start()
        yield stack
    finally:
        stack.stop()
        sys.stdout.close()
        sys.stdout = saved


class Texting:
    """Customers texting the business number: the webhook POST Twilio makes, signed."""

    def __init__(self, stack: LocalStack) -> None:
        from twilio.request_validator import RequestValidator

        info = stack.info()
        self._url = info["webhooks"]["inbound"]
        self._twilio = info["twilio"]
        self._validator = RequestValidator(info["twilio"]["auth_token"])
        self.agent = Stack(info["api"])

    def text(self, sender: str, body: str, *, attempts: int = 4) -> int:
        """POST one text; retried on a 5xx or a timeout as Twilio's connection overrides ask
        (``#rc=3&rp=ct,rt,5xx``): the same MessageSid, so a retry is never a second text."""
        sid = "SM" + secrets.token_hex(16)
        params = {
            "MessageSid": sid,
            "SmsSid": sid,
            "AccountSid": self._twilio["account_sid"],
            "From": sender,
            "To": self._twilio["number"],
            "Body": body,
            "NumMedia": "0",
            "ApiVersion": "2010-04-01",
        }
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Twilio-Signature": self._validator.compute_signature(self._url, params),
        }
        status = 0
        for _ in range(attempts):
            request = urllib.request.Request(self._url, data=urlencode(params).encode(), headers=headers)
            try:
                with urllib.request.urlopen(request, timeout=15) as answer:
                    return answer.status
            except urllib.error.HTTPError as error:
                status = error.code
                if error.code < 500:
                    return status
            except OSError:
                status = 599
        return status

    def resolve(self, reference: str) -> int:
        return self.agent.agent("POST", f"/conversations/{reference}/resolve", payload={}).status


def texts_to(stack: LocalStack, number: str) -> list[dict[str, Any]]:
    return [m for m in stack.twilio.messages if m["to"] == number]


def reference_of(stack: LocalStack, number: str) -> str:
    """The reference the acknowledgement gave ``number``."""
    for message in texts_to(stack, number):
        if found := REFERENCE.search(message["body"]):
            return found.group(1)
    raise LookupError(f"{number} was not acknowledged")
