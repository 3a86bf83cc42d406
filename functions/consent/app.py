"""Opt-out processing, on EventBridge: ConsentRevoked, ConsentGranted, HelpRequested.

The consent change was recorded by the inbound webhook; this function follows it through:
cancels pending follow-ups, sends the single opt-out confirmation (unless Twilio answered the
keyword), the opt-in confirmation, or the HELP answer. Async: failures retry, then go to the
on-failure queue (alarmed). Redeliveries are harmless (deterministic message keys).
"""

# First: no garbage-collection passes until the first invocation returns (smsdesk.cold_start).
from smsdesk import cold_start  # isort: skip

import os
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.utilities.data_classes import EventBridgeEvent, event_source

from smsdesk.consent_processing import ConsentProcessor
from smsdesk.events import EventType, ReceivedEvent
from smsdesk.observability import build_logger, build_metrics
from smsdesk.runtime import business_settings, messaging_runtime
from smsdesk.send_gateway import describe

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

logger = build_logger()
metrics = build_metrics()

business = business_settings(os.environ)
runtime = messaging_runtime(os.environ, business)
processor = ConsentProcessor(runtime.gateway, runtime.follow_ups, business)

HANDLED = {
    EventType.CONSENT_REVOKED,
    EventType.CONSENT_GRANTED,
    EventType.HELP_REQUESTED,
    EventType.OPT_IN_REQUESTED,
}


@cold_start.ends_with_first_invocation
@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
@event_source(data_class=EventBridgeEvent)
def lambda_handler(event: EventBridgeEvent, context: "LambdaContext") -> dict[str, Any]:
    logger.append_keys(detail_type=event.detail_type)
    if event.detail_type not in HANDLED:
        logger.warning("unexpected event")
        return {"handled": False}
    received = ReceivedEvent.from_detail(event.detail_type, event.detail)
    logger.append_keys(event_id=received.event_id)
    outcome = processor.follow_through(received)
    assert outcome is not None  # every type in HANDLED is followed through
    summary = describe(outcome.send, received.customer) if outcome.send else {"outcome": "nothing to send"}
    logger.info("consent followed through", extra={**summary, "cancelled_follow_ups": len(outcome.cancelled)})
    metrics.add_metric(name=f"Consent_{received.type}", unit="Count", value=1)
    return {"handled": True, "outcome": summary["outcome"], "cancelled": list(outcome.cancelled)}
