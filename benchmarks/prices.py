"""AWS on-demand prices in us-east-1 (US East, N. Virginia), in USD, for the cost benchmark.

Checked on 2026-11-23. The AWS pricing pages render their rate tables client-side, so the stored
copies of them that could be consulted (aws.amazon.com/lambda/pricing/,
aws.amazon.com/dynamodb/pricing/on-demand/, aws.amazon.com/api-gateway/pricing/) show the units
and rules but not the figures. Every figure below was therefore taken from secondary sources
that quote those pages, and is marked CONFIRMED where at least two independent ones agree (a
contradicting source, where one was found, is named beside the figure). NOT CONFIRMED:
EventBridge Scheduler (sources disagree) and Secrets Manager (one source only). Re-check against
the AWS pages (or the AWS Price List API,
https://pricing.us-east-1.amazonaws.com/offers/v1.0/aws/<service>/current/us-east-1/index.json)
before quoting a cost to anyone.

Excluded on purpose: free tiers (a deployment's bill depends on what else the account runs),
SMS fees (Twilio's), storage, data transfer, CloudWatch Logs and metrics.
"""

from __future__ import annotations

from dataclasses import dataclass

CHECKED_ON = "2026-11-23"
REGION = "us-east-1"
MILLION = 1_000_000


@dataclass(frozen=True, slots=True)
class Price:
    usd: float  # per `per` units
    per: float
    unit: str
    source: str  # the AWS page the figure belongs to
    confirmed: bool  # see the module doc
    note: str = ""

    @property
    def per_unit(self) -> float:
        return self.usd / self.per


# --- AWS Lambda (https://aws.amazon.com/lambda/pricing/) -------------------------------------
# arm64 (Graviton), first 7.5 billion GB-s a month: $0.0000133334 per GB-s (x86_64 is
# $0.0000166667). Quoted by cloudchipr.com (2024 guide), lambda_local_runner's cost notes and
# artillery's prices.js (arm64 1333340e-11, citing the AWS page).
LAMBDA_ARM64_GB_SECOND = Price(
    0.0000133334, 1, "GB-second", "https://aws.amazon.com/lambda/pricing/", True,
    "arm64, first 7.5 billion GB-s per month; billed per 1 ms of duration, init included",
)  # fmt: skip
# $0.20 per million requests, either architecture (the AWS page's own text states $0.20 per
# million requests for Lambda Managed Instances' request charges; the same figure everywhere).
LAMBDA_REQUESTS = Price(0.20, MILLION, "request", "https://aws.amazon.com/lambda/pricing/", True)

# --- Amazon DynamoDB, on-demand (https://aws.amazon.com/dynamodb/pricing/on-demand/) ----------
# Halved on 2024-11-01 (from $1.25 / $0.25 per million): $0.625 per million write request units,
# $0.125 per million read request units (airbyte.com's pricing guide, 2025; jusdb.com and
# db-news.com on the 50% cut). One source contradicts: infratally.com still quotes the pre-cut
# $0.25 per million RRU; the post-cut figures are used. Units, from the AWS page itself: a write
# of up to 1 KB is one WRU, a transactional write two WRU per 1 KB; a strongly consistent read of
# up to 4 KB is one RRU, an eventually consistent read half, a transactional read two.
DYNAMODB_WRITE_REQUEST_UNITS = Price(
    0.625, MILLION, "write request unit", "https://aws.amazon.com/dynamodb/pricing/on-demand/", True,
    "standard table class; TransactWriteItems costs 2 WRU per item per KB",
)  # fmt: skip
DYNAMODB_READ_REQUEST_UNITS = Price(
    0.125, MILLION, "read request unit", "https://aws.amazon.com/dynamodb/pricing/on-demand/", True,
    "standard table class; consistent GetItem of <= 4 KB = 1 RRU, eventually consistent = 0.5",
)  # fmt: skip
# DynamoDB Streams: GetRecords calls made by a Lambda trigger (the outbox relay's) are free
# (AWS DynamoDB developer guide, "Evaluate your DynamoDB streams usage"; CONFIRMED from AWS).
DYNAMODB_STREAMS_READS_BY_LAMBDA = Price(
    0.0, MILLION, "stream read request (Lambda trigger)",
    "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CostOptimization_StreamsUsage.html", True,
)  # fmt: skip

