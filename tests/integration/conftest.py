"""AWS with moto, Twilio at the HTTP layer, time from a ManualClock."""

from __future__ import annotations

import functools
import json
from datetime import UTC, datetime

import boto3
import pytest
import responses
from moto import mock_aws

from smsdesk.aws.scheduler import Scheduler
from smsdesk.aws.secrets import TwilioCredentialsProvider, parse_api_key_secret
from smsdesk.clock import ManualClock
from smsdesk.config import BusinessSettings, MessagingSettings, SchedulerSettings
from smsdesk.follow_ups import FollowUps
from smsdesk.repository import ConversationRepository
from smsdesk.send_gateway import ProactivePolicy, SendGateway
from smsdesk.table import bind_table
from smsdesk.twilio_messages import RetryPolicy, TwilioMessages
from tests.support import twilio_http
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
}


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


def sender_credentials(environ, clock):
    """The senders' credentials, as smsdesk.runtime reads them."""
    return TwilioCredentialsProvider(environ["TWILIO_API_KEY_SECRET_ID"], clock, parse=parse_api_key_secret)


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


@pytest.fixture
def follow_ups(repository, schedule_group, environ, clock):
    return FollowUps(repository, Scheduler(SchedulerSettings.from_environ(environ)), clock)


@pytest.fixture
def gateway(repository, secret, twilio, follow_ups, business, environ, clock):
    messaging = MessagingSettings.from_environ(environ)
    credentials = sender_credentials(environ, clock)
    transport = TwilioMessages(messaging, credentials, retry=RetryPolicy(), sleep=lambda seconds: None)
    policy = ProactivePolicy(business.quiet_hours, business.proactive_cap, business.hours.time_zone)
    return SendGateway(repository, transport, clock, policy, follow_ups)


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
