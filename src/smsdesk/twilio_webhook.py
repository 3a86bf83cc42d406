"""Twilio's webhooks, verified and read.

A request is trusted only if its ``X-Twilio-Signature`` verifies, with the twilio library's own
validator, against the URL Twilio called (the public URL: behind a custom domain or a stage path
it differs from what API Gateway reports, hence ``public_base_url``) and the form parameters.
A request that fails gets a :class:`ForgedWebhookRequest`; a malformed one a
:class:`BadWebhookRequest`; neither changes anything.

Parsing follows Twilio's encoding exactly: application/x-www-form-urlencoded UTF-8, ``+`` for
spaces, repeated keys kept (and signed) as Twilio signs them, unknown parameters ignored.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, urlsplit

from twilio.request_validator import RequestValidator, get_signature_algorithm

from smsdesk.errors import BadWebhookRequest, ForgedWebhookRequest
from smsdesk.phone_numbers import is_e164
from smsdesk.reference_codes import looks_like_reference
from smsdesk.twilio_credentials import CredentialsSource, TwilioCredentials

if TYPE_CHECKING:
    from smsdesk.config import WebhookSettings

_SID = re.compile(r"(?:SM|MM)[0-9a-fA-F]{32}")
MAX_TEXT_LENGTH = 1600  # Twilio concatenates at most 10 segments; anything longer is not Twilio
_STRIPPED = {"Cc", "Cf", "Co", "Cs"}  # control, format (zero-width...), private use, surrogates


@dataclass(frozen=True, slots=True)
class WebhookRequest:
    """An HTTP request as received, independent of how it arrived (API Gateway, local stack)."""

    method: str
    url: str  # the URL as API Gateway saw it, with the query string
    headers: Mapping[str, str]  # lower-case names
    body: bytes


class FormParameters(dict[str, str]):
    """Form parameters; repeated keys keep every value (the validator signs them all)."""

    def __init__(self, pairs: list[tuple[str, str]]) -> None:
        super().__init__()
        self._all: dict[str, list[str]] = {}
        for key, value in pairs:
            self._all.setdefault(key, []).append(value)
            self.setdefault(key, value)  # the first value is the one smsdesk reads

    def getall(self, key: str) -> list[str]:
        return self._all[key]


@dataclass(frozen=True, slots=True)
class InboundSms:
    """A text a customer sent, as Twilio described it."""

    message_sid: str
    account_sid: str
    sender: str  # E.164
    recipient: str  # the business's number
    text: str  # normalised: NFC, control and zero-width characters removed, trimmed
    num_media: int
    from_state: str | None
    opt_out_type: str | None  # Twilio Advanced Opt-Out: STOP | START | HELP


@dataclass(frozen=True, slots=True)
class DeliveryStatus:
    """A status callback for a message smsdesk sent, and where that message is (from the callback
    URL smsdesk gave Twilio: the key, the conversation if any; the number is Twilio's ``To``)."""

    message_sid: str
    status: str
    error_code: int | None
    recipient: str = ""
    message_key: str = ""
    conversation: str | None = None


def public_url(request: WebhookRequest, public_base_url: str | None, route: str) -> str:
    """The URL Twilio signed: the configured public base + the route, keeping the query."""
    if public_base_url is None:
        return request.url
    query = urlsplit(request.url).query
    return public_base_url + route + (f"?{query}" if query else "")


def read_form(request: WebhookRequest, max_body_bytes: int) -> FormParameters:
    if request.method.upper() != "POST":
        raise BadWebhookRequest("Twilio webhooks are POST requests", status=405)
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/x-www-form-urlencoded":
        raise BadWebhookRequest("expected application/x-www-form-urlencoded", status=415)
    if len(request.body) > max_body_bytes:
        raise BadWebhookRequest(f"body larger than {max_body_bytes} bytes", status=413)
    try:
        text = request.body.decode("utf-8")
        pairs = parse_qsl(text, keep_blank_values=True, strict_parsing=bool(text), errors="strict")
    except (UnicodeDecodeError, ValueError):
        raise BadWebhookRequest("body is not valid form encoding") from None
    return FormParameters(pairs)


def verify_signature(
    request: WebhookRequest,
    params: FormParameters,
    url: str,
    credentials: TwilioCredentials,
    refresh: Callable[[], TwilioCredentials | None],
) -> None:
    """Raise ForgedWebhookRequest unless the signature verifies (once more after a key refresh)."""
    signature = request.headers.get("x-twilio-signature", "")
    if not signature:
        raise ForgedWebhookRequest("missing X-Twilio-Signature")
    algorithm = get_signature_algorithm(request.headers.get("x-twilio-webhooks-signature-settings"))

    def signed_with(tokens: tuple[str, ...]) -> bool:
        return any(RequestValidator(token).validate(url, params, signature, algorithm) for token in tokens)

    if signed_with(credentials.signing_tokens):  # during a rollover, the previous token too
        return
    rotated = refresh()  # the token may have been rotated since we cached it
    if rotated is not None and signed_with(rotated.signing_tokens):
        return
    raise ForgedWebhookRequest("X-Twilio-Signature does not match")


def normalise_text(text: str) -> str:
    text = unicodedata.normalize("NFC", text)
    text = "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch) not in _STRIPPED)
    return text.strip()


def inbound_sms(params: FormParameters, account_sid: str) -> InboundSms:
    missing = [name for name in ("MessageSid", "From", "To") if not params.get(name)]
    if missing:
        raise BadWebhookRequest(f"missing {', '.join(missing)}", status=422)
    sid, sender, recipient = params["MessageSid"], params["From"].strip(), params["To"].strip()
    if not _SID.fullmatch(sid):
        raise BadWebhookRequest("MessageSid is not a Twilio message SID", status=422)
    if params.get("AccountSid") and params["AccountSid"] != account_sid:
        # Signed with our token, yet for another account (a number moved between subaccounts?):
        # said as it is, so whoever reads Twilio's debugger sees why.
        raise BadWebhookRequest(
            f"the request is for Twilio account {params['AccountSid']}, not this stack's {account_sid}", status=403
        )
    if not is_e164(sender):
        raise BadWebhookRequest("From is not an E.164 phone number", status=422)
    raw_text = params.get("Body", "")
    if len(raw_text) > MAX_TEXT_LENGTH:
        raise BadWebhookRequest(f"Body longer than {MAX_TEXT_LENGTH} characters", status=413)
    try:
        num_media = int(params.get("NumMedia") or 0)
    except ValueError:
        raise BadWebhookRequest("NumMedia is not a number", status=422) from None
    # An empty text (nothing left after normalising, or a failed MMS) is still a text the
    # customer sent: stored like any other, so nothing they did is lost.
    text = normalise_text(raw_text)
    opt_out_type = (params.get("OptOutType") or "").strip().upper() or None
    return InboundSms(
        message_sid=sid,
        account_sid=account_sid,
        sender=sender,
        recipient=recipient,
        text=text,
        num_media=max(num_media, 0),
        from_state=(params.get("FromState") or "").strip() or None,
        opt_out_type=opt_out_type if opt_out_type in {"STOP", "START", "HELP"} else None,
    )


_MESSAGE_KEY = re.compile(r"[A-Za-z0-9_.-]{1,120}")


def delivery_status(params: FormParameters, url: str) -> DeliveryStatus:
    """Read a status callback; ``url`` is the one Twilio called (its query says which message)."""
    location = dict(parse_qsl(urlsplit(url).query))
    key, conversation = location.get("m", ""), location.get("c") or None
    if not _MESSAGE_KEY.fullmatch(key) or (conversation is not None and not looks_like_reference(conversation)):
        raise BadWebhookRequest("the callback URL does not say which message it is about", status=422)
    recipient = (params.get("To") or "").strip()
    if not is_e164(recipient):
        raise BadWebhookRequest("To is not an E.164 phone number", status=422)
    sid = params.get("MessageSid") or params.get("SmsSid") or ""
    status = (params.get("MessageStatus") or params.get("SmsStatus") or "").strip().lower()
    if not _SID.fullmatch(sid):
        raise BadWebhookRequest("MessageSid is missing or not a Twilio message SID", status=422)
    if not status:
        raise BadWebhookRequest("MessageStatus is missing", status=422)
    code = (params.get("ErrorCode") or "").strip()
    try:
        error_code = int(code) if code else None
    except ValueError:
        raise BadWebhookRequest("ErrorCode is not a number", status=422) from None
    return DeliveryStatus(sid, status, error_code, recipient, key, conversation)


class WebhookVerifier:
    """Reads and verifies a Twilio webhook request: the first thing each webhook does."""

    def __init__(self, settings: WebhookSettings, credentials: CredentialsSource[TwilioCredentials]) -> None:
        self._settings = settings
        self._credentials = credentials

    def verified_form(self, request: WebhookRequest, route: str) -> tuple[FormParameters, TwilioCredentials]:
        params = read_form(request, self._settings.max_body_bytes)
        credentials = self._credentials.get()
        url = public_url(request, self._settings.public_base_url, route)
        verify_signature(request, params, url, credentials, self._credentials.refresh)
        return params, self._credentials.get()
