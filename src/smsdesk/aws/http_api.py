"""API Gateway HTTP API (payload format 2.0) events, translated at the edge.

The webhook handlers turn the proxy event into a transport-neutral
:class:`~smsdesk.twilio_webhook.WebhookRequest` and answer with :func:`response`. Nothing past
this module sees an API Gateway event.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from smsdesk.errors import BadWebhookRequest
from smsdesk.twilio_webhook import WebhookRequest

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


def webhook_request(event: dict[str, Any]) -> WebhookRequest:
    context = event.get("requestContext") or {}
    http = context.get("http") or {}
    headers = {str(k).lower(): str(v) for k, v in (event.get("headers") or {}).items()}
    host = headers.get("host") or context.get("domainName") or "localhost"
    scheme = headers.get("x-forwarded-proto", "https")
    path = event.get("rawPath") or http.get("path") or "/"
    query = event.get("rawQueryString") or ""
    url = f"{scheme}://{host}{path}" + (f"?{query}" if query else "")
    raw = event.get("body") or ""
    if event.get("isBase64Encoded"):
        try:
            body = base64.b64decode(raw, validate=True)
        except (binascii.Error, ValueError):
            raise BadWebhookRequest("body is not valid base64") from None
    else:
        body = raw.encode("utf-8", errors="surrogatepass") if isinstance(raw, str) else bytes(raw)
    return WebhookRequest(method=http.get("method", "POST"), url=url, headers=headers, body=body)


def response(status: int, body: str = "", content_type: str = "text/plain; charset=utf-8") -> dict[str, Any]:
    return {"statusCode": status, "headers": {"Content-Type": content_type}, "body": body}


def twiml_ok() -> dict[str, Any]:
    """Twilio's answer: 200 with empty TwiML (smsdesk replies through the API, not in TwiML)."""
    return response(200, EMPTY_TWIML, "text/xml")


def problem(status: int, title: str) -> dict[str, Any]:
    """A client error, as application/problem+json (RFC 9457), saying what was wrong."""
    return response(status, json.dumps({"status": status, "title": title}), "application/problem+json")
