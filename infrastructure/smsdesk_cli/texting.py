"""``smsdesk text``, ``smsdesk outbox`` and ``smsdesk clock``: a phone and a calendar for the
local stack.

``text`` does what Twilio does when a customer texts the business number: it answers an exact
keyword (STOP, START, HELP and their cousins) itself when the stack's TwilioAnswersOptOutKeywords
says Twilio does (the stand-in sends Twilio's own reply), then POSTs the webhook,
form-encoded with Twilio's parameters and signed (``X-Twilio-Signature``) with the account's
auth token for the exact public URL. Then it lets the stack settle and shows what smsdesk
texted back. ``outbox`` lists what smsdesk sent, through the real twilio library's
``messages.list`` against the local Twilio stand-in.
"""

from __future__ import annotations

import base64
import json
import mimetypes
import secrets
import sys
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import urlencode

from smsdesk_cli.http import Stack, StackError, problem, request


def text(
    stack: Stack,
    sender: str,
    body: str,
    *,
    from_state: str | None,
    photos: list[str] | tuple[str, ...] = (),
    wait: bool,
    out: TextIO,
) -> int:
    from twilio.request_validator import RequestValidator

    info = stack.local_info()
    twilio = info["twilio"]
    url = info["webhooks"]["inbound"]
    sid = "SM" + secrets.token_hex(16)
    params = {
        "ToCountry": "US",
        "SmsMessageSid": sid,
        "NumMedia": str(len(photos)),
        "SmsSid": sid,
        "SmsStatus": "received",
        "Body": body,
        "FromCountry": "US",
        "To": twilio["number"],
        "NumSegments": "1",
        "MessageSid": sid,
        "AccountSid": twilio["account_sid"],
        "From": sender,
        "ApiVersion": "2010-04-01",
    }
    if from_state:
        params["FromState"] = from_state
    for index, photo in enumerate(photos):
        # Twilio keeps the MMS's media first, then names them in the webhook (MediaUrlN).
        try:
            data = Path(photo).read_bytes()
        except OSError as error:
            print(f"cannot read {photo}: {error.strerror}", file=sys.stderr)
            return 2
        content_type = _media_type(photo)
        kept = stack.control(
            "POST",
            "twilio/media",
            {"message_sid": sid, "content_type": content_type, "base64": base64.b64encode(data).decode()},
        )
        params[f"MediaUrl{index}"] = kept["url"]
        params[f"MediaContentType{index}"] = content_type
    signature = RequestValidator(twilio["auth_token"]).compute_signature(url, params)
    before = {m.sid for m in _client(info).messages.list(to=sender, limit=200)} if wait else set()
    # The text reaches Twilio first: its own keyword handling may answer it (as deployed).
    stack.control("POST", "twilio/inbound", {"from": sender, "body": body})
    answer = request(
        "POST",
        url,
        body=urlencode(params).encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": signature},
    )
    if not answer.ok:
        print(f"the webhook answered {answer.status}: {problem(answer)}", file=out)
        return 1
    print(f"-> {sender}: {body}", file=out)
    if not wait:
        return 0
    stack.settle()
    replies = [m for m in _client(info).messages.list(to=sender, limit=200) if m.sid not in before]
    if not replies:
        print("<- (no reply)", file=out)
    for message in reversed(replies):  # oldest first
        print(f"<- {message.body}", file=out)
    return 0


def outbox(stack: Stack, *, to: str | None, as_json: bool, limit: int, out: TextIO) -> int:
    messages = (
        _client(stack.local_info()).messages.list(to=to, limit=limit)
        if to
        else _client(stack.local_info()).messages.list(limit=limit)
    )
    for message in reversed(messages):  # oldest first
        row = {
            "to": message.to,
            "body": message.body,
            "status": message.status,
            "date_created": _iso(message.date_created),
            "sid": message.sid,
        }
        if as_json:
            print(json.dumps(row, ensure_ascii=False), file=out)
        else:
            print(f"{row['date_created']}  {row['to']:<16} {row['status']:<10} {row['body']}", file=out)
    if not messages and not as_json:
        print("(nothing sent yet)", file=out)
    return 0


def clock(stack: Stack, advance: str | None, *, out: TextIO) -> int:
    if advance is None:
        state = stack.control("GET", "clock")
        print(f"now {state['now']}", file=out)
        for item in state["pending"]:
            print(f"  due {item['due']}  {item['schedule']}", file=out)
        return 0
    try:
        moved = stack.control("POST", "clock/advance", {"by": advance})
    except StackError as error:
        print(f"cannot advance the clock: {error}", file=sys.stderr)
        return 2
    print(f"now {moved['now']}", file=out)
    for step in moved.get("steps") or [{"schedule": name} for name in moved["fired"]]:
        at = f"  at {step['at']}" if step.get("at") else ""
        print(f"  fired {step['schedule']}{at}", file=out)
    return 0


def _media_type(path: str) -> str:
    """What a phone would declare the file as (by its name; smsdesk checks the bytes too)."""
    suffix = Path(path).suffix.lower()
    if suffix in {".heic", ".heif"}:
        return f"image/{suffix[1:]}"
    return mimetypes.guess_type(path)[0] or "application/octet-stream"


def _client(info: dict[str, Any]) -> Any:
    """The real twilio Client, its requests sent to the local stand-in."""
    from twilio.rest import Client

    from smsdesk.twilio_messages import rebased_http_client

    twilio = info["twilio"]
    http = rebased_http_client(twilio["api_base_url"], 10.0)
    return Client(twilio["account_sid"], twilio["auth_token"], http_client=http)


def _iso(value: datetime | None) -> str | None:
    from smsdesk.clock import to_iso

    return to_iso(value) if value else None
