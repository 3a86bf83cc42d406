"""Twilio at the HTTP layer: the real twilio library's requests, intercepted with `responses`.

Tests assert on what Twilio would have received (To, From, Body, StatusCallback), and can make
the API answer 429, 5xx or a Twilio error code, exactly as the real one does.
"""

from __future__ import annotations

import json
import re
import uuid
from collections import deque
from dataclasses import dataclass, field
from urllib.parse import parse_qsl

import responses

_NO_CODE = object()  # fail_next(code_field=False): the error body names no code
MESSAGES = re.compile(r"https://api\.twilio\.com/2010-04-01/Accounts/(AC\w+)/Messages\.json")


@dataclass
class FakeTwilioApi:
    mock: responses.RequestsMock
    sent: list[dict[str, str]] = field(default_factory=list)
    attempts: int = 0
    status: str = "queued"  # what Twilio answers a message's status is (on create, and when listed)
    _faults: deque = field(default_factory=deque)

    def fail_next(
        self,
        status: int,
        code: int | None = None,
        times: int = 1,
        message: str = "error",
        *,
        after_create: bool = False,
        code_field: bool = True,
    ) -> None:
        """The next request(s) fail; ``after_create``: Twilio took the message, then failed to answer;
        ``code_field=False``: the error body has no ``code`` at all (``code=None`` sends it as null)."""
        for _ in range(times):
            self._faults.append((status, code if code_field else _NO_CODE, message, after_create))

    def crash_next(self, exception: BaseException, *, after_create: bool = False) -> None:
        """The next request raises in the caller, as a Lambda that dies mid-send would
        (``after_create``: after Twilio took the message)."""
        self._faults.append((None, None, exception, after_create))

    def to(self, number: str) -> list[dict[str, str]]:
        return [m for m in self.sent if m["To"] == number]

    def _create(self, request):
        self.attempts += 1
        form = dict(parse_qsl(request.body if isinstance(request.body, str) else request.body.decode()))
        sid = "SM" + uuid.uuid4().hex
        if self._faults:
            status, code, message, after_create = self._faults.popleft()
            if after_create:
                self.sent.append({**form, "Sid": sid})
            if status is None:
                raise message
            error = {"code": code, "message": message, "status": status, "more_info": ""}
            if code is _NO_CODE:
                del error["code"]
            return status, {}, json.dumps(error)
        self.sent.append({**form, "Sid": sid})
        body = {
            "sid": sid,
            "status": self.status,
            "to": form["To"],
            "from": form.get("From"),
            "body": form["Body"],
            "num_segments": "1",
            "direction": "outbound-api",
            "date_created": "Mon, 23 Nov 2026 15:00:00 +0000",
        }
        return 201, {}, json.dumps(body)

    def _list(self, request):
        params = dict(parse_qsl(request.url.split("?", 1)[1])) if "?" in request.url else {}
        found = [m for m in reversed(self.sent) if m["To"] == params.get("To", m["To"])]
        messages = [
            {
                "sid": m["Sid"],
                "to": m["To"],
                "body": m["Body"],
                "status": self.status,
                "direction": "outbound-api",
                "date_created": "Mon, 23 Nov 2026 15:00:00 +0000",
            }
            for m in found
        ]
        return 200, {}, json.dumps({"messages": messages, "next_page_uri": None, "page": 0, "page_size": 50})


def install(mock: responses.RequestsMock) -> FakeTwilioApi:
    api = FakeTwilioApi(mock)
    mock.add_callback(responses.POST, MESSAGES, callback=api._create)
    mock.add_callback(responses.GET, MESSAGES, callback=api._list)
    return api
