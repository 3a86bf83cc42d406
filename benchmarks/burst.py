"""A burst: thousands of complaints from as many numbers at once, Twilio pushing back.

N complaints (``--burst N``, 2,000 by default), each from a number of its own, are POSTed to the
local stack's inbound webhook as fast as it takes them (a pool of senders, each retrying a 5xx
or a timeout with the same MessageSid, as Twilio's connection overrides do), while the Twilio
stand-in answers 429 / 20429 to one create request in ten. Then the stack is settled (every
acknowledgement sent, every status callback recorded) and the outcome is read where a customer
and an agent would see it: the texts the stand-in accepted, and the table itself (scanned with
the stand-in's own unmetered client, not through smsdesk's code).

It holds when every complaint is stored as one conversation of its own number, and every number
got exactly one text, its acknowledgement, naming that conversation's reference, with its
delivery recorded from the status callbacks: 0 lost, 0 duplicates. Throughput is complaints per
second from the first POST until the stack settled; the time to accept the POSTs and the time
after it to settle are reported apart, because on the local stack the acknowledgements trail the
webhook (see ``details``).

One complaint goes through first, unmeasured and unfaulted: cold starts, the secret's first
read and the Twilio client's creation are not the burst's.
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

from benchmarks.report import Options, Outcome, Row, rounded
from benchmarks.traffic import REFERENCE, Texting, local_stack

TITLE = "Burst"
SENDERS = 8  # concurrent webhook POSTs, like Twilio delivering a burst
RATE_LIMIT_EVERY = 10  # the stand-in answers 429 / 20429 to every 10th create request
SETTLE_TIMEOUT_SECONDS = 900.0  # a stuck stack fails the run; a slow one is a figure
MONDAY_10AM_NEW_YORK = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
COMPLAINTS = (  # complaints, not keywords: each opens a conversation
    "My order arrived broken and the box was soaked",
    "Still waiting for my refund, it has been three weeks",
    "The delivery driver left my parcel in the rain",
    "I was charged twice for the same order",
    "Wrong size sent again, this is the second time",
)


def numbers(count: int) -> list[str]:
    """``count`` distinct New York numbers (+1 212 555 0000 onwards)."""
    return [f"+1212{5550000 + n:07d}" for n in range(count)]


def _send_all(texting: Texting, senders: list[str]) -> tuple[Counter[int], float, float]:
    """POST one complaint from each number, SENDERS at a time: final statuses, first POST, last answer."""

    def one(indexed: tuple[int, str]) -> int:
        n, sender = indexed
        return texting.text(sender, COMPLAINTS[n % len(COMPLAINTS)])

    first = time.perf_counter()
    with ThreadPoolExecutor(max_workers=SENDERS, thread_name_prefix="twilio-webhook") as pool:
        statuses = Counter(pool.map(one, enumerate(senders)))
    return statuses, first, time.perf_counter()


def _table_items(stack: Any) -> list[dict[str, Any]]:
    """The conversations and messages in the table, read with the stand-in's unmetered client."""
    dynamodb = stack.cloud.client("dynamodb")
    table = stack.cloud.physical("ConversationTable", None)
    items: list[dict[str, Any]] = []
    for page in dynamodb.get_paginator("scan").paginate(
        TableName=table,
        FilterExpression="kind IN (:conversation, :message)",  # the rest is bookkeeping
        ProjectionExpression="kind, customer, direction, purpose, #status, #reference",
        ExpressionAttributeNames={"#status": "status", "#reference": "reference"},
        ExpressionAttributeValues={":conversation": {"S": "conversation"}, ":message": {"S": "message"}},
    ):
        items.extend({k: next(iter(v.values())) for k, v in item.items()} for item in page["Items"])
    return items


