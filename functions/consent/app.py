"""Opt-out processing, on EventBridge: ConsentRevoked, ConsentGranted, HelpRequested.

The consent change was recorded by the inbound webhook; this function follows it through:
cancels pending follow-ups, sends the single opt-out confirmation (unless Twilio answered the
keyword), the opt-in confirmation, or the HELP answer. Async: failures retry, then go to the
on-failure queue (alarmed). Redeliveries are harmless (deterministic message keys).
"""

# First: no garbage-collection passes while the function loads (smsdesk.cold_start).
from smsdesk import cold_start  # isort: skip

import os

from smsdesk.consent_processing import ConsentProcessor
from smsdesk.events import EventType
from smsdesk.observability import build_logger, build_metrics
from smsdesk.runtime import business_settings, messaging_runtime
from smsdesk.send_gateway import describe

logger = build_logger()
metrics = build_metrics()

business = business_settings(os.environ)
runtime = messaging_runtime(os.environ, business)
processor = ConsentProcessor(runtime.gateway, runtime.follow_ups, business)

HANDLERS = {
    EventType.CONSENT_REVOKED: processor.revoked,
    EventType.CONSENT_GRANTED: processor.granted,
    EventType.HELP_REQUESTED: processor.help_requested,
    EventType.OPT_IN_REQUESTED: processor.opt_in_requested,
}


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event, context):
    detail_type, detail = event["detail-type"], event["detail"]
    logger.append_keys(event_id=detail.get("event_id"), detail_type=detail_type)
    handle = HANDLERS.get(detail_type)
    if handle is None:
        logger.warning("unexpected event")
        return {"handled": False}
    outcome = handle(detail["customer"], detail)
    summary = describe(outcome.send, detail["customer"]) if outcome.send else {"outcome": "nothing to send"}
    logger.info("consent followed through", extra={**summary, "cancelled_follow_ups": len(outcome.cancelled)})
    metrics.add_metric(name=f"Consent_{detail_type}", unit="Count", value=1)
    return {"handled": True, "outcome": summary["outcome"], "cancelled": list(outcome.cancelled)}


cold_start.loaded()
