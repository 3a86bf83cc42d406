"""POST /sms/inbound: Twilio's "A message comes in" webhook.

Verify the signature, record the text (classified, redacted, de-duplicated, with its events)
and answer 200 with empty TwiML. Everything else (acknowledging, opt-out confirmations,
keyword replies) happens asynchronously, on the events this records.
"""

# First: no garbage-collection passes until the first invocation returns (smsdesk.cold_start).
from smsdesk import cold_start  # isort: skip

import os
from typing import TYPE_CHECKING, Any

from smsdesk.aws import http_api
from smsdesk.aws.secrets import TwilioCredentialsProvider
from smsdesk.clock import process_clock
from smsdesk.config import InboundSettings, WebhookSettings
from smsdesk.errors import BadWebhookRequest, ForgedWebhookRequest
from smsdesk.inbound import InboundService
from smsdesk.observability import build_logger, build_metrics
from smsdesk.phone_numbers import mask
from smsdesk.runtime import repository
from smsdesk.templates import auto_reply_keywords
from smsdesk.twilio_webhook import WebhookVerifier, inbound_sms

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

ROUTE = "/sms/inbound"

logger = build_logger()
metrics = build_metrics()

settings = WebhookSettings.from_environ(os.environ)
inbound_settings = InboundSettings.from_environ(os.environ)
clock = process_clock()
credentials = TwilioCredentialsProvider(
    settings.twilio_secret_id, clock, refresh_interval=settings.secret_refresh_interval
)
verifier = WebhookVerifier(settings, credentials)
inbound = InboundService(
    repository(os.environ),
    clock,
    auto_reply_keywords=auto_reply_keywords(inbound_settings),
    twilio_answers_opt_out_keywords=inbound_settings.twilio_answers_opt_out_keywords,
    reopen_window=inbound_settings.reopen_window,
)


@cold_start.ends_with_first_invocation
@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: "LambdaContext") -> dict[str, Any]:
    try:
        request = http_api.webhook_request(event)
        params, account = verifier.verified_form(request, ROUTE)
        sms = inbound_sms(params, account.account_sid)
    except ForgedWebhookRequest as refused:
        logger.warning("webhook refused", extra={"reason": str(refused)})
        metrics.add_metric(name="ForgedWebhooks", unit="Count", value=1)
        return http_api.problem(403, "signature verification failed")
    except BadWebhookRequest as bad:
        logger.info("bad webhook request", extra={"reason": str(bad), "status": bad.status})
        return http_api.problem(bad.status, str(bad))

    received = inbound.receive(sms)
    logger.info(
        "text received",
        extra={
            "outcome": received.outcome,
            "from": mask(sms.sender),
            "message_sid": sms.message_sid,
            "conversation": received.conversation,
            "intent": received.classification.intent if received.classification else None,
            "events": received.events,
        },
    )
    metrics.add_metric(name="InboundTexts", unit="Count", value=1)
    return http_api.twiml_ok()