# --- Amazon EventBridge (https://aws.amazon.com/eventbridge/pricing/) -------------------------
# Custom events published to an event bus: $1.00 per million, each 64 KB chunk of a PutEvents
# entry is one event (cloudburn.io 2026 guide, factualminds.com June 2026, awsfundamentals.com,
# wring.co). Deliveries to targets in the same account are not charged.
EVENTBRIDGE_CUSTOM_EVENTS = Price(
    1.00, MILLION, "custom event (64 KB chunk)", "https://aws.amazon.com/eventbridge/pricing/", True,
)  # fmt: skip
# EventBridge Scheduler: $1.00 per million invocations after 14 million free a month
# (cloudburn.io, March 2026; awsnegotiations.com confirms the ~14M free tier). NOT CONFIRMED:
# wring.co says Scheduler invocations are free. Counted at $1.00 (the cautious figure).
EVENTBRIDGE_SCHEDULER_INVOCATIONS = Price(
    1.00, MILLION, "schedule invocation", "https://aws.amazon.com/eventbridge/pricing/", False,
    "sources disagree (one says free); 14M invocations a month are free either way",
)  # fmt: skip

# --- Amazon API Gateway, HTTP APIs (https://aws.amazon.com/api-gateway/pricing/) --------------
# $1.00 per million requests for the first 300 million a month ($0.90 after), metered in 512 KB
# increments (apigatewaycost.com, awsforengineers.com May 2025, go-cloud.io 2026; the 512 KB
# metering is in AWS's "Best practices for private APIs" whitepaper).
API_GATEWAY_HTTP_REQUESTS = Price(
    1.00, MILLION, "HTTP API request (512 KB increment)", "https://aws.amazon.com/api-gateway/pricing/", True,
    "first 300 million requests a month",
)  # fmt: skip

# --- AWS Secrets Manager (https://aws.amazon.com/secrets-manager/pricing/) ----------------------
# $0.05 per 10,000 API calls; $0.40 per secret per month (hivebook.wiki's Secrets Manager page;
# the same two figures in most guides). NOT CONFIRMED from a second independent source read
# here; the per-secret fee is a fixed monthly cost, not per complaint.
SECRETS_MANAGER_API_CALLS = Price(
    0.05, 10_000, "API call", "https://aws.amazon.com/secrets-manager/pricing/", False,
)  # fmt: skip
SECRETS_MANAGER_SECRET_MONTH = Price(
    0.40, 1, "secret per month", "https://aws.amazon.com/secrets-manager/pricing/", False,
    "fixed: one secret (the Twilio credentials), whatever the traffic",
)  # fmt: skip

# --- Amazon SQS (https://aws.amazon.com/sqs/pricing/) ------------------------------------------
# Standard queues: $0.40 per million requests (first 100 billion a month); FIFO $0.50; every
# 64 KB chunk of a payload is one request (factualminds.com June 2026, cloudburn.io March 2026,
# unanswered.io). smsdesk's queues are on-failure destinations and dead-letter queues:
# requests only when something failed.
SQS_STANDARD_REQUESTS = Price(
    0.40, MILLION, "request (64 KB chunk)", "https://aws.amazon.com/sqs/pricing/", True,
)  # fmt: skip
SQS_FIFO_REQUESTS = Price(0.50, MILLION, "request (64 KB chunk)", "https://aws.amazon.com/sqs/pricing/", True)

PRICES: dict[str, Price] = {
    "lambda_arm64_gb_second": LAMBDA_ARM64_GB_SECOND,
    "lambda_requests": LAMBDA_REQUESTS,
    "dynamodb_write_request_units": DYNAMODB_WRITE_REQUEST_UNITS,
    "dynamodb_read_request_units": DYNAMODB_READ_REQUEST_UNITS,
    "dynamodb_streams_reads_by_lambda": DYNAMODB_STREAMS_READS_BY_LAMBDA,
    "eventbridge_custom_events": EVENTBRIDGE_CUSTOM_EVENTS,
    "eventbridge_scheduler_invocations": EVENTBRIDGE_SCHEDULER_INVOCATIONS,
    "api_gateway_http_requests": API_GATEWAY_HTTP_REQUESTS,
    "secrets_manager_api_calls": SECRETS_MANAGER_API_CALLS,
    "secrets_manager_secret_month": SECRETS_MANAGER_SECRET_MONTH,
    "sqs_standard_requests": SQS_STANDARD_REQUESTS,
    "sqs_fifo_requests": SQS_FIFO_REQUESTS,
}


def lambda_cost(invocations: int, billed_ms: float, memory_mb: int) -> float:
    """USD for ``invocations`` of ``billed_ms`` each at ``memory_mb`` (arm64), requests included."""
    gb_seconds = invocations * (billed_ms / 1000) * (memory_mb / 1024)
    return gb_seconds * LAMBDA_ARM64_GB_SECOND.per_unit + invocations * LAMBDA_REQUESTS.per_unit


def unconfirmed() -> list[str]:
    return [name for name, price in PRICES.items() if not price.confirmed]
