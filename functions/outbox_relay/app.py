"""The outbox relay: domain events written to the table, published on the EventBridge bus.

Triggered by the table's stream, filtered to inserted outbox items. An event reaches the bus
exactly when the change it announces has committed (the same transaction wrote both). Powertools'
batch processor publishes the records one by one and reports those that failed, so Lambda
retries from the first of them (the events after it go again too: consumers are idempotent);
after its retries the batch goes to the relay's on-failure queue (alarmed). A batch whose every
record failed is reported the same way, not raised: the retry is the same, and the log says why.
"""

# First: no garbage-collection passes until the first invocation returns (smsdesk.cold_start).
from smsdesk import cold_start  # isort: skip

import os
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord

from smsdesk.aws.event_bus import EventPublisher, outbox_records
from smsdesk.config import EventSettings
from smsdesk.observability import build_logger, build_metrics

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
    from aws_lambda_powertools.utilities.typing import LambdaContext

logger = build_logger()
metrics = build_metrics()

publisher = EventPublisher(EventSettings.from_environ(os.environ).event_bus_name)
processor = BatchProcessor(event_type=EventType.DynamoDBStreams, raise_on_entire_batch_failure=False)


def publish(record: DynamoDBRecord) -> None:
    for event in outbox_records([record.raw_event]):  # the mapping's filter let only these through
        publisher.publish(event)


@cold_start.ends_with_first_invocation
@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: "LambdaContext") -> "PartialItemFailureResponse":
    response = process_partial_response(event=event, record_handler=publish, processor=processor, context=context)
    failed = len(response["batchItemFailures"])
    metrics.add_metric(name="EventsPublished", unit="Count", value=len(event.get("Records", [])) - failed)
    if failed:
        logger.error("events not published; Lambda will retry", failed=failed)
    else:
        logger.info("events published", count=len(event.get("Records", [])))
    return response
