"""The template's Lambda functions, loaded fresh and invoked the way Lambda invokes them.

A function is its ``CodeUri`` and ``Handler`` from template.yaml, imported under a name of its
own by ``smsdesk_local.functions.load_module`` (every handler file is called ``app.py``), with
its environment: the test environment plus the literal variables the template gives it
(``POWERTOOLS_SERVICE_NAME``, ``POWERTOOLS_METRICS_NAMESPACE``...). Loading runs the module's
cold start (configuration, clients, services), so a test that loads a function sees exactly
what a new Lambda execution environment would.

The events that reach the non-HTTP functions are built from what moto itself produced: the
table's stream records (as Lambda's DynamoDB event source hands them over, after the template's
FilterCriteria), and the EventBridge envelopes that the template's rules deliver (each rule
also targets an SQS queue here, so a test reads what the function would have been invoked with).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import boto3
from botocore.config import Config

from smsdesk_local.event_patterns import matches
from smsdesk_local.functions import LambdaContext, load_module
from smsdesk_local.template import environment, event_rules, function_property, functions
from tests.support.api_gateway import HttpAnswer, through_api_gateway
from tests.support.template import template


@dataclass(frozen=True)
class FunctionSpec:
    logical_id: str
    code_uri: str
    handler: str
    variables: dict[str, str]  # the literal environment variables (Globals, then the function's)
    memory: int
    timeout: int

    @property
    def service(self) -> str:
        return self.variables.get("POWERTOOLS_SERVICE_NAME", "service_undefined")

    def rule_patterns(self) -> list[dict[str, Any]]:
        """The EventBridge rule patterns that invoke this function."""
        return [rule.pattern for rule in event_rules(template()) if rule.function == self.logical_id]


def function_spec(logical_id: str) -> FunctionSpec:
    """The function as template.yaml declares it (Globals, then its own properties)."""
    document = template()
    variables = environment(document, logical_id)
    return FunctionSpec(
        logical_id,
        functions(document)[logical_id]["Properties"]["CodeUri"],
        function_property(document, logical_id, "Handler"),
        {name: str(value) for name, value in variables.items() if isinstance(value, (str, int, float))},
        memory=int(function_property(document, logical_id, "MemorySize")),
        timeout=int(function_property(document, logical_id, "Timeout")),
    )


@dataclass
class LoadedFunction:
    spec: FunctionSpec
    module: ModuleType

    def context(self) -> LambdaContext:
        return LambdaContext(self.spec.logical_id, self.spec.memory, self.spec.timeout)

    def invoke(self, event: dict[str, Any]) -> Any:
        """One invocation, as Lambda makes it (an exception is the invocation failing)."""
        return self.module.lambda_handler(event, self.context())

    def http(self, event: dict[str, Any]) -> HttpAnswer:
        """One request through API Gateway: what the caller gets back (a failure is a 500)."""
        return through_api_gateway(self.module.lambda_handler, event, self.context())


def load_function(logical_id: str, monkeypatch: Any, environ: Mapping[str, str], instance: str = "") -> LoadedFunction:
    """A new execution environment of ``logical_id``: its cold start runs now, under ``environ``.

    ``instance`` names a second, concurrent execution environment of the same function.
    """
    spec = function_spec(logical_id)
    for name, value in {**environ, **spec.variables}.items():
        monkeypatch.setenv(name, value)
    module = load_module(spec.code_uri, spec.handler, f"{logical_id}{instance}")
    return LoadedFunction(spec, module)


# ---------------------------------------------------------------------------------- wiring


class TableStream:
    """The conversation table's DynamoDB stream, read from moto as Lambda's event source would."""

    def __init__(self, table_name: str) -> None:
        # botocore sends DynamoDB Streams calls to account-based endpoints moto does not serve.
        self._client = boto3.client("dynamodbstreams", config=Config(account_id_endpoint_mode="disabled"))
        self._arn = boto3.client("dynamodb").describe_table(TableName=table_name)["Table"]["LatestStreamArn"]
        shard = self._client.describe_stream(StreamArn=self._arn)["StreamDescription"]["Shards"][0]["ShardId"]
        self._iterator = self._client.get_shard_iterator(
            StreamArn=self._arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        trigger = template()["Resources"]["OutboxRelayStreamTrigger"]["Properties"]
        self._filters = [json.loads(f["Pattern"]) for f in trigger["FilterCriteria"]["Filters"]]

    def new_records(self, *, filtered: bool = True) -> list[dict[str, Any]]:
        """Records written since the last call, shaped as in a Lambda DynamoDB stream event."""
        response = self._client.get_records(ShardIterator=self._iterator)
        self._iterator = response["NextShardIterator"]
        records = []
        for record in response["Records"]:
            dynamodb = dict(record["dynamodb"])
            created = dynamodb.get("ApproximateCreationDateTime")
            if created is not None:  # boto3 parses it; Lambda's JSON carries epoch seconds
                dynamodb["ApproximateCreationDateTime"] = int(created.timestamp())
            shaped = {**record, "eventVersion": "1.1", "dynamodb": dynamodb, "eventSourceARN": self._arn}
            if not filtered or any(matches(f, shaped) for f in self._filters):
                records.append(shaped)
        return records

    def lambda_event(self, **kwargs: Any) -> dict[str, Any]:
        return {"Records": self.new_records(**kwargs)}


class EventRules:
    """The template's EventBridge rules on the bus, each also delivering to an SQS queue."""

    def __init__(self, bus_name: str, logical_ids: list[str]) -> None:
        self._events, self._sqs = boto3.client("events"), boto3.client("sqs")
        self._events.create_event_bus(Name=bus_name)
        self._queues: dict[str, str] = {}
        for logical_id in logical_ids:
            url = self._sqs.create_queue(QueueName=f"{logical_id}-invocations")["QueueUrl"]
            arn = self._sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
            for n, pattern in enumerate(function_spec(logical_id).rule_patterns()):
                name = f"{logical_id}-{n}"
                self._events.put_rule(Name=name, EventBusName=bus_name, EventPattern=json.dumps(pattern))
                self._events.put_targets(Rule=name, EventBusName=bus_name, Targets=[{"Id": "function", "Arn": arn}])
            self._queues[logical_id] = url

    def delivered(self, logical_id: str) -> list[dict[str, Any]]:
        """The EventBridge events the rules delivered for ``logical_id`` since the last call."""
        url, events = self._queues[logical_id], []
        while messages := self._sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
            for message in messages:
                events.append(json.loads(message["Body"]))
                self._sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        return events


def scheduler_inputs(group: str) -> list[dict[str, Any]]:
    """What EventBridge Scheduler would invoke the follow-up function with: each schedule's Input."""
    client = boto3.client("scheduler")
    inputs = []
    for listed in client.list_schedules(GroupName=group)["Schedules"]:
        schedule = client.get_schedule(Name=listed["Name"], GroupName=group)
        inputs.append({"expression": schedule["ScheduleExpression"], "input": json.loads(schedule["Target"]["Input"])})
    return inputs
