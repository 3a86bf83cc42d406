"""MediaReceived -> the customer's photos copied from Twilio into the media bucket.

Invoked asynchronously by EventBridge. Each attachment is stored or refused (the reason is in
the thread); one Twilio could not serve now stays pending and the invocation fails, so Lambda
retries it (twice), then the event goes to this function's on-failure queue, which has an alarm.
A redelivered event fetches nothing already decided (smsdesk.media).
"""

# First: no garbage-collection passes until the first invocation returns (smsdesk.cold_start).
from smsdesk import cold_start  # isort: skip

import os
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.utilities.data_classes import EventBridgeEvent, event_source

from smsdesk.aws.media_bucket import MediaBucket
from smsdesk.aws.secrets import TwilioCredentialsProvider, parse_api_key_secret
from smsdesk.clock import process_clock
from smsdesk.config import MediaSettings, MessagingSettings
from smsdesk.events import EventType, ReceivedEvent
from smsdesk.media import MediaCopier, TransientMediaFailure
from smsdesk.observability import build_logger, build_metrics
from smsdesk.runtime import repository
from smsdesk.twilio_media import TwilioMedia

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

logger = build_logger()
metrics = build_metrics()

clock = process_clock()
media = MediaSettings.from_environ(os.environ)
messaging = MessagingSettings.from_environ(os.environ)
credentials = TwilioCredentialsProvider(
    messaging.twilio_api_key_secret_id, clock, max_age=messaging.secret_max_age, parse=parse_api_key_secret
)
copier = MediaCopier(
    repository(os.environ),
    TwilioMedia(credentials, api_base_url=messaging.twilio_api_base_url),
    MediaBucket(media.bucket),
    clock,
)


@cold_start.ends_with_first_invocation
@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
@event_source(data_class=EventBridgeEvent)
def lambda_handler(event: EventBridgeEvent, context: "LambdaContext") -> dict[str, Any]:
    if event.detail_type != EventType.MEDIA_RECEIVED:
        logger.warning("unexpected event", extra={"detail_type": event.detail_type})
        return {"handled": False}
    received = ReceivedEvent.from_detail(event.detail_type, event.detail)
    assert received.message_key is not None  # from_detail requires it of MediaReceived
    logger.append_keys(event_id=received.event_id, conversation=received.conversation)
    result = copier.copy(received.customer, received.conversation, received.message_key)
    logger.info("media copied", extra={"stored": result.stored, "refused": result.refused, "pending": result.pending})
    metrics.add_metric(name="MediaStored", unit="Count", value=result.stored)
    metrics.add_metric(name="MediaRefused", unit="Count", value=result.refused)
    if result.pending:
        # Recorded what could be decided; Lambda retries the rest (then the on-failure queue).
        raise TransientMediaFailure(
            f"{result.pending} attachment(s) could not be fetched now: {'; '.join(result.problems)}"
        )
    return {"handled": True, "stored": result.stored, "refused": result.refused}
