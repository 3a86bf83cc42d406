"""The outbox relay: domain events written to the table, published on the EventBridge bus.

Triggered by the table's stream, filtered to inserted outbox items. An event reaches the bus
exactly when the change it announces has committed (the same transaction wrote both). Failed
entries are reported by sequence number so Lambda retries from there; after the retries the
batch goes to the relay's on-failure queue (alarmed).
"""

import os

from smsdesk.aws.event_bus import EventPublisher, outbox_records
from smsdesk.config import EventSettings
from smsdesk.observability import build_logger, build_metrics

logger = build_logger()
metrics = build_metrics()

publisher = EventPublisher(EventSettings.from_environ(os.environ).event_bus_name)


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event, context):
    records = outbox_records(event.get("Records", []))
    failed = publisher.publish(records)
    metrics.add_metric(name="EventsPublished", unit="Count", value=len(records) - len(failed))
    if failed:
        logger.error("events not published; Lambda will retry", extra={"failed": len(failed)})
        # Stream semantics: retry from the first failure (the events after it go again too).
        return {"batchItemFailures": [{"itemIdentifier": min(failed, key=int)}]}
    logger.info("events published", extra={"count": len(records)})
    return {"batchItemFailures": []}
