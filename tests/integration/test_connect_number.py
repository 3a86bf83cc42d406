"""`smsdesk connect-number`: the deployed stack's webhook URL set on the Twilio number, with the
credentials from the stack's secret. CloudFormation and Secrets Manager with moto; Twilio's REST
API intercepted at the HTTP layer, asserting the request Twilio would receive."""

from __future__ import annotations

import base64
import io
import json
import re
from urllib.parse import parse_qsl

import boto3
import pytest
import responses

from smsdesk_cli.connect import ConnectError, connect
from tests.integration.conftest import ACCOUNT_SID, AUTH_TOKEN

WEBHOOK = "https://abc123.execute-api.us-east-1.amazonaws.com/sms/inbound#rc=3&rp=ct,rt,5xx&tt=15000"
NUMBERS = re.compile(rf"https://api\.twilio\.com/2010-04-01/Accounts/{ACCOUNT_SID}/IncomingPhoneNumbers(/PN\w+)?\.json")

# A stand-in for the deployed smsdesk stack: the parameters and outputs connect-number reads.
STACK_TEMPLATE = {
    "Parameters": {
        "TwilioSender": {"Type": "String"},
        "TwilioSecretName": {"Type": "String", "Default": "smsdesk/twilio"},
    },
    "Resources": {"AlarmTopic": {"Type": "AWS::SNS::Topic"}},
    "Outputs": {"InboundWebhookUrl": {"Value": WEBHOOK}},
}


@pytest.fixture
def deployed(aws, secret):
    def deploy(sender: str) -> None:
        boto3.client("cloudformation").create_stack(
            StackName="smsdesk",
            TemplateBody=json.dumps(STACK_TEMPLATE),
            Parameters=[{"ParameterKey": "TwilioSender", "ParameterValue": sender}],
        )

    return deploy


@pytest.fixture
def twilio_numbers():
    updates: list[dict[str, str]] = []

    def listing(request):
        query = dict(parse_qsl(request.url.split("?", 1)[1]))
        numbers = [
            {
                "sid": "PN" + "1" * 32,
                "account_sid": ACCOUNT_SID,
                "phone_number": "+15005550006",
                "sms_url": "https://old.example/sms",
                "sms_method": "POST",
            }
        ]
        found = [n for n in numbers if n["phone_number"] == query.get("PhoneNumber")]
        return 200, {}, json.dumps({"incoming_phone_numbers": found, "next_page_uri": None, "page": 0, "page_size": 2})

    def update(request):
        form = dict(parse_qsl(request.body))
        user, _, password = (
            base64.b64decode(request.headers["Authorization"].removeprefix("Basic ")).decode().partition(":")
        )
        updates.append({**form, "credentials": f"{user}:{password}"})
        return 200, {}, json.dumps({"sid": "PN" + "1" * 32, "phone_number": "+15005550006", "sms_url": form["SmsUrl"]})

    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add_callback(responses.GET, NUMBERS, callback=listing)
        mock.add_callback(responses.POST, NUMBERS, callback=update)
        yield updates


def test_the_number_gets_the_stacks_webhook_url(deployed, twilio_numbers):
    deployed("+15005550006")
    out = io.StringIO()
    assert connect("smsdesk", region="us-east-1", number=None, out=out) == 0
    # Signed in with the stack's secret: the auth token never passed through the command line.
    assert twilio_numbers == [{"SmsUrl": WEBHOOK, "SmsMethod": "POST", "credentials": f"{ACCOUNT_SID}:{AUTH_TOKEN}"}]
    assert out.getvalue() == f'+15005550006: a message comes in -> POST {WEBHOOK} (was "https://old.example/sms")\n'


def test_a_number_of_another_account_is_a_clear_error(deployed, twilio_numbers):
    deployed("+15005550006")
    with pytest.raises(ConnectError, match=r"\+15005559999 is not a number of this Twilio account"):
        connect("smsdesk", region="us-east-1", number="+15005559999", out=io.StringIO())
    assert twilio_numbers == []


def test_a_stack_that_is_not_there_is_a_clear_error(aws):
    with pytest.raises(ConnectError, match="cannot read stack nowhere"):
        connect("nowhere", region="us-east-1", number=None, out=io.StringIO())
