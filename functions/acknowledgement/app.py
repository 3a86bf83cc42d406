"""Automatic replies, on EventBridge: ComplaintReceived -> the acknowledgement,
KeywordReceived -> the keyword's answer, SatisfactionRecorded -> a thank-you. All go through the
send gateway.

Invoked asynchronously by EventBridge: a failure raises, Lambda retries twice, then the event
goes to this function's on-failure queue (which has an alarm). Redelivered events are harmless:
each reply has a deterministic key that the gateway claims once.
"""

# First: no garbage-collection passes until the first invocation returns (smsdesk.cold_start).
from smsdesk import cold_start  # isort: skip

import os
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.utilities.data_classes import EventBridgeEvent, event_source

from smsdesk.auto_replies import AutoResponder
from smsdesk.events import EventType, ReceivedEvent
from smsdesk.follow_ups import ReplyPromises
from smsdesk.observability import build_logger, build_metrics
from smsdesk.runtime import business_settings, messaging_runtime
from smsdesk.send_gateway import describe

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

logger = build_logger()
metrics = build_metrics()

business = business_settings(os.environ)
runtime = messaging_runtime(os.environ, business)
responder = AutoResponder(runtime.repository, runtime.gateway, runtime.follow_ups, runtime.clock, business)
promises = ReplyPromises(runtime.repository, runtime.follow_ups, runtime.clock, business)

HANDLED = {
    EventType.COMPLAINT_RECEIVED,
    EventType.KEYWORD_RECEIVED,
    EventType.SATISFACTION_RECORDED,
    EventType.CONVERSATION_REOPENED,
}


@cold_start.ends_with_first_invocation
@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
@event_source(data_class=EventBridgeEvent)
def lambda_handler(event: EventBridgeEvent, context: "LambdaContext") -> dict[str, Any]:
    if event.detail_type not in HANDLED:
        logger.warning("unexpected event", extra={"detail_type": event.detail_type})
        return {"handled": False}
    received = ReceivedEvent.from_detail(event.detail_type, event.detail)
    logger.append_keys(event_id=received.event_id, conversation=received.conversation)
    if received.type is EventType.CONVERSATION_REOPENED and received.conversation:
        promise = promises.reopened(received.conversation)
        logger.info("reopened", extra={"reply_by": promise.isoformat() if promise else None})
        return {"handled": True, "reply_by": promise.isoformat() if promise else None}
    result = responder.reply_to(received)
    if result is not None:
        logger.info("auto reply", extra=describe(result, received.customer))
        metrics.add_metric(name=f"AutoReply_{result.outcome}", unit="Count", value=1)
    return {"handled": True, "outcome": result.outcome if result else None}
