"""The AWS side of the local stack: an embedded moto server and the template's resources on it.

The resources are created from template.yaml itself: the conversation table with its keys,
index and stream; the event bus; every SQS queue (the dead-letter queues); the schedule group;
and the Twilio secret under the name the template's parameter gives. Physical names follow the
template (``Name``/``TableName``/``FunctionName`` when it sets one, else ``<stack>-<LogicalId>``),
and :meth:`LocalCloud.physical` answers ``Ref``/``GetAtt`` with them, so the functions'
environment resolves to what exists.
"""

from __future__ import annotations

import io
import json
import logging
import os
import queue
import re
import threading
from collections import Counter
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit
from zoneinfo import ZoneInfo

from smsdesk_local.template import ACCOUNT, REGION, STACK, Resolver, resources

# Credentials for moto (it accepts any); never real ones.
LOCAL_AWS_ENVIRONMENT = {
    "AWS_ACCESS_KEY_ID": "local",
    "AWS_SECRET_ACCESS_KEY": "local",
    "AWS_SESSION_TOKEN": "local",
    "AWS_REGION": REGION,
    "AWS_DEFAULT_REGION": REGION,
}


PLATFORM_ACCESS_KEY = "local-platform"
_CREDENTIAL = re.compile(r"Credential=(?P<key>[^/,\s]+)/\d{8}/[^/]+/(?P<service>[^/]+)/")
_AT = re.compile(r"at\((\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})\)")


class AwsFront:
    """In front of moto: counts the requests the functions make (the running cost), and
    validates what moto does not (EventBridge Scheduler accepts any ``at()`` text there)."""

    def __init__(self, app: Any) -> None:  # noqa: ANN401
        self._app = app
        self._lock = threading.Lock()
        self._dynamodb = threading.Lock()  # see smsdesk_local.moto_dynamodb
        self.requests: Counter[tuple[str, str]] = Counter()  # (service, operation) -> count
        # Schedules created and deleted, as seen going by: the scheduler stand-in follows them
        # without listing every schedule on every poll.
        self.schedule_changes: queue.SimpleQueue[tuple[str, str, str]] = queue.SimpleQueue()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:  # noqa: ANN401
        credential = _CREDENTIAL.search(environ.get("HTTP_AUTHORIZATION", ""))
        service = credential.group("service") if credential else "unknown"
        if credential is None or credential.group("key") != PLATFORM_ACCESS_KEY:
            operation = environ.get("HTTP_X_AMZ_TARGET", "").rsplit(".", 1)[-1]
            operation = operation or f"{environ['REQUEST_METHOD']} {environ.get('PATH_INFO', '')}"
            with self._lock:
                self.requests[(service, _operation_name(service, operation))] += 1
        change = None
        if service == "scheduler" and environ.get("PATH_INFO", "").startswith("/schedules/"):
            problem, change = _schedule_request(environ)
            if problem:
                payload = json.dumps({"message": problem}).encode()
                start_response(
                    "400 Bad Request",
                    [("Content-Type", "application/json"), ("x-amzn-ErrorType", "ValidationException"),
                     ("Content-Length", str(len(payload)))],
                )
                return [payload]
        status: list[str] = []

        def respond(code: str, headers: Any, *args: Any) -> Any:  # noqa: ANN401
            status.append(code)
            return start_response(code, headers, *args)

        if service in {"dynamodb", "dynamodbstreams"}:
            with self._dynamodb:
                answer = list(self._app(environ, respond))
        else:
            answer = list(self._app(environ, respond))
        if change is not None and status and status[0].startswith("2"):
            self.schedule_changes.put(change)  # after moto holds it: the runner reads it next
        return answer

    def reset(self) -> Counter[tuple[str, str]]:
        with self._lock:
            counted, self.requests = self.requests, Counter()
            return counted


def _operation_name(service: str, operation: str) -> str:
    """REST-style APIs (Scheduler) have no X-Amz-Target: name their calls by method and path."""
    if service == "scheduler" and " " in operation:
        method, path = operation.split(" ", 1)
        noun = "Schedule" if path.startswith("/schedules") else "ScheduleGroup"
        return {"POST": "Create", "GET": "Get", "DELETE": "Delete", "PUT": "Update"}.get(method, method) + noun
    return operation


def _schedule_request(environ: dict[str, Any]) -> tuple[str | None, tuple[str, str, str] | None]:
    """A Scheduler call on one schedule: what is wrong with it (or None), and the change it makes."""
    name = unquote(environ["PATH_INFO"].removeprefix("/schedules/"))
    method = environ["REQUEST_METHOD"]
    if method == "DELETE":
        group = dict(parse_qsl(environ.get("QUERY_STRING", ""))).get("groupName") or "default"
        return None, ("deleted", group, name)
    if method != "POST":
        return None, None
    body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
    environ["wsgi.input"] = io.BytesIO(body)
    problem = _invalid_schedule(body)
    if problem:
        return problem, None
    return None, ("created", json.loads(body or b"{}").get("GroupName") or "default", name)


