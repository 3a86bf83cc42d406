"""API Gateway HTTP API events (payload format 2.0), exactly as API Gateway hands them to Lambda.

What API Gateway does to a request, and so what these builders do:

* header names arrive lower-cased; API Gateway adds ``host``, ``content-length``,
  ``x-amzn-trace-id`` and the ``x-forwarded-*`` headers (``x-forwarded-proto: https``);
* an HTTP API base64-encodes every body that is not ``text/*``, ``application/json``,
  ``application/xml`` or ``application/javascript``, **including
  application/x-www-form-urlencoded**, so Twilio's form POST arrives with
  ``isBase64Encoded: true`` (checked against real AWS: ministackorg/ministack#766; the same is
  reported for Slack and GitHub form webhooks, middyjs/middy#603, denoland/deno_registry2#33);
* ``rawPath`` is the path as called, with the stage for a named stage (``/prod/sms/inbound``)
  but, behind a custom domain's API mapping, *without* the mapping key (AWS developer guide,
  "payload format differences"); ``rawQueryString`` is the query exactly as sent;
* when the function fails (raises), the caller gets ``500 {"message":"Internal Server Error"}``.

Twilio's side: the form is UTF-8 ``application/x-www-form-urlencoded`` with ``+`` for spaces and
``%2B`` for a plus, and ``X-Twilio-Signature`` is computed over the URL Twilio called and the
*decoded* parameters with the twilio library's own ``RequestValidator.compute_signature``.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from twilio.request_validator import RequestValidator

ACCOUNT = "123456789012"
API_ID = "a1b2c3d4e5"
EXECUTE_API_DOMAIN = f"{API_ID}.execute-api.us-east-1.amazonaws.com"
FORM = "application/x-www-form-urlencoded"
# HTTP APIs pass these content types as text; every other body is base64-encoded.
_TEXT_TYPES = ("text/", "application/json", "application/xml", "application/javascript")

Params = Mapping[str, str] | Iterable[tuple[str, str]]


class SignedParams(dict[str, str]):
    """Form parameters with repeated keys, in the shape the validator reads (``getall``)."""

    def __init__(self, pairs: Iterable[tuple[str, str]]) -> None:
        self.pairs = list(pairs)
        super().__init__()
        for key, value in self.pairs:
            self.setdefault(key, value)

    def getall(self, key: str) -> list[str]:
        return [value for name, value in self.pairs if name == key]


def _pairs(params: Params) -> list[tuple[str, str]]:
    return list(params.items()) if isinstance(params, Mapping) else list(params)


def form_body(params: Params) -> bytes:
    """The body Twilio sends: UTF-8, ``+`` for a space, ``%2B`` for a plus, keys in order."""
    return urlencode(_pairs(params)).encode("utf-8")


def twilio_signature(url: str, params: Params, auth_token: str) -> str:
    """X-Twilio-Signature for ``params`` posted to ``url``, as Twilio computes it."""
    return RequestValidator(auth_token).compute_signature(url, SignedParams(_pairs(params)))


def http_api_event(
    method: str,
    raw_path: str,
    *,
    domain: str = EXECUTE_API_DOMAIN,
    stage: str = "$default",
    route_key: str | None = None,
    raw_query: str = "",
    headers: Mapping[str, str] | None = None,
    body: bytes | str | None = None,
    base64_body: bool | None = None,
    path_parameters: Mapping[str, str] | None = None,
    jwt_claims: Mapping[str, str] | None = None,
    source_ip: str = "54.172.60.3",
    user_agent: str = "TwilioProxy/1.1",
) -> dict[str, Any]:
    """One HTTP API request as its Lambda integration receives it.

    ``base64_body``: None decides as API Gateway does, from the content type.
    ``jwt_claims``: the verified token's claims on a JWT-authorised route (the agent API), as
    API Gateway passes them: every value a string, lists as ``"[a b]"``.
    """
    all_headers = {
        "accept": "*/*",
        "host": domain,
        "user-agent": user_agent,
        "x-amzn-trace-id": f"Root=1-{uuid.uuid4().hex[:8]}-{uuid.uuid4().hex[:24]}",
        "x-forwarded-for": source_ip,
        "x-forwarded-port": "443",
        "x-forwarded-proto": "https",
    }
    all_headers.update({name.lower(): value for name, value in (headers or {}).items()})
    raw = body.encode("utf-8") if isinstance(body, str) else body
    if raw is not None:
        all_headers["content-length"] = str(len(raw))
    content_type = all_headers.get("content-type", "")
    if base64_body is None:
        base64_body = raw is not None and not content_type.lower().startswith(_TEXT_TYPES)
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route_key or f"{method} {raw_path}",
        "rawPath": raw_path,
        "rawQueryString": raw_query,
        "headers": all_headers,
        "requestContext": {
            "accountId": ACCOUNT,
            "apiId": domain.split(".", 1)[0],
            "domainName": domain,
            "domainPrefix": domain.split(".", 1)[0],
            "http": {
                "method": method,
                "path": raw_path,
                "protocol": "HTTP/1.1",
                "sourceIp": source_ip,
                "userAgent": user_agent,
            },
            "requestId": uuid.uuid4().hex[:16] + "=",
            "routeKey": route_key or f"{method} {raw_path}",
            "stage": stage,
            "time": "23/Nov/2026:15:00:00 +0000",
            "timeEpoch": 1795532400000,
        },
        "isBase64Encoded": bool(raw is not None and base64_body),
    }
    if raw is not None:
        event["body"] = base64.b64encode(raw).decode("ascii") if base64_body else raw.decode("utf-8")
    if raw_query:
        joined: dict[str, str] = {}
        for key, value in parse_qsl(raw_query, keep_blank_values=True):
            joined[key] = f"{joined[key]},{value}" if key in joined else value  # 2.0 joins repeats
        event["queryStringParameters"] = joined
    if path_parameters:
        event["pathParameters"] = dict(path_parameters)
    if jwt_claims is not None:
        event["requestContext"]["authorizer"] = {"jwt": {"claims": dict(jwt_claims), "scopes": None}}
    return event


def twilio_webhook_event(
    url: str,
    params: Params,
    *,
    auth_token: str | None,
    signature: str | None = None,
    body: bytes | None = None,
    raw_path: str | None = None,
    domain: str | None = None,
    stage: str = "$default",
    route: str | None = None,
    headers: Mapping[str, str] | None = None,
    base64_body: bool | None = None,
) -> dict[str, Any]:
    """Twilio POSTing ``params`` to ``url`` (the URL configured in Twilio), through an HTTP API.

    Signed with ``auth_token`` unless ``signature`` is given (None for both: no signature).
    ``raw_path``/``domain`` default to the URL's (as with the execute-api domain and the
    ``$default`` stage); give them to describe a custom domain or a stage in front.
    """
    parts = urlsplit(url)
    if signature is None and auth_token is not None:
        signature = twilio_signature(url, params, auth_token)
    all_headers = {
        "content-type": FORM,
        "i-twilio-idempotency-token": str(uuid.uuid4()),
        "cache-control": "max-age=259200",
    }
    if signature is not None:
        all_headers["x-twilio-signature"] = signature
    all_headers.update(headers or {})
    path = raw_path if raw_path is not None else parts.path
    return http_api_event(
        "POST",
        path,
        domain=domain or parts.hostname or EXECUTE_API_DOMAIN,
        stage=stage,
        route_key=f"POST {route or parts.path}",
        raw_query=parts.query,
        headers=all_headers,
        body=form_body(params) if body is None else body,
        base64_body=base64_body,
    )


@dataclass
class HttpAnswer:
    """What the caller (Twilio, an agent) receives from API Gateway."""

    status: int
    headers: dict[str, str]
    body: str
    error: BaseException | None = field(default=None, repr=False)  # the function's failure, if any

    @property
    def content_type(self) -> str:
        return {k.lower(): v for k, v in self.headers.items()}.get("content-type", "")

    def json(self) -> Any:
        return json.loads(self.body)


def through_api_gateway(handler: Callable[[dict, Any], Any], event: dict[str, Any], context: Any) -> HttpAnswer:
    """Invoke ``handler`` as an HTTP API integration and return what the caller gets back."""
    internal_error = (500, {"content-type": "application/json"}, '{"message":"Internal Server Error"}')
    try:
        result = handler(event, context)
    except Exception as error:
        return HttpAnswer(*internal_error, error)
    body = result.get("body") or ""
    if not isinstance(body, str):  # payload 2.0: the body is a string, or API Gateway fails the call
        return HttpAnswer(*internal_error, TypeError(f"Lambda returned a {type(body).__name__} body, not a string"))
    if result.get("isBase64Encoded"):
        body = base64.b64decode(body).decode("utf-8")
    return HttpAnswer(int(result["statusCode"]), dict(result.get("headers") or {}), body)
