"""AWS with moto, Twilio at the HTTP layer, time from a ManualClock; the services wired once, here,
for every integration test (the handler tests in functions/ load the template's functions instead)."""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from functools import partial

import boto3
import pytest
import responses
from moto import mock_aws

from smsdesk.agent_desk import AgentDesk
from smsdesk.auto_replies import AutoResponder
from smsdesk.clock import ManualClock
from smsdesk.config import BusinessSettings
from smsdesk.consent_processing import ConsentProcessor
from smsdesk.follow_up_runner import FollowUpRunner
from smsdesk.follow_ups import ReplyPromises
from smsdesk.inbound import InboundService
from smsdesk.repository import ConversationRepository
from smsdesk.runtime import MessagingRuntime, messaging_runtime
from smsdesk.send_gateway import Outbound, Purpose
from smsdesk.table import Customer, bind_table, customer_pk
from smsdesk.twilio_messages import TwilioMessages
from smsdesk.twilio_webhook import InboundSms
from tests.support import twilio_http
from tests.support.aws_faults import AwsFaults
from tests.support.template import table_definition

ACCOUNT_SID = "AC" + "0" * 31 + "1"
AUTH_TOKEN = "local-auth-token-0123456789abcdef"
API_KEY_SID = "SK" + "0" * 31 + "2"
API_KEY_SECRET = "local-api-key-secret-0123456789ab"
BUSINESS_NUMBER = "+15005550006"
CUSTOMER = "+12125550123"  # New York
# Monday 23 November 2026, 10:00 in New York: the business is open.
MONDAY_10AM_NEW_YORK = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)

ENVIRON = {
    "TABLE_NAME": "smsdesk-test",
    "EVENT_BUS_NAME": "smsdesk-test-events",
    "TWILIO_SECRET_ID": "smsdesk/twilio",
    "TWILIO_API_KEY_SECRET_ID": "smsdesk/twilio-api-key",
    "TWILIO_SENDER": BUSINESS_NUMBER,
    "PUBLIC_BASE_URL": "https://hooks.example.test",
    "BUSINESS_NAME": "Acme Outdoor",
    "SUPPORT_CONTACT": "support@acme.example",
    "BUSINESS_HOURS": "Mon-Fri 09:00-17:00",
    "BUSINESS_TIME_ZONE": "America/New_York",
    "HOLIDAYS": "2026-12-25",
    "SCHEDULE_GROUP_NAME": "smsdesk-test-follow-ups",
    "FOLLOW_UP_FUNCTION_ARN": "arn:aws:lambda:us-east-1:123456789012:function:smsdesk-test-follow-up",
    "SCHEDULER_ROLE_ARN": "arn:aws:iam::123456789012:role/smsdesk-test-scheduler",
    "MEDIA_BUCKET": "smsdesk-test-media",
}
KEYWORDS = frozenset({"REFUND", "HOURS", "STATUS", "CALL"})  # the business's auto-reply keywords


def sms(text: str, sid: int = 1, sender: str = CUSTOMER, **extra) -> InboundSms:
    """A text as the inbound webhook hands it to the inbound service."""
    fields = {
        "message_sid": f"SM{sid:032x}",
        "account_sid": ACCOUNT_SID,
        "sender": sender,
        "recipient": BUSINESS_NUMBER,
        "text": text,
        "num_media": 0,
        "from_state": None,
        "opt_out_type": None,
    }
    fields.update(extra)
    return InboundSms(**fields)


@pytest.fixture
def environ():
    return dict(ENVIRON)


@pytest.fixture
def clock():
    return ManualClock(MONDAY_10AM_NEW_YORK)


@pytest.fixture
def aws():
    with mock_aws():
        yield


@pytest.fixture
def repository(aws, environ):
    boto3.client("dynamodb").create_table(TableName=environ["TABLE_NAME"], **table_definition())
    bind_table(environ["TABLE_NAME"], "us-east-1")
    return ConversationRepository()


@pytest.fixture
def secret(aws, environ):
    boto3.client("secretsmanager").create_secret(
        Name=environ["TWILIO_SECRET_ID"],
        SecretString=json.dumps({"account_sid": ACCOUNT_SID, "auth_token": AUTH_TOKEN}),
    )
    boto3.client("secretsmanager").create_secret(Name=environ["TWILIO_API_KEY_SECRET_ID"], SecretString=API_KEY)


