"""Fixtures for the handler tests: the account as template.yaml builds it, in moto, and the
functions loaded fresh into it.

``cloud`` creates what the existing fixtures create (the table from the template's KeySchema,
the Twilio secret, the schedule group) plus the event bus with the template's rules, and opens
the table's stream. ``lambdas.load("InboundSmsFunction")`` runs a function's cold start with
``ENVIRON`` (set with monkeypatch.setenv) and the template's own variables; the process clock is
the test's ManualClock, so every function sees the same "now". ``twilio_post`` builds the signed
form POST Twilio would send to the public URL (``PUBLIC_BASE_URL`` in ``ENVIRON``).

Test modules import these fixtures by name (they are not in a conftest because only the handler
tests need them).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

import smsdesk.clock
from smsdesk.send_gateway import Outbound, Purpose
from smsdesk.table import Customer, customer_pk
from tests.integration.conftest import ACCOUNT_SID, AUTH_TOKEN, BUSINESS_NUMBER, CUSTOMER, ENVIRON
from tests.support.api_gateway import http_api_event, twilio_webhook_event
from tests.support.aws_faults import AwsFaults
from tests.support.lambda_functions import EventRules, LoadedFunction, TableStream, load_function

# The functions EventBridge rules invoke (the others are invoked by API Gateway, the stream, Scheduler).
RULE_TARGETS = ["AcknowledgementFunction", "ConsentFunction", "MediaCopyFunction"]
AGENT_API_DOMAIN = "f6g7h8i9j0.execute-api.us-east-1.amazonaws.com"


def message_sid(n: int) -> str:
    return f"SM{n:032x}"


def inbound_params(body: str | None, sid: int = 1, sender: str = CUSTOMER, **extra: str) -> dict[str, str]:
    """The parameters of Twilio's "a message comes in" webhook, all of them, as Twilio sends them."""
    params = {
        "ToCountry": "US",
        "ToState": "CA",
        "SmsMessageSid": message_sid(sid),
        "NumMedia": "0",
        "ToCity": "",
        "FromZip": "10001",
        "SmsSid": message_sid(sid),
        "FromState": "NY",
        "SmsStatus": "received",
        "FromCity": "NEW YORK",
        "Body": body,
        "FromCountry": "US",
        "To": BUSINESS_NUMBER,
        "ToZip": "",
        "NumSegments": "1",
        "MessageSid": message_sid(sid),
        "AccountSid": ACCOUNT_SID,
        "From": sender,
        "ApiVersion": "2010-04-01",
    }
    if body is None:
        del params["Body"]
    params.update(extra)
    return params


def status_params(sid: str, status: str, error_code: int | None = None, to: str = CUSTOMER) -> dict[str, str]:
    """A status callback, as Twilio posts it to the message's StatusCallback."""
    params = {
        "SmsSid": sid,
        "SmsStatus": status,
        "MessageStatus": status,
        "To": to,
        "MessageSid": sid,
        "AccountSid": ACCOUNT_SID,
        "From": BUSINESS_NUMBER,
        "ApiVersion": "2010-04-01",
    }
    if error_code is not None:
        params["ErrorCode"] = str(error_code)
    return params


def twilio_post(route: str, params: Any, *, auth_token: str | None = AUTH_TOKEN, **kwargs: Any) -> dict[str, Any]:
    """Twilio POSTing ``params`` to ``route`` on the public URL, signed with the account's token."""
    return twilio_webhook_event(ENVIRON["PUBLIC_BASE_URL"] + route, params, auth_token=auth_token, **kwargs)


def agent_claims(user: str = "dana@acme.example", groups: str = "agents") -> dict[str, str]:
    """A person's access token's claims, as API Gateway's JWT authorizer passes them on."""
    return {
        "sub": "6f1c2d3e-0000-4000-8000-000000000001",
        "iss": "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_test",
        "client_id": "consoleclient",
        "token_use": "access",
        "scope": "aws.cognito.signin.user.admin",
        "username": user,
        "cognito:groups": f"[{groups}]",
        "exp": "1795536000",
        "iat": "1795532400",
    }


