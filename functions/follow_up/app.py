"""Follow-ups, invoked by EventBridge Scheduler one-time schedules: the SLA check, the
satisfaction check, and the release of a message held for quiet hours.

The schedule's input is the payload written by smsdesk.follow_ups; everything is re-read when it
fires (a reopened conversation gets no survey, an opted-out customer nothing). Scheduler retries
a failed invocation, then sends it to the follow-up dead-letter queue (alarmed).
"""

# First: no garbage-collection passes until the first invocation returns (smsdesk.cold_start).
from smsdesk import cold_start  # isort: skip

import os
from typing import TYPE_CHECKING, Any

from smsdesk.follow_up_runner import FollowUpRunner
from smsdesk.follow_ups import ScheduledFollowUp
from smsdesk.observability import build_logger, build_metrics
from smsdesk.runtime import business_settings, messaging_runtime
from smsdesk.send_gateway import describe

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

logger = build_logger()
metrics = build_metrics()

business = business_settings(os.environ)
runtime = messaging_runtime(os.environ, business)
runner = FollowUpRunner(runtime.repository, runtime.gateway, runtime.clock, business)


@cold_start.ends_with_first_invocation
@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: "LambdaContext") -> dict[str, Any]:
    follow_up = ScheduledFollowUp.from_payload(event)  # the schedule's input, as follow_ups wrote it
    logger.append_keys(follow_up=follow_up.kind, schedule=follow_up.name)
    result = runner.run(follow_up)
    summary = describe(result.send, follow_up.customer or "") if result.send else {}
    logger.info("follow-up ran", extra={"done": result.done, **summary})
    metrics.add_metric(name=f"FollowUp_{result.follow_up}", unit="Count", value=1)
    return {"follow_up": result.follow_up, "done": result.done, "outcome": summary.get("outcome")}
