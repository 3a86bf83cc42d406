"""smsdesk on one machine: no AWS account, no Docker.

:class:`LocalStack` reads template.yaml and runs what it describes:

* an embedded moto server with the template's table (and its stream), event bus, queues,
  schedule group and the Twilio secret (:mod:`smsdesk_local.cloud`);
* every function of the template, imported from its ``CodeUri``/``Handler`` with its resolved
  environment, invoked as Lambda invokes it (:mod:`smsdesk_local.functions`);
* the HTTP API routes on one port (:mod:`smsdesk_local.http_gateway`), behind the template's
  authorizers, with the agent user pool on moto's Cognito (:mod:`smsdesk_local.user_pool`) and
  a local agent and supervisor to sign in with;
* the console's files under ``/console/`` (:mod:`smsdesk_local.console_site`);
* the stream trigger, the EventBridge rules and the Scheduler (:mod:`smsdesk_local.event_sources`);
* a stand-in of Twilio's Messages API that the real twilio library talks to, which calls the
  status callbacks back (:mod:`smsdesk_local.twilio_standin`);
* one clock for all of them that can travel forward (:mod:`smsdesk_local.travel_clock`).

Event sources run in a background thread; :meth:`LocalStack.settle` runs them until nothing is
left to do (what tests and ``smsdesk text`` use to see the outcome of a text deterministically).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from smsdesk_local import template as cfn
from smsdesk_local.cloud import LocalCloud
from smsdesk_local.console_site import ConsoleSite
from smsdesk_local.event_sources import AsyncInvoker, RuleTrigger, ScheduleRunner, StreamTrigger
from smsdesk_local.functions import LocalFunction
from smsdesk_local.http_gateway import (
    HttpGateway,
    Route,
    compile_path,
)
from smsdesk_local.travel_clock import TravelClock, parse_duration
from smsdesk_local.twilio_standin import TwilioStandIn
from smsdesk_local.user_pool import LOCAL_AGENT_EMAIL, LOCAL_AGENT_PASSWORD, LocalUserPool

LOCAL_SUPERVISOR_EMAIL = "supervisor@smsdesk.local"

# The local Twilio account: the stand-in accepts these, the webhooks are signed with the token.
LOCAL_ACCOUNT_SID = "AC" + "10ca1" + "0" * 27
LOCAL_AUTH_TOKEN = "local-twilio-auth-token-0000"
LOCAL_API_KEY_SID = "SK" + "10ca1" + "0" * 27
LOCAL_API_KEY_SECRET = "local-twilio-api-key-secret-0000"
# Parameters the template has no default for, and what differs locally.
LOCAL_PARAMETERS = {
    "BusinessName": "Acme Outdoor",
    "SupportContact": "support@acme.example",
    "TwilioSender": "+15005550006",  # Twilio's magic "valid sender" test number
}
SETTLE_TIMEOUT_SECONDS = 60.0
MAX_CLOCK_STEPS = 10_000  # schedules fired one due time at a time in one `clock advance`
# Execution environments for each function EventBridge invokes (Lambda would scale further).
ASYNC_ENVIRONMENTS = 4


@dataclass
class LocalSettings:
    port: int = 3000
    twilio_port: int | None = None  # default: port + 1 (any free port when port is 0)
    start: datetime | None = None  # where the local clock starts (default: now)
    parameters: dict[str, str] = field(default_factory=dict)  # like sam deploy --parameter-overrides
    background: bool = True  # run event sources continuously (make local); tests may settle instead


Report = Callable[[str, str, str, float | None], None]


class LocalStack:
    def __init__(
        self, settings: LocalSettings, report: Report | None = None, say: Callable[[str], None] = print
    ) -> None:
        self.settings = settings
        self.clock = TravelClock(settings.start)
        self.template = cfn.load_template()
        self.cloud = LocalCloud(self.template)
        self.twilio = TwilioStandIn(
            LOCAL_ACCOUNT_SID, LOCAL_AUTH_TOKEN, self.clock.now, api_key=(LOCAL_API_KEY_SID, LOCAL_API_KEY_SECRET)
        )
        self.gateway = HttpGateway([], self._control, self._report)
        self.functions: dict[str, LocalFunction] = {}
        self.parameters: dict[str, str] = {}
        self._user_report = report
        self._say = say
        self._streams: list[StreamTrigger] = []
        self._rules: list[RuleTrigger] = []
        self._schedules: ScheduleRunner | None = None
        self._pump_lock = threading.Lock()
        self._stopping = threading.Event()
        self._pump_thread: threading.Thread | None = None

    # ------------------------------------------------------------------ life cycle

    def start(self) -> LocalStack:
        from smsdesk.clock import use_process_clock

        use_process_clock(self.clock)  # before any function is imported: they read it at cold start
        self.cloud.start()
        twilio_port = self.settings.twilio_port
        if twilio_port is None:
            twilio_port = self.settings.port + 1 if self.settings.port else 0
        self.twilio.start(twilio_port)
        self.twilio.on_create = self._texted
        base_url = self.gateway.start(self.settings.port)
        self.parameters = {
            **cfn.parameter_defaults(self.template),
            **LOCAL_PARAMETERS,
            "PublicBaseUrl": base_url,
            **self.settings.parameters,
        }
        self.twilio.answers_opt_out_keywords = self.parameters.get("TwilioAnswersOptOutKeywords") == "true"
        resolver = cfn.Resolver(self.template, self.parameters, self.cloud.physical)
        self.cloud.provision(
            resolver,
            {
                "TwilioSecretName": {"account_sid": LOCAL_ACCOUNT_SID, "auth_token": LOCAL_AUTH_TOKEN},
                "TwilioApiKeySecretName": {
                    "account_sid": LOCAL_ACCOUNT_SID,
                    "api_key_sid": LOCAL_API_KEY_SID,
                    "api_key_secret": LOCAL_API_KEY_SECRET,
                },
            },
        )
        self.user_pool = LocalUserPool(self.cloud.client("cognito-idp"), self.template)
        self.user_pool.provision(resolver)
        self.cloud.cognito_ids = self.user_pool.ids
        self.user_pool.add_agent(LOCAL_AGENT_EMAIL, LOCAL_AGENT_PASSWORD)
        self.user_pool.add_agent(LOCAL_SUPERVISOR_EMAIL, LOCAL_AGENT_PASSWORD, supervisor=True)
        self._build_functions(resolver)
        for function in self.functions.values():
            function.load()  # every cold start now: a configuration error stops `make local` here
        self._wire(resolver)
        if self.settings.background:
            self._pump_thread = threading.Thread(target=self._pump_forever, name="event-sources", daemon=True)
            self._pump_thread.start()
        self.gateway.listen()  # last: the port opens on a stack that is whole
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._pump_thread is not None:
            self._pump_thread.join(timeout=10)
        self.gateway.stop()
        self.twilio.stop()
        self.cloud.stop()

    @property
    def base_url(self) -> str:
        return self.gateway.base_url

    @property
    def schedules_fired(self) -> list[str]:
        """The names of the schedules fired so far, in order."""
        return list(self._schedules.fired) if self._schedules else []

    # ------------------------------------------------------------------ wiring, from the template

    def _build_functions(self, resolver: cfn.Resolver) -> None:
        local_environment = {
            **{
                k: os.environ[k]
                for k in (
                    "AWS_ENDPOINT_URL",
                    "AWS_ACCESS_KEY_ID",
                    "AWS_SECRET_ACCESS_KEY",
                    "AWS_SESSION_TOKEN",
                    "AWS_REGION",
                    "AWS_DEFAULT_REGION",
                )
            },
            "TWILIO_API_BASE_URL": self.twilio.base_url,
        }
        os.environ.update(local_environment)  # what functions read after their cold start, too
        for logical_id, resource in cfn.functions(self.template).items():
            name = self.cloud.physical(logical_id, None)
            variables = {k: str(v) for k, v in resolver.resolve(cfn.environment(self.template, logical_id)).items()}
            memory = int(cfn.function_property(self.template, logical_id, "MemorySize", 128))
            variables |= {
                "AWS_LAMBDA_FUNCTION_NAME": name,
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(memory),
                **local_environment,
            }
            properties = resource["Properties"]
            self.functions[logical_id] = LocalFunction(
                logical_id=logical_id,
                name=name,
                code_uri=properties["CodeUri"],
                handler=properties["Handler"],
                variables=variables,
                memory=memory,
                timeout=int(cfn.function_property(self.template, logical_id, "Timeout", 3)),
                event_invoke_config=resolver.resolve(properties.get("EventInvokeConfig") or {}),
            )

    def _wire(self, resolver: cfn.Resolver) -> None:
        by_name = {f.name: f for f in self.functions.values()}
        apis = cfn.resources(self.template, "AWS::Serverless::HttpApi")
        routes = []
        for route in cfn.http_routes(self.template):
            auth = apis.get(route.api, {}).get("Properties", {}).get("Auth") or {}
            default = auth.get("DefaultAuthorizer")
            jwt = (auth.get("Authorizers") or {}).get(default or "", {})
            authorizer = None
            if "JwtConfiguration" in jwt:
                authorizer = self.user_pool.authorizer(
                    resolver.resolve(jwt["JwtConfiguration"]), jwt.get("AuthorizationScopes", [])
                )
            routes.append(
                Route(route, self.functions[route.function], default == "AWS_IAM", compile_path(route.path), authorizer)
            )
        self.gateway.routes = routes
        self.gateway.raw = {
            "/console": ConsoleSite(self.console_config).serve,
            "/_local/cognito-idp": self._cognito_idp,
            "/_local/oauth2/token": self._token,
        }
        for mapping in cfn.resources(self.template, "AWS::Lambda::EventSourceMapping").values():
            props = resolver.resolve(mapping["Properties"])
            self._streams.append(
                StreamTrigger(self.cloud, by_name[props["FunctionName"]], props["EventSourceArn"], props, self._report)
            )
        invoker = AsyncInvoker(self.cloud, self._report)
        for rule in cfn.event_rules(self.template):
            function = self.functions[rule.function]
            environments = [function, *(function.another_environment(n) for n in range(1, ASYNC_ENVIRONMENTS))]
            for environment in environments[1:]:
                environment.load()
            self._rules.append(
                RuleTrigger(
                    self.cloud,
                    environments,
                    rule.name,
                    resolver.resolve(rule.bus),
                    resolver.resolve(rule.pattern),
                    invoker,
                )
            )
        groups = [self.cloud.physical(g, None) for g in cfn.resources(self.template, "AWS::Scheduler::ScheduleGroup")]
        self._schedules = ScheduleRunner(
            self.cloud, groups, {f.arn: f for f in self.functions.values()}, self.clock.now, self._report
        )

    # ------------------------------------------------------------------ running the event sources

    def _pump_once(self) -> int:
        assert self._schedules is not None
        delivered = sum(stream.poll() for stream in self._streams)
        delivered += sum(rule.poll() for rule in self._rules)
        delivered += self._schedules.poll()
        return delivered

    def _pump_forever(self) -> None:
        while not self._stopping.is_set():
            try:
                with self._pump_lock:
                    delivered = self._pump_once()
            except Exception as error:
                self._say(f"event sources: {error!r}")
                delivered = 0
            if not delivered:
                self._stopping.wait(0.1)

    def settle(self, timeout: float = SETTLE_TIMEOUT_SECONDS) -> int:
        """Run every event source until nothing is left to deliver and Twilio's stand-in has
        made its status callbacks; return how many deliveries that took."""
        deadline = time.monotonic() + timeout
        total, quiet = 0, 0
        while quiet < 2:
            with self._pump_lock:
                delivered = self._pump_once()
            total += delivered
            busy = self.twilio.busy
            quiet = 0 if delivered or busy else quiet + 1
            if time.monotonic() > deadline:
                raise TimeoutError("the local stack did not settle")
            if busy:
                time.sleep(0.005)  # a status callback is on its way over HTTP
        return total

    def advance(self, delta_text: str) -> dict[str, Any]:
        """Move the clock forward by ``delta_text`` in steps: to each schedule's due time in
        turn (those created on the way included), settling after each, so every schedule fires
        at its own time and sees the world as it is then; then to the end."""
        schedules = self._schedules
        assert schedules is not None
        delta = parse_duration(delta_text)
        target = self.clock.now() + delta
        fired: list[dict[str, str]] = []

        def settle_and_note() -> None:
            before = len(schedules.fired)
            self.settle()
            fired.extend({"schedule": name, "at": _iso(self.clock.now())} for name in schedules.fired[before:])

        settle_and_note()
        for _ in range(MAX_CLOCK_STEPS):
            upcoming = [due for _, due in schedules.pending() if due <= target]
            if not upcoming:
                break
            step = min(upcoming) - self.clock.now()
            if step > timedelta(0):
                self.clock.advance(step)
            settle_and_note()
        rest = target - self.clock.now()
        if rest > timedelta(0):
            self.clock.advance(rest)
        settle_and_note()
        return {"now": _iso(self.clock.now()), "fired": [f["schedule"] for f in fired], "steps": fired}

    # ------------------------------------------------------------------ the control plane (/_local/)

    def info(self) -> dict[str, Any]:
        base = self.base_url
        return {
            "api": base,
            "webhooks": {"inbound": f"{base}/sms/inbound", "status": f"{base}/sms/status"},
            "routes": [r.key for r in self.gateway.routes],
            "twilio": {
                "api_base_url": self.twilio.base_url,
                "account_sid": LOCAL_ACCOUNT_SID,
                "auth_token": LOCAL_AUTH_TOKEN,
                "number": self.parameters.get("TwilioSender"),
            },
            "machine_client": {
                "client_id": self.user_pool.ids["AutomationClient"],
                "client_secret": self.user_pool.secrets[self.user_pool.ids["AutomationClient"]],
                "token_url": f"{base}/_local/oauth2/token",
            },
            "console": {
                "url": f"{base}/console/",
                "client_id": self.user_pool.ids["ConsoleClient"],
                "cognito_endpoint": f"{base}/_local/cognito-idp/",
                "agent": {"email": LOCAL_AGENT_EMAIL, "password": LOCAL_AGENT_PASSWORD},
                "supervisor": {"email": LOCAL_SUPERVISOR_EMAIL, "password": LOCAL_AGENT_PASSWORD},
            },
            "user_pool": {"id": self.user_pool.pool_id, "region": cfn.REGION},
            "region": cfn.REGION,
            "aws_endpoint": self.cloud.endpoint,
            "table": self.cloud.physical("ConversationTable", None),
            "business": {
                k: self.parameters.get(k) for k in ("BusinessName", "BusinessTimeZone", "BusinessHours", "Holidays")
            },
            "clock": _iso(self.clock.now()),
        }

    def _control(self, method: str, path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        assert self._schedules is not None
        if (method, path) == ("GET", "/_local/info"):
            return 200, self.info()
        if (method, path) == ("POST", "/_local/settle"):
            return 200, {"delivered": self.settle(), "clock": _iso(self.clock.now())}
        if (method, path) == ("GET", "/_local/clock"):
            pending = [{"schedule": name, "due": _iso(due)} for name, due in self._schedules.pending()]
            return 200, {"now": _iso(self.clock.now()), "pending": pending}
        if (method, path) == ("POST", "/_local/clock/advance"):
            try:
                return 200, self.advance(str(body.get("by", "")))
            except ValueError as error:
                return 400, {"message": str(error)}
        if (method, path) == ("POST", "/_local/twilio/inbound"):
            # A customer's text reaching Twilio, before Twilio calls the webhook (`smsdesk text`).
            sender, text = body.get("from"), body.get("body")
            if not isinstance(sender, str) or not isinstance(text, str):
                return 400, {"message": 'give "from" and "body"'}
            reply = self.twilio.received(sender, str(self.parameters.get("TwilioSender")), text)
            return 200, {"twilio_replied": reply["body"] if reply else None}
        if (method, path) == ("GET", "/_local/dead-letters"):
            return 200, {"queues": self.cloud.queue_depths()}
        return 404, {"message": "Not Found"}

    # ------------------------------------------------------------------ the console and the user pool

    def console_config(self) -> dict[str, Any]:
        """The console's config.json: what the deployed console is given by `smsdesk console publish`."""
        return {
            "api": self.base_url,
            "region": cfn.REGION,
            "cognito_endpoint": f"{self.base_url}/_local/cognito-idp/",
            "client_id": self.user_pool.ids["ConsoleClient"],
            "poll_seconds": 3,
        }

    def _cognito_idp(
        self, method: str, path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        """The console's sign-in calls (InitiateAuth...), passed to moto's Cognito unsigned, as a
        browser calls cognito-idp.<region>.amazonaws.com."""
        import urllib.error
        import urllib.request

        if method != "POST":
            return 405, {"Content-Type": "application/json"}, b'{"message":"Method Not Allowed"}'
        forward = {k: headers[k] for k in ("content-type", "x-amz-target") if k in headers}
        call = urllib.request.Request(f"{self.cloud.endpoint}/", data=body, method="POST", headers=forward)
        try:
            with urllib.request.urlopen(call, timeout=30) as answer:
                return (
                    answer.status,
                    {"Content-Type": answer.headers.get("Content-Type", "application/json")},
                    answer.read(),
                )
        except urllib.error.HTTPError as error:
            return error.code, {"Content-Type": "application/x-amz-json-1.1"}, error.read()

    def _token(self, method: str, path: str, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, str], bytes]:
        import json
        from urllib.parse import parse_qsl

        if method != "POST":
            return 405, {"Content-Type": "application/json"}, b'{"error":"invalid_request"}'
        status, answer = self.user_pool.client_credentials(
            headers.get("authorization", ""), dict(parse_qsl(body.decode()))
        )
        return status, {"Content-Type": "application/json"}, json.dumps(answer).encode()

    # ------------------------------------------------------------------ what the console shows

    def _report(self, function: str, trigger: str, outcome: str, ms: float | None) -> None:
        if self._user_report is not None:
            self._user_report(function, trigger, outcome, ms)

    def _texted(self, message: dict[str, Any]) -> None:
        if self._user_report is not None:
            self._user_report("Twilio", f"text to {message['to']}", message["body"], None)


def _iso(at: datetime) -> str:
    from smsdesk.clock import to_iso

    return to_iso(at)