def check(senders: list[str], items: list[dict[str, Any]], texts: list[dict[str, Any]]) -> dict[str, Any]:
    """What became of each number's complaint, from the table and the texts Twilio accepted."""
    wanted = set(senders)
    conversations: dict[str, list[str]] = defaultdict(list)  # number -> its conversations' references
    complaints: Counter[str] = Counter()  # number -> inbound messages stored
    acks_stored: Counter[str] = Counter()  # number -> acknowledgements recorded
    delivered: Counter[str] = Counter()  # number -> acknowledgements whose callbacks were recorded
    for item in items:
        number = item.get("customer")
        if number not in wanted:
            continue
        if item.get("kind") == "conversation":
            conversations[number].append(item["reference"])
        elif item.get("kind") == "message" and item.get("direction") == "inbound":
            complaints[number] += 1
        elif item.get("kind") == "message" and item.get("purpose") == "acknowledgement":
            acks_stored[number] += 1
            delivered[number] += item.get("status") == "delivered"
    texted: dict[str, list[str]] = defaultdict(list)  # number -> the bodies Twilio accepted for it
    for message in texts:
        if message["to"] in wanted:
            texted[message["to"]].append(message["body"])

    stored = acknowledged = duplicates = lost = mismatched = 0
    for number in senders:
        is_stored = bool(conversations[number]) and complaints[number] > 0
        acks = [m.group(1) for body in texted[number] if (m := REFERENCE.search(body))]
        stored += is_stored
        acknowledged += bool(acks)
        lost += not (is_stored and acks)
        duplicates += (
            max(0, len(conversations[number]) - 1)
            + max(0, complaints[number] - 1)
            + max(0, len(texted[number]) - 1)  # any second text, acknowledgement or not
        )
        if is_stored and acks and set(acks) != set(conversations[number]):
            mismatched += 1  # acknowledged with a reference that is not its conversation's
    return {
        "stored": stored,
        "acknowledged": acknowledged,
        "duplicates": duplicates,
        "lost": lost,
        "reference_mismatches": mismatched,
        "acknowledgements_recorded": sum(1 for n in senders if acks_stored[n]),
        "acknowledgements_delivered": sum(1 for n in senders if delivered[n]),
    }


def _invocations(stack: Any) -> dict[str, tuple[int, float]]:
    return {f.logical_id: (f.invocations, f.billed_ms) for f in stack.functions.values()}