# The senders' restricted API key (its own secret: the senders never read the auth token).
API_KEY = json.dumps({"account_sid": ACCOUNT_SID, "api_key_sid": API_KEY_SID, "api_key_secret": API_KEY_SECRET})


@pytest.fixture
def schedule_group(aws, environ):
    boto3.client("scheduler").create_schedule_group(Name=environ["SCHEDULE_GROUP_NAME"])
    return environ["SCHEDULE_GROUP_NAME"]


@pytest.fixture
def twilio():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield twilio_http.install(mock)


@functools.cache
def _business_settings(environ: frozenset[tuple[str, str]]) -> BusinessSettings:
    return BusinessSettings.from_environ(dict(environ))


@pytest.fixture
def business(environ):
    # Parsed once per configuration (the settings are immutable): reading the hours and quiet
    # hours is the unit tests' subject, and make mutate then does not run every integration test
    # against each mutant of those parsers (mutmut runs the tests that reached a function).
    return _business_settings(frozenset(environ.items()))


def build_runtime(environ, business, clock, **twilio_options) -> MessagingRuntime:
    """smsdesk as every sending function assembles it at cold start (smsdesk.runtime.messaging_runtime),
    on the test's clock; ``twilio_options`` pace the Twilio transport (by default its back-off
    waits are skipped: no test waits for the wall clock)."""
    twilio_options.setdefault("sleep", lambda seconds: None)
    return messaging_runtime(environ, business, clock=clock, transport=partial(TwilioMessages, **twilio_options))


@pytest.fixture
def runtime(repository, schedule_group, environ, business, clock) -> MessagingRuntime:
    return build_runtime(environ, business, clock)


@pytest.fixture
def follow_ups(runtime):
    return runtime.follow_ups


@pytest.fixture
def gateway(runtime, secret, twilio):
    return runtime.gateway


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


# The services, wired as the functions wire them (functions/*/app.py).


@pytest.fixture
def inbound(repository, clock):
    return InboundService(repository, clock, auto_reply_keywords=KEYWORDS)


@pytest.fixture
def inbound_answering_every_keyword(repository, clock):
    """A deployment where Twilio's own keyword handling is off (TwilioAnswersOptOutKeywords false):
    smsdesk answers STOP, START and HELP itself."""
    return InboundService(repository, clock, auto_reply_keywords=KEYWORDS, twilio_answers_opt_out_keywords=False)


@pytest.fixture
def responder(repository, gateway, clock, business, follow_ups):
    return AutoResponder(repository, gateway, follow_ups, clock, business)


@pytest.fixture
def processor(gateway, follow_ups, business):
    return ConsentProcessor(gateway, follow_ups, business)


@pytest.fixture
def desk(repository, gateway, follow_ups, clock, business):
    return AgentDesk(repository, gateway, follow_ups, clock, business)


@pytest.fixture
def runner(repository, gateway, clock, business):
    return FollowUpRunner(repository, gateway, clock, business)


@pytest.fixture
def promises(repository, follow_ups, clock, business):
    return ReplyPromises(repository, follow_ups, clock, business)


def outbox_events(repository) -> list[tuple[str, dict]]:
    """Every domain event written to the outbox so far, oldest first."""
    from smsdesk.table import OutboxEvent

    events = [item for item in repository.iterate_table() if isinstance(item, OutboxEvent)]
    events.sort(key=lambda e: (e.created_at, e.sk))
    return [(e.detail_type, json.loads(e.detail)) for e in events]


def message_with_sid(repository, sid: str):
    """The message Twilio knows by ``sid`` (tests only: a scan of the table)."""
    from smsdesk.table import Message

    return next(i for i in repository.iterate_table() if isinstance(i, Message) and i.twilio_sid == sid)


def callback_route(twilio, sid: str) -> str:
    """Where Twilio posts the status callbacks of message ``sid``: the StatusCallback URL smsdesk
    gave it (route and query, without the connection-override fragment)."""
    [form] = [f for f in twilio.sent if f["Sid"] == sid]
    return form["StatusCallback"].split("#", 1)[0].removeprefix(ENVIRON["PUBLIC_BASE_URL"])