def _invalid_schedule(body: bytes) -> str | None:
    """What EventBridge Scheduler would reject in a CreateSchedule, in its words (or None)."""
    try:
        request = json.loads(body or b"{}")
    except ValueError:
        return "the request body is not JSON"
    expression = str(request.get("ScheduleExpression", ""))
    zone = request.get("ScheduleExpressionTimezone") or "UTC"
    try:
        ZoneInfo(zone)
    except (KeyError, ValueError):
        return f"Invalid time zone: {zone}"
    if expression.startswith("at("):
        match = _AT.fullmatch(expression)
        try:
            datetime.fromisoformat(match.group(1)) if match else None
        except ValueError:
            match = None
        if match is None:
            return f"Invalid Schedule Expression {expression}."
    elif not re.fullmatch(r"(rate|cron)\(.+\)", expression):
        return f"Invalid Schedule Expression {expression}."
    return None


def due_time(expression: str, zone: str | None) -> datetime | None:
    """When a one-time schedule is due (aware), or None for anything but ``at()``."""
    match = _AT.fullmatch(expression)
    if match is None:
        return None
    return datetime.fromisoformat(match.group(1)).replace(tzinfo=ZoneInfo(zone or "UTC"))


class InProcessTransport:
    """botocore's ``before-send`` for requests to the local moto endpoint from this process:
    answered by the same moto app, through the same :class:`AwsFront`, without a socket.

    The functions run in the stack's own process, and an HTTP round trip to a threaded
    werkzeug server costs more than the call itself (8 ms against 3 ms for a GetItem here):
    a burst of complaints is mostly that. The server stays up for everyone else (the AWS CLI
    with ``--endpoint-url``, a debugger)."""

    def __init__(self, endpoint: str, app: Any) -> None:  # noqa: ANN401
        self._endpoint = endpoint
        self._app = app

    def __call__(self, request: Any, **_: Any) -> Any:  # noqa: ANN401
        if not request.url.startswith(self._endpoint):
            return None
        from botocore.awsrequest import AWSResponse
        from moto.core.botocore_stubber import MockRawResponse
        from werkzeug.test import EnvironBuilder, run_wsgi_app

        parts = urlsplit(request.url)
        body = request.body.read() if hasattr(request.body, "read") else request.body
        headers = {k: v.decode() if isinstance(v, bytes) else v for k, v in request.headers.items()}
        builder = EnvironBuilder(
            base_url=self._endpoint, path=parts.path, query_string=parts.query, method=request.method,
            headers=headers, data=body or b"",
        )
        try:
            app_iter, status, response_headers = run_wsgi_app(self._app, builder.get_environ(), buffered=True)
        finally:
            builder.close()
        payload = b"".join(app_iter)
        return AWSResponse(request.url, int(status.split()[0]), dict(response_headers), MockRawResponse(payload))


class LocalCloud:
    def __init__(self, template: dict[str, Any]) -> None:
        self.template = template
        self.endpoint = ""
        self._server: Any = None
        self.front: AwsFront | None = None
        self._clients: dict[str, Any] = {}
        self._queue_urls: dict[str, str] = {}  # logical id or queue name -> URL
        self.stream_arns: dict[str, str] = {}  # table logical id -> stream ARN
        self.resolver: Resolver | None = None

    # ------------------------------------------------------------------ the server

    def start(self) -> str:
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
        from werkzeug.serving import WSGIRequestHandler, make_server

        from smsdesk_local import moto_dynamodb

        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per AWS call otherwise
        moto_dynamodb.install()
        self.front = AwsFront(DomainDispatcherApplication(create_backend_app))
        class KeepAlive(WSGIRequestHandler):
            protocol_version = "HTTP/1.1"  # werkzeug's default, 1.0, costs a connection per call

        self._server = make_server("127.0.0.1", 0, self.front, threaded=True, request_handler=KeepAlive)
        threading.Thread(target=self._server.serve_forever, name="moto-server", daemon=True).start()
        host, port = self._server.server_address[:2]
        self.endpoint = f"http://{host}:{port}"
        from botocore.handlers import BUILTIN_HANDLERS

        # Every botocore session this process creates from now on (pynamodb's, smsdesk's,
        # boto3's) takes this shortcut to moto.
        BUILTIN_HANDLERS.append(("before-send", InProcessTransport(self.endpoint, self.front)))
        # This process (the functions, the event sources) talks to moto, never to AWS.
        os.environ.update(LOCAL_AWS_ENVIRONMENT)
        os.environ["AWS_ENDPOINT_URL"] = self.endpoint
        for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE"):
            os.environ.pop(name, None)
        return self.endpoint

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def client(self, service: str) -> Any:  # noqa: ANN401
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

    def provision(self, resolver: Resolver, twilio_secret: dict[str, str]) -> None:
        """Create the template's stateful resources on the moto server."""
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
        self.client("secretsmanager").create_secret(
            Name=resolver.ref("TwilioSecretName"), SecretString=json.dumps(twilio_secret)
        )

    def _create_table(self, dynamodb: Any, logical_id: str, props: dict[str, Any]) -> str:  # noqa: ANN401
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
        return description.get("LatestStreamArn", "")

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
