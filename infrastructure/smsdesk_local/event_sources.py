"""What invokes the functions besides HTTP, the way Lambda and its event sources do it.

* **Stream trigger** (``AWS::Lambda::EventSourceMapping`` on the table's stream): records read
  from moto's DynamoDB stream, filtered with the mapping's ``FilterCriteria``, delivered in
  batches of ``BatchSize``; a failed batch is retried from the first reported
  ``batchItemFailures`` item up to ``MaximumRetryAttempts``, then described to the on-failure
  destination.
* **EventBridge rules** (``EventBridgeRule`` events of a function): created on moto's bus with
  the template's pattern, and a queue as the target, so moto does the pattern matching; each
  event is then invoked *asynchronously*: ``EventInvokeConfig.MaximumRetryAttempts`` retries,
  then the ``OnFailure`` destination.
* **EventBridge Scheduler**: moto stores schedules but never runs them. Here one-time ``at()``
  schedules fire when the local clock reaches them, with the schedule's ``Input`` as the event,
  retried per its ``RetryPolicy`` (capped), then sent to its dead-letter queue; then deleted
  (``ActionAfterCompletion: DELETE``).

Retries are immediate: locally there is nothing to wait for, and a failure that survives them
lands in the dead-letter queue, loudly, exactly as deployed.
"""

from __future__ import annotations

import contextlib
import json
import queue
import threading
import traceback
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from smsdesk_local.aws_server import due_time
from smsdesk_local.cloud import LocalCloud
from smsdesk_local.event_patterns import matches
from smsdesk_local.functions import LocalFunction

Report = Callable[[str, str, str, float | None], None]  # function, trigger, outcome, ms
MAX_LOCAL_RETRIES = 3  # Scheduler allows 185; three immediate ones say as much locally


def _now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _error_payload(error: BaseException) -> dict[str, Any]:
    return {
        "errorType": type(error).__name__,
        "errorMessage": str(error)[:500],
        "stackTrace": traceback.format_exception(error)[-3:],
    }


class AsyncInvoker:
    """Lambda's asynchronous invocation: retries, then the on-failure destination."""

    def __init__(self, cloud: LocalCloud, report: Report) -> None:
        self._cloud = cloud
        self._report = report

    def invoke(self, function: LocalFunction, event: dict[str, Any], trigger: str) -> bool:
        config = function.event_invoke_config
        attempts = 1 + int(config.get("MaximumRetryAttempts", 2))
        error: BaseException | None = None
        for attempt in range(1, attempts + 1):
            try:
                function.invoke(event)
                self._report(function.logical_id, trigger, "ok", None)
                return True
            except Exception as failure:
                error = failure
                self._report(function.logical_id, trigger, f"error (attempt {attempt}/{attempts}): {failure!r}", None)
        destination = ((config.get("DestinationConfig") or {}).get("OnFailure") or {}).get("Destination")
        record = {
            "version": "1.0",
            "timestamp": _now_iso(),
            "requestContext": {
                "requestId": str(uuid.uuid4()),
                "functionArn": function.arn,
                "condition": "RetriesExhausted",
                "approximateInvokeCount": attempts,
            },
            "requestPayload": event,
            "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
            "responsePayload": _error_payload(error) if error else None,
        }
        if destination:
            self._cloud.client("sqs").send_message(
                QueueUrl=self._cloud.queue_url(destination), MessageBody=json.dumps(record)
            )
        self._report(function.logical_id, trigger, f"failed; sent to {destination or 'nowhere'}", None)
        return False


# ---------------------------------------------------------------------- DynamoDB stream


