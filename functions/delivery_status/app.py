"""POST /sms/status: Twilio's status callbacks for the messages smsdesk sent.

Verify the signature, record the status (only ever forward), answer 204. A callback for a
message smsdesk has not finished recording yet gets a 503, so Twilio retries it (the status
callback URL carries Twilio's retry connection override).
"""

# First: no garbage-collection passes until the first invocation returns (smsdesk.cold_start).
from smsdesk import cold_start  # isort: skip

import os
from typing import TYPE_CHECKING, Any

from smsdesk.aws import http_api
from smsdesk.aws.secrets import TwilioCredentialsProvider
from smsdesk.clock import process_clock
from smsdesk.config import WebhookSettings
from smsdesk.delivery_status import DeliveryStatusRecorder, Recorded
from smsdesk.errors import BadWebhookRequest, ForgedWebhookRequest
from smsdesk.observability import build_logger, build_metrics
from smsdesk.runtime import repository
from smsdesk.twilio_webhook import WebhookVerifier, delivery_status

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

ROUTE = "/sms/status"

logger = build_logger()
metrics = build_metrics()

settings = WebhookSettings.from_environ(os.environ)
clock = process_clock()
verifier = WebhookVerifier(
    settings,
    TwilioCredentialsProvider(settings.twilio_secret_id, clock, refresh_interval=settings.secret_refresh_interval),
)
recorder = DeliveryStatusRecorder(repository(os.environ), clock)


@cold_start.ends_with_first_invocation
@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: "LambdaContext") -> dict[str, Any]:
    try:
        request = http_api.webhook_request(event)
        params, _ = verifier.verified_form(request, ROUTE)
        callback = delivery_status(params, request.url)
    except ForgedWebhookRequest as refused:
        logger.warning("status callback refused", extra={"reason": str(refused)})
        metrics.add_metric(name="ForgedWebhooks", unit="Count", value=1)
        return http_api.problem(403, "signature verification failed")
    except BadWebhookRequest as bad:
        logger.info("bad status callback", extra={"reason": str(bad)})
        return http_api.problem(bad.status, str(bad))

    recorded = recorder.record(callback)
    logger.info(
        "status callback",
        extra={
            "sid": callback.message_sid,
            "status": callback.status,
            "code": callback.error_code,
            "outcome": recorded.outcome,
        },
    )
    if recorded.outcome is Recorded.UNKNOWN_MESSAGE:
        return http_api.problem(503, "message not known yet; retry")
    return http_api.response(204)
