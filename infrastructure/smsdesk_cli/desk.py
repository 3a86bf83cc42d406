"""The agent commands: ``conversations``, ``show``, ``reply``, ``resolve``, ``reopen``, ``opt-out``.

Each is one call (or, for a long list, a few pages) to the agent API, with a token; the API
decides, the command only shows the answer. Exit status: 0 done, 1 the API refused (the reason
is printed), 2 the stack could not be reached.
"""

from __future__ import annotations

import json
import uuid
from typing import Any, TextIO
from urllib.parse import quote

from smsdesk_cli.http import Answer, Stack, problem

PAGE = 50


def conversations(stack: Stack, *, status: str, limit: int, as_json: bool, out: TextIO, err: TextIO) -> int:
    shown, cursor = 0, None
    rows: list[dict[str, Any]] = []
    while shown < limit:
        query = {"status": status, "limit": str(min(PAGE, limit - shown))}
        if cursor:
            query["cursor"] = cursor
        answer = stack.agent("GET", "/conversations", query=query)
        if not answer.ok:
            return _refused(answer, err)
        page = answer.body["conversations"]
        rows.extend(page)
        shown += len(page)
        cursor = answer.body.get("next_cursor")
        if not cursor or not page:
            break
    for row in rows:
        if as_json:
            print(json.dumps(row, ensure_ascii=False), file=out)
        else:
            flag = "URGENT" if row["priority"] == "urgent" else ""
            print(
                f"{row['reference']:<9} {row['status']:<20} {flag:<6} {row['customer']:<16} "
                f"{row['category']:<9} {row['opened_at'][:16]}  {_short(row['summary'], 60)}",
                file=out,
            )
    if not rows and not as_json:
        print(f"(no {status} conversations)", file=out)
    return 0


def show(stack: Stack, reference: str, *, as_json: bool, out: TextIO, err: TextIO) -> int:
    answer = stack.agent("GET", f"/conversations/{quote(reference)}")
    if not answer.ok:
        return _refused(answer, err)
    c = answer.body
    if as_json:
        print(json.dumps(c, ensure_ascii=False, indent=2), file=out)
        return 0
    name = f" ({c['customer_name']})" if c.get("customer_name") else ""
    print(f"{c['reference']}  {c['status']}  {c['priority']}  {c['category']}", file=out)
    print(f"customer   {c['customer']}{name}  consent: {c.get('consent')}", file=out)
    for label, key in (
        ("opened", "opened_at"),
        ("reply by", "reply_by"),
        ("first reply", "first_response_at"),
        ("resolved", "resolved_at"),
        ("closed", "closed_at"),
    ):
        if c.get(key):
            print(f"{label:<10} {c[key]}", file=out)
    if c.get("reopened_count"):
        print(f"{'reopened':<10} {c['reopened_count']} time{'s' if c['reopened_count'] != 1 else ''}", file=out)
    if c.get("sla_breached"):
        print(f"{'SLA':<10} breached (no agent reply by the promised time)", file=out)
    if c.get("possible_opt_out"):
        print(
            f"{'consent':<10} POSSIBLE OPT-OUT: nothing is sent until you decide "
            f"(smsdesk opt-out {c['customer']} / smsdesk not-an-opt-out {c['customer']})",
            file=out,
        )
    for label, key in (
        ("escalated", "escalation_reasons"),
        ("for you", "agent_note"),
        ("note", "resolution_note"),
        ("csat", "csat_score"),
        ("automatic", "auto_reply_note"),
        ("language", "language"),
    ):
        if c.get(key):
            value = ", ".join(c[key]) if isinstance(c[key], list) else c[key]
            print(f"{label:<10} {value}", file=out)
    print("", file=out)
    for m in c["messages"]:  # in the order the customer saw them (the API lists them so)
        arrow = "->" if m["direction"] == "inbound" else "<-"
        who = "customer" if m["direction"] == "inbound" else m["author"]
        at, state = m["created_at"], ""
        if m["direction"] == "outbound":
            # A text held for quiet hours or the daily cap is listed when it went, saying when it was written.
            sent = m.get("sent_at") or ""
            when = ""
            if sent[:16] > m["created_at"][:16]:
                at, when = sent, f", written {m['created_at'][:16]}"
            elif m.get("send_after") and m["status"] == "held":
                when = f", held until {m['send_after'][:16]}"
            state = f"  [{m['status']}{when}{': ' + m['note'] if m.get('note') else ''}]"
        print(f"{at[:19]}  {arrow} {who:<18} {m['body']}{state}", file=out)
        for a in m.get("media") or []:  # photos: a link valid for 5 minutes, or why not
            what = a["url"] if a.get("url") else (a.get("reason") or a["status"])
            print(
                f"{'':<21}   attachment {a['index'] + 1}: {a['status']}, {a.get('content_type') or '?'}: {what}",
                file=out,
            )
    return 0


def reply(stack: Stack, reference: str, text: str, *, out: TextIO, err: TextIO) -> int:
    # One key per command run: if the request is retried, the API sends the text once.
    answer = stack.agent(
        "POST",
        f"/conversations/{quote(reference)}/replies",
        payload={"text": text},
        headers={"Idempotency-Key": uuid.uuid4().hex},
    )
    if answer.status >= 400 and answer.status != 409:
        return _refused(answer, err)
    result = answer.body
    if answer.status == 409 or result.get("outcome") in {"refused", "failed"}:
        print(f"not sent: {result.get('note') or problem(answer)}", file=err)
        return 1
    if result["outcome"] == "held":
        print(f"held until {result['send_after']} (the customer's quiet hours or daily limit)", file=out)
    else:
        print(f"{result['outcome']}", file=out)
    return 0


def resolve(stack: Stack, reference: str, note: str | None, *, out: TextIO, err: TextIO) -> int:
    answer = stack.agent("POST", f"/conversations/{quote(reference)}/resolve", payload={"note": note} if note else {})
    if not answer.ok:
        return _refused(answer, err)
    print(f"{reference} resolved; the satisfaction check is scheduled", file=out)
    return 0


def reopen(stack: Stack, reference: str, *, out: TextIO, err: TextIO) -> int:
    answer = stack.agent("POST", f"/conversations/{quote(reference)}/reopen", payload={})
    if not answer.ok:
        return _refused(answer, err)
    print(f"{reference} is {answer.body['status']}", file=out)
    return 0


def opt_out(stack: Stack, number: str, reason: str | None, *, out: TextIO, err: TextIO) -> int:
    answer = stack.agent("POST", f"/customers/{quote(number)}/opt-out", payload={"reason": reason} if reason else {})
    if not answer.ok:
        return _refused(answer, err)
    print(f"{number} is opted out", file=out)
    return 0


def not_an_opt_out(stack: Stack, number: str, *, out: TextIO, err: TextIO) -> int:
    answer = stack.agent("POST", f"/customers/{quote(number)}/not-an-opt-out", payload={})
    if not answer.ok:
        return _refused(answer, err)
    print(f"{number}: not an opt-out; texts may go again", file=out)
    return 0


def _refused(answer: Answer, err: TextIO) -> int:
    print(f"{answer.status}: {problem(answer)}", file=err)
    return 1


def _short(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 3] + "..."