class StreamTrigger:
    def __init__(
        self, cloud: LocalCloud, function: LocalFunction, stream_arn: str, mapping: dict[str, Any], report: Report
    ) -> None:
        self._cloud = cloud
        self._streams = cloud.client("dynamodbstreams")
        self.function = function
        self._arn = stream_arn
        self._batch_size = int(mapping.get("BatchSize", 100))
        self._max_retries = int(mapping.get("MaximumRetryAttempts", -1))
        self._filters = [json.loads(f["Pattern"]) for f in (mapping.get("FilterCriteria") or {}).get("Filters", [])]
        self._on_failure = ((mapping.get("DestinationConfig") or {}).get("OnFailure") or {}).get("Destination")
        self._report = report
        self._iterators: dict[str, str | None] = {}

    def poll(self) -> int:
        """Deliver what the stream has; return how many records reached the function."""
        shards = self._streams.describe_stream(StreamArn=self._arn)["StreamDescription"]["Shards"]
        delivered = 0
        for shard in shards:
            shard_id = shard["ShardId"]
            iterator = (
                self._iterators.get(shard_id)
                or self._streams.get_shard_iterator(
                    StreamArn=self._arn, ShardId=shard_id, ShardIteratorType="TRIM_HORIZON"
                )["ShardIterator"]
            )
            response = self._streams.get_records(ShardIterator=iterator)
            self._iterators[shard_id] = response.get("NextShardIterator") or iterator
            records = [self._lambda_record(r) for r in response["Records"]]
            records = [r for r in records if not self._filters or any(matches(f, r) for f in self._filters)]
            for start in range(0, len(records), self._batch_size):
                batch = records[start : start + self._batch_size]
                self._deliver(batch, shard_id)
                delivered += len(batch)
        return delivered

    def _lambda_record(self, record: dict[str, Any]) -> dict[str, Any]:
        data = dict(record["dynamodb"])
        created = data.get("ApproximateCreationDateTime")
        if isinstance(created, datetime):
            data["ApproximateCreationDateTime"] = int(created.timestamp())
        return {**record, "eventVersion": "1.1", "dynamodb": data, "eventSourceARN": self._arn}

    def _deliver(self, batch: list[dict[str, Any]], shard_id: str) -> None:
        remaining, attempts = batch, 0
        while remaining:
            attempts += 1
            try:
                response = self.function.invoke({"Records": remaining}) or {}
                failures = response.get("batchItemFailures") or []
                if not failures:
                    self._report(self.function.logical_id, "stream", f"{len(remaining)} records", None)
                    return
                first = min(int(f["itemIdentifier"]) for f in failures)
                remaining = [r for r in remaining if int(r["dynamodb"]["SequenceNumber"]) >= first]
                outcome = f"{len(failures)} reported failures"
            except Exception as error:
                outcome = f"error: {error!r}"
            if 0 <= self._max_retries < attempts:
                self._give_up(remaining, shard_id, attempts)
                return
            self._report(self.function.logical_id, "stream", f"{outcome}; retrying", None)

    def _give_up(self, batch: list[dict[str, Any]], shard_id: str, attempts: int) -> None:
        description = {
            "requestContext": {
                "requestId": str(uuid.uuid4()),
                "functionArn": self.function.arn,
                "condition": "RetryAttemptsExhausted",
                "approximateInvokeCount": attempts,
            },
            "version": "1.0",
            "timestamp": _now_iso(),
            "DDBStreamBatchInfo": {
                "shardId": shard_id,
                "startSequenceNumber": batch[0]["dynamodb"]["SequenceNumber"],
                "endSequenceNumber": batch[-1]["dynamodb"]["SequenceNumber"],
                "batchSize": len(batch),
                "streamArn": self._arn,
            },
        }
        if self._on_failure:
            self._cloud.client("sqs").send_message(
                QueueUrl=self._cloud.queue_url(self._on_failure), MessageBody=json.dumps(description)
            )
        self._report(self.function.logical_id, "stream", f"batch given up; sent to {self._on_failure}", None)


# ---------------------------------------------------------------------- EventBridge rules