def agent_request(
    method,
    path,
    *,
    body=None,
    query="",
    headers=None,
    route=None,
    params=None,
    user="dana@acme.example",
    groups="agents",
):
    """An agent's request to the agent API with their token, as API Gateway hands it over."""
    all_headers = {"content-type": "application/json"} if body is not None else {}
    all_headers.update(headers or {})
    return http_api_event(
        method,
        path,
        domain=AGENT_API_DOMAIN,
        route_key=f"{method} {route or path}",
        raw_query=query,
        headers=all_headers,
        body=body if isinstance(body, (str, bytes)) or body is None else json.dumps(body),
        path_parameters=params,
        jwt_claims=agent_claims(user, groups),
        user_agent="smsdesk-cli",
        source_ip="203.0.113.7",
    )


def conversation_request(method, reference, action="", **kwargs):
    path = f"/conversations/{reference}" + (f"/{action}" if action else "")
    route = "/conversations/{reference}" + (f"/{action}" if action else "")
    return agent_request(method, path, route=route, params={"reference": reference}, **kwargs)


@dataclass
class Cloud:
    rules: EventRules
    stream: TableStream


@pytest.fixture
def cloud(repository, secret, schedule_group, environ) -> Cloud:
    return Cloud(EventRules(environ["EVENT_BUS_NAME"], RULE_TARGETS), TableStream(environ["TABLE_NAME"]))


@pytest.fixture
def process_clock(clock) -> Iterator[smsdesk.clock.ManualClock]:
    """Every function's process clock is the test's ManualClock."""
    previous = smsdesk.clock.process_clock()
    smsdesk.clock.use_process_clock(clock)
    yield clock
    smsdesk.clock.use_process_clock(previous)


class Lambdas:
    def __init__(self, monkeypatch: pytest.MonkeyPatch, environ: dict[str, str]) -> None:
        self._monkeypatch = monkeypatch
        self.environ = environ

    def load(self, logical_id: str, instance: str = "") -> LoadedFunction:
        return load_function(logical_id, self._monkeypatch, self.environ, instance)


@pytest.fixture
def lambdas(cloud, process_clock, twilio, monkeypatch, environ) -> Lambdas:
    return Lambdas(monkeypatch, environ)


@pytest.fixture
def aws_faults(monkeypatch) -> Iterator[AwsFaults]:
    """Install before loading the functions whose DynamoDB calls should be faulted."""
    faults = AwsFaults().install(monkeypatch)
    yield faults
    faults.uninstall()


@pytest.fixture
def sent_sid(repository, gateway, clock) -> str:
    """A text smsdesk sent (through the gateway, to Twilio), whose callbacks are coming."""
    Customer(
        customer_pk(CUSTOMER), "PROFILE", number=CUSTOMER, created_at=clock.now(), last_inbound_at=clock.now()
    ).save()
    result = gateway.send(Outbound(to=CUSTOMER, purpose=Purpose.KEYWORD_REPLY, key="k1", compose=lambda c: "Hi."))
    return result.twilio_sid


# One fixture per function: its cold start, in this test's account.


@pytest.fixture
def inbound(lambdas) -> LoadedFunction:
    return lambdas.load("InboundSmsFunction")


@pytest.fixture
def relay(lambdas) -> LoadedFunction:
    return lambdas.load("OutboxRelayFunction")


@pytest.fixture
def acknowledgement(lambdas) -> LoadedFunction:
    return lambdas.load("AcknowledgementFunction")


@pytest.fixture
def consent(lambdas) -> LoadedFunction:
    return lambdas.load("ConsentFunction")


@pytest.fixture
def follow_up(lambdas) -> LoadedFunction:
    return lambdas.load("FollowUpFunction")


@pytest.fixture
def agent_api(lambdas) -> LoadedFunction:
    return lambdas.load("AgentApiFunction")


@pytest.fixture
def text(inbound, relay, cloud):
    """A customer texts: the webhook records it, the relay publishes what it announced."""

    def send(body: str, sid: int, sender: str = CUSTOMER) -> None:
        answer = inbound.http(twilio_post("/sms/inbound", inbound_params(body, sid=sid, sender=sender)))
        assert answer.status == 200, answer.body
        assert relay.invoke(cloud.stream.lambda_event()) == {"batchItemFailures": []}

    return send
