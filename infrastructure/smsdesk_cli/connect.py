"""``smsdesk connect-number``: point the business's Twilio number at a deployed stack.

It reads the stack's outputs (``InboundWebhookUrl``) and parameters (``TwilioSender``,
``TwilioSecretName``) from CloudFormation, the Twilio credentials from the stack's Secrets Manager
secret (so the auth token never passes through a terminal), and sets, with the real twilio
library, the number's "A message comes in" webhook (``SmsUrl``, HTTP POST), or, when the sender is
a Messaging Service, the service's inbound request URL. Run it after every deploy that changes
the URL (a new stack, a custom domain); it says what it changed.
"""

from __future__ import annotations

import json
from typing import Any, TextIO


class ConnectError(Exception):
    pass


def stack_settings(stack_name: str, region: str | None) -> dict[str, str]:
    """The stack's outputs and parameters, by key."""
    from botocore.exceptions import ClientError
    from botocore.session import get_session

    cloudformation = get_session().create_client("cloudformation", region_name=region)
    try:
        [stack] = cloudformation.describe_stacks(StackName=stack_name)["Stacks"]
    except ClientError as error:
        raise ConnectError(f"cannot read stack {stack_name}: {error.response['Error']['Message']}") from None
    settings = {p["ParameterKey"]: p.get("ParameterValue", "") for p in stack.get("Parameters", [])}
    settings |= {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
    missing = [k for k in ("InboundWebhookUrl", "TwilioSender", "TwilioSecretName") if not settings.get(k)]
    if missing:
        raise ConnectError(f"stack {stack_name} has no {', '.join(missing)}: is it an smsdesk stack?")
    return settings


def twilio_client(secret_name: str, region: str | None) -> Any:
    from botocore.session import get_session
    from twilio.rest import Client

    from smsdesk.aws.secrets import parse_secret

    secrets = get_session().create_client("secretsmanager", region_name=region)
    credentials = parse_secret(secrets.get_secret_value(SecretId=secret_name)["SecretString"])
    return Client(credentials.account_sid, credentials.auth_token)


def connect(stack_name: str, *, region: str | None, number: str | None, out: TextIO) -> int:
    settings = stack_settings(stack_name, region)
    url = settings["InboundWebhookUrl"]
    sender = number or settings["TwilioSender"]
    twilio = twilio_client(settings["TwilioSecretName"], region)
    if sender.startswith("MG"):
        service = twilio.messaging.v1.services(sender).update(inbound_request_url=url, inbound_method="POST")
        print(f"Messaging Service {service.sid}: inbound requests -> POST {url}", file=out)
        return 0
    found = twilio.incoming_phone_numbers.list(phone_number=sender, limit=2)
    if len(found) != 1:
        raise ConnectError(f"{sender} is not a number of this Twilio account")
    [phone] = found
    before = phone.sms_url
    phone.update(sms_url=url, sms_method="POST")
    change = "unchanged" if before == url else f"was {json.dumps(before)}"
    print(f"{sender}: a message comes in -> POST {url} ({change})", file=out)
    return 0