class RuleTrigger:
    """One EventBridgeRule event of a function: moto's rule -> a queue -> asynchronous
    invocations, spread over the function's execution environments (Lambda scales an
    asynchronously invoked function out; locally a few environments are enough to let one
    invocation's back-off, a 429 from Twilio, not hold the others up)."""

    def __init__(
        self,
        cloud: LocalCloud,
        environments: list[LocalFunction],
        rule_name: str,
        bus: str,
        pattern: dict[str, Any],
        invoker: AsyncInvoker,
    ) -> None:
        from concurrent.futures import ThreadPoolExecutor

        self.function = environments[0]
        self.rule_name = rule_name
        self._cloud = cloud
        self._sqs = cloud.client("sqs")
        self._invoker = invoker
        self._idle: queue.SimpleQueue[LocalFunction] = queue.SimpleQueue()
        for environment in environments:
            self._idle.put(environment)
        self._pool = ThreadPoolExecutor(len(environments), thread_name_prefix=f"env-{self.function.logical_id}")
        self._queue = self._sqs.create_queue(QueueName=f"rule-{rule_name}"[:80])["QueueUrl"]
        queue_arn = self._sqs.get_queue_attributes(QueueUrl=self._queue, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        events = cloud.client("events")
        events.put_rule(Name=rule_name, EventBusName=bus, EventPattern=json.dumps(pattern), State="ENABLED")
        events.put_targets(Rule=rule_name, EventBusName=bus, Targets=[{"Id": "function", "Arn": queue_arn}])

    def poll(self) -> int:
        delivered = 0
        while True:
            messages = self._sqs.receive_message(
                QueueUrl=self._queue, MaxNumberOfMessages=10, WaitTimeSeconds=0, VisibilityTimeout=300
            ).get("Messages", [])
            if not messages:
                return delivered
            handled = list(self._pool.map(self._deliver, messages))
            self._sqs.delete_message_batch(QueueUrl=self._queue, Entries=handled)
            delivered += len(handled)

    def _deliver(self, message: dict[str, Any]) -> dict[str, str]:
        event = json.loads(message["Body"])
        environment = self._idle.get()
        try:
            self._invoker.invoke(environment, event, event.get("detail-type", "event"))
        finally:
            self._idle.put(environment)
        return {"Id": message["MessageId"], "ReceiptHandle": message["ReceiptHandle"]}


# ---------------------------------------------------------------------- Scheduler


class ScheduleRunner:
    """Fires due one-time schedules of the template's schedule groups on the local clock.

    It follows the schedules the functions create and delete as the requests go by (see
    :class:`smsdesk_local.cloud.AwsFront`) rather than listing them all on every poll, and
    reads each one from moto when it is due, so what fires is what Scheduler holds."""

    def __init__(
        self,
        cloud: LocalCloud,
        groups: list[str],
        functions_by_arn: dict[str, LocalFunction],
        now: Callable[[], datetime],
        report: Report,
    ) -> None:
        self._cloud = cloud
        self._scheduler = cloud.client("scheduler")
        self._groups = set(groups)
        self._functions = functions_by_arn
        self._now = now
        self._report = report
        self.fired: list[str] = []
        self._due: dict[tuple[str, str], datetime] = {}  # (group, name) -> when
        self._lock = threading.RLock()  # the event-source thread and /_local/clock both look

    def pending(self) -> list[tuple[str, datetime]]:
        """Every one-time schedule waiting to fire: (name, due), soonest first."""
        with self._lock:
            self._follow_changes()
            return sorted(((name, due) for (_, name), due in self._due.items()), key=lambda item: item[1])

    def poll(self) -> int:
        with self._lock:
            self._follow_changes()
            now = self._now()
            due = sorted((when, group, name) for (group, name), when in self._due.items() if when <= now)
            fired = 0
            for _, group, name in due:
                fired += self._fire(group, name, now)
            return fired

    def _follow_changes(self) -> None:
        for change, group, name in self._cloud.schedule_changes():
            if group not in self._groups:
                continue
            if change == "deleted":
                self._due.pop((group, name), None)
                continue
            try:
                detail = self._scheduler.get_schedule(Name=name, GroupName=group)
            except self._scheduler.exceptions.ResourceNotFoundException:
                continue  # the create failed
            when = due_time(detail["ScheduleExpression"], detail.get("ScheduleExpressionTimezone"))
            if when is not None:
                self._due[(group, name)] = when

    def _fire(self, group: str, name: str, now: datetime) -> int:
        scheduler = self._scheduler
        try:
            detail = scheduler.get_schedule(Name=name, GroupName=group)  # cancelled meanwhile?
        except scheduler.exceptions.ResourceNotFoundException:
            self._due.pop((group, name), None)
            return 0
        when = due_time(detail["ScheduleExpression"], detail.get("ScheduleExpressionTimezone"))
        if when is None:
            self._due.pop((group, name), None)
            return 0
        if when > now:  # re-created for later meanwhile
            self._due[(group, name)] = when
            return 0
        target = detail["Target"]
        function = self._functions.get(target["Arn"])
        payload = json.loads(target.get("Input") or "{}")
        retries = min(int((target.get("RetryPolicy") or {}).get("MaximumRetryAttempts", 185)), MAX_LOCAL_RETRIES)
        error: BaseException | None = None
        for attempt in range(1, retries + 2):
            if function is None:
                error = LookupError(f"no local function for {target['Arn']}")
                break
            try:
                function.invoke(payload)
                error = None
                self._report(function.logical_id, f"schedule {name}", "ok", None)
                break
            except Exception as failure:
                error = failure
                self._report(function.logical_id, f"schedule {name}", f"error (attempt {attempt}): {failure!r}", None)
        if error is not None:
            dead_letter = (target.get("DeadLetterConfig") or {}).get("Arn")
            if dead_letter:
                self._cloud.client("sqs").send_message(
                    QueueUrl=self._cloud.queue_url(dead_letter),
                    MessageBody=target.get("Input") or "{}",
                    MessageAttributes={
                        "ERROR_CODE": {"DataType": "String", "StringValue": type(error).__name__},
                        "ERROR_MESSAGE": {"DataType": "String", "StringValue": str(error)[:250] or "error"},
                        "SCHEDULE_ARN": {"DataType": "String", "StringValue": detail["Arn"]},
                    },
                )
            self._report(target["Arn"].rsplit(":", 1)[-1], f"schedule {name}", f"failed; sent to {dead_letter}", None)
        self._due.pop((group, name), None)
        if detail.get("ActionAfterCompletion") == "DELETE":
            with contextlib.suppress(scheduler.exceptions.ResourceNotFoundException):
                scheduler.delete_schedule(Name=name, GroupName=group)
        self.fired.append(name)
        return 1
