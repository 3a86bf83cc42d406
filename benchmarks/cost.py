"""What a complaint costs in AWS over its whole life, excluding SMS fees.

The life measured: the complaint is texted in (webhook), stored and announced (outbox relay),
acknowledged (with its SLA check scheduled), resolved by an agent (agent API), asked "How did we
do?" a day later (Scheduler -> follow-up), answered "5" (webhook) and thanked; every text
smsdesk sends gets Twilio's two status callbacks (sent, delivered). It runs on the local stack,
for real: the requests the functions make are metered at moto's front (requests by operation,
DynamoDB request units from the items' sizes, EventBridge entries), API Gateway requests and
Lambda invocations at the local gateway and functions, Scheduler invocations at its stand-in.
Secrets Manager is a fixed cost (reads per warm container and hour), reported apart.
One complaint goes through first, unmeasured, so cold starts and the secret's first reads are
not charged to the others.

Lambda duration is what the invocations took here (this machine, not a 512 MB arm64 Lambda:
an estimate, and a small share of the total): the median invocation of each function, so that
neither the first call of each further execution environment (its clients, twilio's REST client)
nor a busy moment of a shared machine is charged to every complaint. Every other figure is a count.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import Any

from benchmarks import prices
from benchmarks.report import Options, Outcome, Row, median, rounded
from benchmarks.traffic import Texting, local_stack, reference_of

TITLE = "Cost per complaint"
COMPLAINTS = 20
TARGET_USD_PER_10K = 0.60  # 0.50 for the life of a complaint, plus the 0.10 the analytics may add (issue 12)
ANALYTICS = "AnalyticsFunction"
ANALYTICS_TARGET_USD_PER_10K = 0.10  # what the analytics may add (issue 12)
MONDAY_10AM_NEW_YORK = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)


def _lifecycle(stack: Any, texting: Texting, numbers: list[str]) -> None:
    for number in numbers:
        texting.text(number, "My order arrived broken and the box was soaked")
    stack.settle()
    for number in numbers:
        texting.resolve(reference_of(stack, number))
    stack.settle()
    stack.advance("24h")  # Tuesday morning in New York: the satisfaction checks go out
    for number in numbers:
        texting.text(number, "5")
    stack.settle()
    stack.advance("3d")  # whatever else was scheduled has run


def _snapshot(stack: Any) -> dict[str, Any]:
    return {
        "invocations": {f.logical_id: f.invocations for f in stack.functions.values()},
        "durations_ms": {f.logical_id: f.durations_ms for f in stack.functions.values()},
        "memory": {f.logical_id: f.memory for f in stack.functions.values()},
        "api_requests": stack.gateway.requests,
        "schedules_fired": len(stack.schedules_fired),
    }


def run(options: Options) -> Outcome:
    with local_stack(MONDAY_10AM_NEW_YORK) as stack:
        texting = Texting(stack)
        _lifecycle(stack, texting, ["+12125559000"])  # warm-up: cold starts, secret reads
        stack.cloud.usage(reset=True)
        before = _snapshot(stack)
        numbers = [f"+1212555{9001 + n:04d}" for n in range(COMPLAINTS)]
        _lifecycle(stack, texting, numbers)
        after = _snapshot(stack)
        requests, units = stack.cloud.usage()
        sent = Counter(m["body"].split(".")[0][:40] for m in stack.twilio.messages if m["to"] in numbers)

    n = COMPLAINTS
    invocations = {k: after["invocations"][k] - before["invocations"][k] for k in after["invocations"]}
    typical_ms = {
        k: median(after["durations_ms"][k][len(before["durations_ms"][k]) :]) for k in invocations if invocations[k]
    }
    lambda_usd = sum(prices.lambda_cost(invocations[k], typical_ms[k], after["memory"][k]) for k in typical_ms)
    api_requests = after["api_requests"] - before["api_requests"]
    schedules = after["schedules_fired"] - before["schedules_fired"]
    usd = {
        "lambda": lambda_usd,
        "dynamodb_writes": units["dynamodb_write_units"] * prices.DYNAMODB_WRITE_REQUEST_UNITS.per_unit,
        "dynamodb_reads": units["dynamodb_read_units"] * prices.DYNAMODB_READ_REQUEST_UNITS.per_unit,
        "eventbridge": units["eventbridge_events"] * prices.EVENTBRIDGE_CUSTOM_EVENTS.per_unit,
        "scheduler": schedules * prices.EVENTBRIDGE_SCHEDULER_INVOCATIONS.per_unit,
        "api_gateway": api_requests * prices.API_GATEWAY_HTTP_REQUESTS.per_unit,
    }
    # Secrets Manager reads follow warm containers and time (each caches the secret: the
    # webhooks 5 minutes, the senders an hour), not complaints: a fixed cost, reported apart.
    secret_reads = requests[("secretsmanager", "GetSecretValue")]
    per_10k = {k: v / n * 10_000 for k, v in usd.items()}
    # The analytics' share, inside the figures above: its function, and its own DynamoDB units
    # (items keyed ANALYTICS#, metered apart); it reads the stream (free) and sends no event.
    analytics_usd = (
        (
            prices.lambda_cost(invocations[ANALYTICS], typical_ms[ANALYTICS], after["memory"][ANALYTICS])
            if invocations.get(ANALYTICS)
            else 0.0
        )
        + units["analytics_dynamodb_write_units"] * prices.DYNAMODB_WRITE_REQUEST_UNITS.per_unit
        + units["analytics_dynamodb_read_units"] * prices.DYNAMODB_READ_REQUEST_UNITS.per_unit
    )
    analytics_per_10k = analytics_usd / n * 10_000
    total_per_10k = sum(per_10k.values())
    aws_requests = sum(requests.values()) / n
    results = {
        "requests_per_complaint": rounded(aws_requests, 1),
        "usd_per_10k_complaints": round(total_per_10k, 3),
        "analytics_usd_per_10k_complaints": round(analytics_per_10k, 4),
    }
    rows = [
        Row(
            TITLE,
            "AWS API requests",
            f"{aws_requests:.1f} per complaint",
            note=", ".join(f"{op} {c / n:.1f}" for (_, op), c in requests.most_common(6)),
        ),
        Row(
            TITLE,
            "platform",
            f"{api_requests / n:.1f} API req, {sum(invocations.values()) / n:.1f} invocations",
            note=f"{schedules / n:.1f} schedules fired, {units['eventbridge_events'] / n:.1f} events",
        ),
        Row(
            TITLE,
            "DynamoDB units",
            f"{units['dynamodb_write_units'] / n:.1f} WRU, {units['dynamodb_read_units'] / n:.1f} RRU",
            note="per complaint, from the items' sizes",
        ),
        Row(
            TITLE,
            "USD per 10,000 complaints",
            f"${total_per_10k:.3f}",
            target=f"<= ${TARGET_USD_PER_10K:.2f}",
            ok=total_per_10k <= TARGET_USD_PER_10K,
            note=", ".join(f"{k} ${v:.3f}" for k, v in sorted(per_10k.items(), key=lambda kv: -kv[1])),
        ),
        Row(
            TITLE,
            "of which the analytics",
            f"${analytics_per_10k:.4f}",
            target=f"<= ${ANALYTICS_TARGET_USD_PER_10K:.2f}",
            ok=analytics_per_10k <= ANALYTICS_TARGET_USD_PER_10K,
            note=f"{invocations.get(ANALYTICS, 0) / n:.2f} invocations, "
            f"{units['analytics_dynamodb_write_units'] / n:.2f} WRU, "
            f"{units['analytics_dynamodb_read_units'] / n:.2f} RRU per complaint",
        ),
    ]
    details = {
        "complaints": n,
        "requests_per_complaint_by_operation": {f"{s}:{op}": round(c / n, 2) for (s, op), c in requests.items()},
        "units_per_complaint": {k: round(v / n, 2) for k, v in units.items()},
        "api_gateway_requests_per_complaint": round(api_requests / n, 2),
        "lambda_invocations_per_complaint": {k: round(v / n, 2) for k, v in invocations.items() if v},
        "lambda_median_ms_per_invocation_here": {k: round(ms, 1) for k, ms in typical_ms.items()},
        "schedules_fired_per_complaint": round(schedules / n, 2),
        "usd_per_10k_by_service": {k: round(v, 4) for k, v in per_10k.items()},
        "texts_sent_per_complaint": {k: round(v / n, 2) for k, v in sent.items()},
        "secrets_manager_reads_in_this_run": secret_reads,
        "secrets_manager_fixed_usd_per_month": round(
            7 * 12 * 24 * 30 * prices.SECRETS_MANAGER_API_CALLS.per_unit + prices.SECRETS_MANAGER_SECRET_MONTH.usd, 2
        ),
        "prices_checked_on": prices.CHECKED_ON,
        "prices_not_confirmed": prices.unconfirmed(),
    }
    notes = [
        "Lambda duration is measured on this machine, not a 512 MB arm64 Lambda; all else is counted",
        "Secrets Manager is a fixed cost (the secret, and reads per warm container and hour: at most "
        f"~${details['secrets_manager_fixed_usd_per_month']:.2f} a month with 7 functions warm all the time), "
        "not per complaint",
        f"prices ({prices.REGION}, checked {prices.CHECKED_ON}) in benchmarks/prices.py; not confirmed: "
        + ", ".join(prices.unconfirmed()),
    ]
    return Outcome(results, rows, details, notes)
