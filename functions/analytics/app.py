"""The analytics: the table's stream (domain events, outbound texts) -> counters per day.

Triggered by the table's stream, filtered to inserted outbox events and outbound messages, in
batches gathered over a window (docs/metrics.md says what is counted and how). A batch's counts
commit in one transaction with a ledger that makes a retried batch harmless; a failure reports
the first record not applied, so Lambda retries from there and, after its retries, describes
the batch to the analytics' on-failure queue (alarmed).
"""

# First: no garbage-collection passes until the first invocation returns (smsdesk.cold_start).
from smsdesk import cold_start  # isort: skip

import os
from typing import TYPE_CHECKING, Any

from smsdesk.analytics import Counting
from smsdesk.analytics_store import AnalyticsRecorder
from smsdesk.aws.table_stream import stream_facts
from smsdesk.clock import process_clock
from smsdesk.observability import build_logger, build_metrics
from smsdesk.runtime import business_settings, repository

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

logger = build_logger()
metrics = build_metrics()

recorder = AnalyticsRecorder(repository(os.environ), Counting(business_settings(os.environ).hours), process_clock())


@cold_start.ends_with_first_invocation
@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: "LambdaContext") -> dict[str, Any]:
    recorded = recorder.record(stream_facts(event.get("Records", [])))
    metrics.add_metric(name="AnalyticsFactsCounted", unit="Count", value=recorded.applied)
    if recorded.failed_from is not None:
        logger.error("analytics not recorded; Lambda will retry", extra={"from": recorded.failed_from})
        return {"batchItemFailures": [{"itemIdentifier": recorded.failed_from}]}
    logger.info("analytics recorded", extra={"counted": recorded.applied, "skipped": recorded.skipped})
    return {"batchItemFailures": []}
