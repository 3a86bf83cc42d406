"""Fixtures for the handler tests: the account as template.yaml builds it, in moto, and the
functions loaded fresh into it.

``cloud`` creates what the integration fixtures create (the table from the template's KeySchema,
the Twilio secret, the schedule group) plus the event bus with the template's rules, and opens
the table's stream. ``lambdas.load("InboundSmsFunction")`` runs a function's cold start with
``ENVIRON`` (set with monkeypatch.setenv) and the template's own variables; the process clock is
the test's ManualClock, so every function sees the same "now". Here ``inbound`` is the inbound
webhook function (the tests one folder up call the inbound service by that name).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

import smsdesk.clock
from tests.integration.conftest import CUSTOMER
from tests.integration.functions.events import inbound_params, twilio_post
from tests.support.lambda_functions import EventRules, LoadedFunction, TableStream, load_function

# The functions EventBridge rules invoke (the others are invoked by API Gateway, the stream, Scheduler).
RULE_TARGETS = ["AcknowledgementFunction", "ConsentFunction"]


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
