"""The AWS side of the local stack: moto (in a process of its own, :mod:`smsdesk_local.aws_server`)
and the template's resources on it.

The resources are created from template.yaml itself: the conversation table with its keys,
index and stream; the event bus; every SQS queue (the dead-letter queues); the schedule group;
and the Twilio secret under the name the template's parameter gives. Physical names follow the
template (``Name``/``TableName``/``FunctionName`` when it sets one, else ``<stack>-<LogicalId>``),
and :meth:`LocalCloud.physical` answers ``Ref``/``GetAtt`` with them, so the functions'
environment resolves to what exists.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from collections import Counter
from typing import Any

from smsdesk_local.aws_server import PLATFORM_ACCESS_KEY
from smsdesk_local.template import ACCOUNT, REGION, STACK, Resolver, resources

# Credentials for moto (it accepts any); never real ones.
LOCAL_AWS_ENVIRONMENT = {
    "AWS_ACCESS_KEY_ID": "local",
    "AWS_SECRET_ACCESS_KEY": "local",
    "AWS_SESSION_TOKEN": "local",
    "AWS_REGION": REGION,
    "AWS_DEFAULT_REGION": REGION,
}


class LocalCloud:
    def __init__(self, template: dict[str, Any]) -> None:
        self.template = template
        self.endpoint = ""
        self._server: subprocess.Popen[str] | None = None
        self._clients: dict[str, Any] = {}
        self._queue_urls: dict[str, str] = {}  # logical id or queue name -> URL
        self.stream_arns: dict[str, str] = {}  # table logical id -> stream ARN
        self.resolver: Resolver | None = None
        self.cognito_ids: dict[str, str] = {}  # user pool and client logical ids -> their ids

    # ------------------------------------------------------------------ the server

    def start(self) -> str:
        self._server = subprocess.Popen(
            [sys.executable, "-m", "smsdesk_local.aws_server", "--port", "0"],
            stdin=subprocess.PIPE,  # closed when this process ends: the server then exits too
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ, **LOCAL_AWS_ENVIRONMENT},
        )
        assert self._server.stdout is not None
        ready = self._server.stdout.readline().strip()
        if not ready.startswith("ready "):
            self._server.kill()
            raise OSError(f"moto did not start: {ready or 'no answer'}")
        self.endpoint = ready.removeprefix("ready ")
        # This process (the functions, the event sources) talks to moto, never to AWS.
        os.environ.update(LOCAL_AWS_ENVIRONMENT)
        os.environ["AWS_ENDPOINT_URL"] = self.endpoint
        for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE"):
            os.environ.pop(name, None)
        return self.endpoint

    def stop(self) -> None:
        if self._server is not None:
            self._server.terminate()
            try:
                self._server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._server.kill()

    def usage(self, *, reset: bool = False) -> tuple[Counter[tuple[str, str]], Counter[str]]:
        """What the functions used since the last reset, as moto's front metered it: requests by
        (service, operation), and billed units (DynamoDB read and write units, EventBridge events)."""
        noted = self._notes("usage" + ("?reset=1" if reset else ""))
        requests = Counter({(service, operation): n for service, operation, n in noted["requests"]})
        return requests, Counter(noted["units"])

    def schedule_changes(self) -> list[tuple[str, str, str]]:
        """("created" | "deleted", group, name) for every schedule change since the last call."""
        return [tuple(change) for change in self._notes("schedule-changes")]

    def _notes(self, what: str) -> Any:
        with urllib.request.urlopen(f"{self.endpoint}/_smsdesk/{what}", timeout=30) as answer:
            return json.loads(answer.read())

    def client(self, service: str) -> Any:
        """A client for the stand-in's own calls (polling streams and queues, listing schedules),
        signed with their own access key so they are never counted as the functions' requests."""
        if service not in self._clients:
            import boto3

            self._clients[service] = boto3.client(
                service,
                endpoint_url=self.endpoint,
                region_name=REGION,
                aws_access_key_id=PLATFORM_ACCESS_KEY,
                aws_secret_access_key="local",
            )
        return self._clients[service]

    # ------------------------------------------------------------------ names

    def physical(self, logical_id: str, attribute: str | None) -> str:
        resource = self.template["Resources"].get(logical_id)
        if resource is None:
            raise KeyError(f"template.yaml has no resource {logical_id}")
        kind, props = resource["Type"], resource.get("Properties", {})
        if logical_id in self.cognito_ids and attribute is None:
            return self.cognito_ids[logical_id]
        name = self._name(logical_id, kind, props)
        arn = {
            "AWS::DynamoDB::Table": f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{name}",
            "AWS::Events::EventBus": f"arn:aws:events:{REGION}:{ACCOUNT}:event-bus/{name}",
            "AWS::SQS::Queue": f"arn:aws:sqs:{REGION}:{ACCOUNT}:{name}",
            "AWS::Serverless::Function": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}",
            "AWS::IAM::Role": f"arn:aws:iam::{ACCOUNT}:role/{name}",
            "AWS::SNS::Topic": f"arn:aws:sns:{REGION}:{ACCOUNT}:{name}",
            "AWS::Scheduler::ScheduleGroup": f"arn:aws:scheduler:{REGION}:{ACCOUNT}:schedule-group/{name}",
            "AWS::Logs::LogGroup": f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{name}",
        }.get(kind, f"arn:aws:local:{REGION}:{ACCOUNT}:{name}")
        if attribute is None:
            if kind == "AWS::SQS::Queue":
                return self._queue_urls.get(logical_id, f"{self.endpoint}/{ACCOUNT}/{name}")
            if kind in {"AWS::IAM::Role", "AWS::SNS::Topic"}:
                return arn if kind == "AWS::SNS::Topic" else name
            return name
        if attribute == "Arn":
            return arn
        if attribute == "StreamArn":
            return self.stream_arns.get(logical_id, f"{arn}/stream/local")
        if attribute == "QueueName":
            return name
        raise KeyError(f"GetAtt {logical_id}.{attribute} is not known locally")

    def _name(self, logical_id: str, kind: str, props: dict[str, Any]) -> str:
        key = {
            "AWS::DynamoDB::Table": "TableName",
            "AWS::SQS::Queue": "QueueName",
            "AWS::Serverless::Function": "FunctionName",
            "AWS::Events::EventBus": "Name",
            "AWS::Scheduler::ScheduleGroup": "Name",
            "AWS::Logs::LogGroup": "LogGroupName",
        }.get(kind)
        if key and key in props and self.resolver is not None:
            return str(self.resolver.resolve(props[key]))
        return f"{STACK}-{logical_id}"

    def queue_url(self, arn_or_logical_id: str) -> str:
        """The URL of a queue known by its ARN or logical id."""
        if arn_or_logical_id in self._queue_urls:
            return self._queue_urls[arn_or_logical_id]
        name = arn_or_logical_id.rsplit(":", 1)[-1]
        if name not in self._queue_urls:
            self._queue_urls[name] = self.client("sqs").create_queue(QueueName=name)["QueueUrl"]
        return self._queue_urls[name]

    # ------------------------------------------------------------------ resources

    def provision(self, resolver: Resolver, secrets: dict[str, dict[str, str]]) -> None:
        """Create the template's stateful resources on the moto server, and the secrets named by
        the template's parameters (``secrets``: parameter name -> value)."""
        self.resolver = resolver
        sqs = self.client("sqs")
        for logical_id in resources(self.template, "AWS::SQS::Queue"):
            name = self.physical(logical_id, "QueueName")
            url = sqs.create_queue(QueueName=name)["QueueUrl"]
            self._queue_urls[logical_id] = self._queue_urls[name] = url
        dynamodb = self.client("dynamodb")
        for logical_id, table in resources(self.template, "AWS::DynamoDB::Table").items():
            self.stream_arns[logical_id] = self._create_table(dynamodb, logical_id, table["Properties"])
        events = self.client("events")
        for logical_id in resources(self.template, "AWS::Events::EventBus"):
            events.create_event_bus(Name=self.physical(logical_id, None))
        scheduler = self.client("scheduler")
        for logical_id in resources(self.template, "AWS::Scheduler::ScheduleGroup"):
            scheduler.create_schedule_group(Name=self.physical(logical_id, None))
        for parameter, value in secrets.items():
            self.client("secretsmanager").create_secret(Name=resolver.ref(parameter), SecretString=json.dumps(value))

    def _create_table(self, dynamodb: Any, logical_id: str, props: dict[str, Any]) -> str:
        name = self.physical(logical_id, None)
        definition: dict[str, Any] = {
            "TableName": name,
            "AttributeDefinitions": props["AttributeDefinitions"],
            "KeySchema": props["KeySchema"],
            "BillingMode": props.get("BillingMode", "PAY_PER_REQUEST"),
        }
        if props.get("GlobalSecondaryIndexes"):
            definition["GlobalSecondaryIndexes"] = props["GlobalSecondaryIndexes"]
        if props.get("StreamSpecification"):
            definition["StreamSpecification"] = {"StreamEnabled": True, **props["StreamSpecification"]}
        description = dynamodb.create_table(**definition)["TableDescription"]
        ttl = props.get("TimeToLiveSpecification")
        if ttl and ttl.get("Enabled"):
            dynamodb.update_time_to_live(
                TableName=name, TimeToLiveSpecification={"AttributeName": ttl["AttributeName"], "Enabled": True}
            )
        stream_arn: str = description.get("LatestStreamArn", "")
        return stream_arn

    def queue_depths(self) -> dict[str, int]:
        """Messages waiting in each of the template's queues (the dead-letter queues)."""
        sqs = self.client("sqs")
        depths = {}
        for logical_id in resources(self.template, "AWS::SQS::Queue"):
            attributes = sqs.get_queue_attributes(
                QueueUrl=self._queue_urls[logical_id], AttributeNames=["ApproximateNumberOfMessages"]
            )["Attributes"]
            depths[logical_id] = int(attributes["ApproximateNumberOfMessages"])
        return depths