def run(options: Options) -> Outcome:
    count = options.burst_complaints
    senders = numbers(count)
    with local_stack(MONDAY_10AM_NEW_YORK) as stack:
        texting = Texting(stack)
        texting.text("+12125559999", COMPLAINTS[0])  # warm-up, unfaulted and unmeasured
        stack.settle()
        stack.cloud.usage(reset=True)
        before = _invocations(stack)
        creates_before, accepted_before = stack.twilio.create_requests, len(stack.twilio.messages)
        stack.twilio.faults.counter = 0
        stack.twilio.faults.every = RATE_LIMIT_EVERY

        statuses, first_post, last_answer = _send_all(texting, senders)
        stack.settle(timeout=SETTLE_TIMEOUT_SECONDS)
        settled = time.perf_counter()

        after = _invocations(stack)
        requests, _ = stack.cloud.usage()
        creates = stack.twilio.create_requests - creates_before
        accepted = len(stack.twilio.messages) - accepted_before
        rate_limited = stack.twilio.faults.counter // RATE_LIMIT_EVERY
        texts = list(stack.twilio.messages)
        inbound = next(r.function.logical_id for r in stack.gateway.routes if r.key == "POST /sms/inbound")
        dead_letters = stack.cloud.queue_depths()
        scan_started = time.perf_counter()
        items = _table_items(stack)
        scan_seconds = time.perf_counter() - scan_started

    outcome = check(senders, items, texts)
    posts_seconds, total_seconds = last_answer - first_post, settled - first_post
    per_second = count / total_seconds if total_seconds > 0 else 0.0
    invocations = {k: after[k][0] - before[k][0] for k in after if after[k][0] - before[k][0]}
    busy_seconds = {k: (after[k][1] - before[k][1]) / 1000 for k in invocations}
    webhook_retries = invocations.get(inbound, 0) - count
    rejected = sum(n for status, n in statuses.items() if not 200 <= status < 300)
    dead = sum(dead_letters.values())
    results = {
        "burst": {
            "sent": count,
            "stored": outcome["stored"],
            "acknowledged": outcome["acknowledged"],
            "duplicates": outcome["duplicates"],
            "lost": outcome["lost"],
            "per_second": rounded(per_second, 1),
        }
    }
    # A delivery status that never reaches its message is a lost update too: the agent would see
    # an acknowledgement "queued" forever.
    unrecorded = outcome["acknowledged"] - outcome["acknowledgements_delivered"]
    holds = not (outcome["lost"] or outcome["duplicates"] or outcome["reference_mismatches"] or unrecorded)
    rows = [
        Row(
            TITLE,
            f"{count} complaints, {count} numbers, 1 in {RATE_LIMIT_EVERY} Twilio creates 429",
            f"{outcome['lost']} lost, {outcome['duplicates']} duplicates"
            + (f", {unrecorded} statuses lost" if unrecorded else ""),
            target="0 lost, 0 duplicates",
            ok=holds,
            note=f"{outcome['stored']} stored, {outcome['acknowledged']} acknowledged "
            f"({outcome['acknowledgements_delivered']} recorded delivered), "
            f"{rate_limited} 429s, {webhook_retries} webhook retries, {dead} dead letters",
        ),
        Row(
            TITLE,
            "throughput",
            f"{per_second:.1f} complaints/s",
            note=f"first POST to settled {total_seconds:.0f} s: POSTs accepted in {posts_seconds:.0f} s "
            f"({count / posts_seconds:.0f}/s), settled {total_seconds - posts_seconds:.0f} s later",
        ),
    ]
    details = {
        "senders": SENDERS,
        "rate_limit_every": RATE_LIMIT_EVERY,
        "twilio_429s": rate_limited,
        "twilio_create_requests": creates,
        "twilio_messages_accepted": accepted,
        "webhook_posts_not_2xx": rejected,
        "webhook_final_statuses": {str(k): v for k, v in sorted(statuses.items())},
        "webhook_retries": webhook_retries,
        "seconds_to_accept_all_posts": rounded(posts_seconds, 1),
        "seconds_from_last_post_to_settled": rounded(total_seconds - posts_seconds, 1),
        "seconds_first_post_to_settled": rounded(total_seconds, 1),
        "posts_per_second": rounded(count / posts_seconds, 1) if posts_seconds > 0 else None,
        "invocations": invocations,
        "function_busy_seconds": {k: rounded(v, 1) for k, v in busy_seconds.items()},
        "function_ms_per_invocation": {k: rounded(busy_seconds[k] * 1000 / invocations[k], 1) for k in invocations},
        "aws_requests_per_complaint": rounded(sum(requests.values()) / count, 1),
        "aws_requests_per_complaint_by_operation": {
            f"{service}:{operation}": rounded(n / count, 2) for (service, operation), n in requests.most_common()
        },
        "acknowledgements_recorded": outcome["acknowledgements_recorded"],
        "acknowledgements_delivered": outcome["acknowledgements_delivered"],
        "reference_mismatches": outcome["reference_mismatches"],
        "dead_letters": dead_letters,
        "conversations_and_messages_in_the_table": len(items),
        "seconds_to_scan_the_table": rounded(scan_seconds, 1),
    }
    notes = []
    if unrecorded:
        notes.append(f"{unrecorded} acknowledgements sent whose delivery status never reached the table")
    if outcome["reference_mismatches"]:
        notes.append(f"{outcome['reference_mismatches']} numbers acknowledged with another conversation's reference")
    if rejected:
        notes.append(f"{rejected} webhook POSTs still failed after their retries (statuses {dict(statuses)})")
    if dead:
        notes.append(f"dead letters after the burst: {dead_letters}")
    return Outcome(results, rows, details, notes)
