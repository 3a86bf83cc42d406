"""Automatic replies, on EventBridge: ComplaintReceived -> the acknowledgement,
KeywordReceived -> the keyword's answer, SatisfactionRecorded -> a thank-you. All go through the
send gateway.

Invoked asynchronously by EventBridge: a failure raises, Lambda retries twice, then the event
goes to this function's on-failure queue (which has an alarm). Redelivered events are harmless:
each reply has a deterministic key that the gateway claims once.
"""

# First: no garbage-collection passes while the function loads (smsdesk.cold_start).
from smsdesk import cold_start  # isort: skip

import os

from smsdesk.auto_replies import AutoResponder
from smsdesk.events import EventType
from smsdesk.follow_ups import ReplyPromises
from smsdesk.observability import build_logger, build_metrics
from smsdesk.runtime import business_settings, messaging_runtime
from smsdesk.send_gateway import describe

logger = build_logger()
metrics = build_metrics()

business = business_settings(os.environ)
services = messaging_runtime(os.environ, business)
responder = AutoResponder(
    services.repository, services.gateway, services.clock, business, on_acknowledged=services.follow_ups.sla_check
)
promises = ReplyPromises(services.repository, services.follow_ups, services.clock, business)


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event, context):
    detail_type, detail = event["detail-type"], event["detail"]
    logger.append_keys(event_id=detail.get("event_id"), conversation=detail.get("conversation"))
    if detail_type == EventType.COMPLAINT_RECEIVED:
        result = responder.acknowledge(detail["conversation"]).result
    elif detail_type == EventType.KEYWORD_RECEIVED:
        result = responder.answer_keyword(
            detail["customer"], detail["keyword"], detail.get("conversation"), detail["message_sid"]
        )
    elif detail_type == EventType.SATISFACTION_RECORDED:
        result = responder.thank_for_score(
            detail["customer"], detail["conversation"], int(detail["score"]), detail["message_sid"]
        )
    elif detail_type == EventType.CONVERSATION_REOPENED:
        promise = promises.reopened(detail["conversation"])
        logger.info("reopened", extra={"reply_by": promise.isoformat() if promise else None})
        return {"handled": True, "reply_by": promise.isoformat() if promise else None}
    else:
        logger.warning("unexpected event", extra={"detail_type": detail_type})
        return {"handled": False}
    if result is not None:
        logger.info("auto reply", extra=describe(result, detail["customer"]))
        metrics.add_metric(name=f"AutoReply_{result.outcome}", unit="Count", value=1)
    return {"handled": True, "outcome": result.outcome if result else None}


cold_start.loaded()
