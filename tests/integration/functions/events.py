"""What the template's functions are invoked with in the handler tests: Twilio's webhook POSTs
(every parameter Twilio sends, signed for the public URL, ``PUBLIC_BASE_URL`` in ``ENVIRON``) and
agents' requests to the agent API with their token's claims, as API Gateway hands them over.
"""

from __future__ import annotations

import json
from typing import Any

from tests.integration.conftest import ACCOUNT_SID, AUTH_TOKEN, BUSINESS_NUMBER, CUSTOMER, ENVIRON
from tests.support.api_gateway import http_api_event, twilio_webhook_event

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
