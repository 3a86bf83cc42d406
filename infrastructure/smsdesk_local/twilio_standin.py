"""A stand-in of Twilio's Messages REST resource, for the real twilio library to talk to.

It answers ``POST/GET /2010-04-01/Accounts/{AccountSid}/Messages.json`` and
``GET .../Messages/{Sid}.json`` in Twilio's JSON shapes, checks HTTP Basic auth against the local
account, validates like Twilio (21604 missing To, 21211 invalid To, 21602 missing Body, 21603 no
From), and then, like Twilio, calls the message's StatusCallback with signed ``sent`` and
``delivered`` callbacks. Faults can be injected for tests and benchmarks: every n-th request
answered 429/20429, a given number refused with a given code, or a 5xx.

It also keeps the media of customers' texts (:meth:`TwilioStandIn.add_media`, what Twilio stores
when an MMS arrives) and serves them as Twilio does with "Enforce HTTP Auth on Media URLs" on:
``GET .../Messages/{MessageSid}/Media/{MediaSid}`` with HTTP Basic auth answers a redirect to a
short-lived CDN URL (``/cdn/...`` here, mms.twiliocdn.com there), which carries its own token and,
like a pre-signed URL, refuses a request that also brings an Authorization header.
"""

from __future__ import annotations

import base64
import json
import queue
import re
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from smsdesk.sms_segments import count_segments

_E164 = re.compile(r"\+[1-9]\d{6,14}")
_MESSAGES = re.compile(r"^/2010-04-01/Accounts/(?P<account>AC\w+)/Messages(?:/(?P<sid>SM\w+))?\.json$")
_MEDIA = re.compile(r"^/2010-04-01/Accounts/(?P<account>AC\w+)/Messages/(?P<sid>(?:SM|MM)\w+)/Media/(?P<media>ME\w+)$")
TWILIO_API = "https://api.twilio.com"


@dataclass
class Faults:
    """What the stand-in should get wrong, on purpose."""

    every: int = 0  # answer every n-th create with `every_status`
    every_status: int = 429
    every_code: int = 20429
    refuse: dict[str, int] = field(default_factory=dict)  # To -> Twilio error code (400)
    server_errors: int = 0  # the next n creates answer 503
    counter: int = 0

    def for_create(self, to: str) -> tuple[int, int, str] | None:
        self.counter += 1
        if to in self.refuse:
            code = self.refuse[to]
            return 400, code, f"Twilio error {code}"
        if self.server_errors > 0:
            self.server_errors -= 1
            return 503, 20500, "Service unavailable"
        if self.every and self.counter % self.every == 0:
            return self.every_status, self.every_code, "Too Many Requests"
        return None


# Twilio's default opt-out handling: its exact keywords (the whole text, any case), and the
# replies Twilio itself sends, in English (https://help.twilio.com/articles/223134027).
TWILIO_OPT_OUT_KEYWORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"})
TWILIO_OPT_IN_KEYWORDS = frozenset({"START", "UNSTOP", "YES"})
TWILIO_HELP_KEYWORDS = frozenset({"HELP", "INFO"})
TWILIO_OPT_OUT_REPLY = (
    "You have successfully been unsubscribed. You will not receive any more messages from this number. "
    "Reply START to resubscribe."
)
TWILIO_OPT_IN_REPLY = (
    "You have successfully been re-subscribed to messages from this number. Reply HELP for help. "
    "Reply STOP to unsubscribe. Msg&Data Rates May Apply."
)
TWILIO_HELP_REPLY = "Reply STOP to unsubscribe. Msg&Data Rates May Apply."


class TwilioStandIn:
    def __init__(
        self, account_sid: str, auth_token: str, now: Callable[[], datetime], *, api_key: tuple[str, str] | None = None
    ) -> None:
        self.api_key = api_key  # (SID, secret): what smsdesk's senders authenticate with
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.now = now
        self.messages: list[dict[str, Any]] = []  # newest last
        self.faults = Faults()
        self.status_callbacks = True
        self.create_requests = 0
        self.on_create: Callable[[dict[str, Any]], None] | None = None  # told of every accepted message
        # Twilio answers its exact keywords itself (STOP..., START..., HELP, INFO), and after a STOP
        # refuses sends to the number (21610) until it texts START (the template's
        # TwilioAnswersOptOutKeywords says whether it does).
        self.answers_opt_out_keywords = True
        self.unsubscribed: set[str] = set()
        self.media: dict[str, tuple[bytes, str]] = {}  # path of a media URL -> (bytes, content type)
        self._cdn: dict[str, str] = {}  # CDN token -> path of the media URL
        self._lock = threading.Lock()
        self._callbacks: queue.Queue[tuple[str, dict[str, str]] | None] = queue.Queue()
        self._pending_callbacks = 0
        self._server: ThreadingHTTPServer | None = None
        self._threads: list[threading.Thread] = []

    # ------------------------------------------------------------------ server

    def start(self, port: int = 0) -> str:
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as api.twilio.com (the client reuses it)
            disable_nagle_algorithm = True  # headers and body are two writes: no delayed-ACK stall

            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                stand_in._serve(self, "GET")

            def do_POST(self) -> None:
                stand_in._serve(self, "POST")

        self._server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self._server.daemon_threads = True
        serve = threading.Thread(target=self._server.serve_forever, name="twilio-standin", daemon=True)
        deliver = threading.Thread(target=self._deliver_callbacks, name="twilio-status-callbacks", daemon=True)
        self._threads = [serve, deliver]
        for thread in self._threads:
            thread.start()
        return self.base_url

    @property
    def base_url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        self._callbacks.put(None)
        for thread in self._threads:
            thread.join(timeout=5)

    @property
    def busy(self) -> bool:
        with self._lock:
            return self._pending_callbacks > 0

    # ------------------------------------------------------------------ the API

    def add_media(self, message_sid: str, body: bytes, content_type: str) -> str:
        """Keep a customer's media as Twilio does when their MMS arrives; return its MediaUrl."""
        path = f"/2010-04-01/Accounts/{self.account_sid}/Messages/{message_sid}/Media/ME{uuid.uuid4().hex}"
        with self._lock:
            self.media[path] = (body, content_type)
        return TWILIO_API + path

    def _serve_media(self, request: BaseHTTPRequestHandler, path: str) -> None:
        if path.startswith("/cdn/"):
            with self._lock:
                found = self.media.get(self._cdn.get(path.removeprefix("/cdn/"), ""))
            if request.headers.get("Authorization"):  # S3's pre-signed URLs refuse a second auth
                return self._reply(request, 400, {"message": "Only one auth mechanism allowed"})
            if found is None:
                return self._reply(request, 404, {"message": "expired or unknown"})
            body, content_type = found
            request.send_response(200)
            request.send_header("Content-Type", content_type)
            request.send_header("Content-Length", str(len(body)))
            request.end_headers()
            request.wfile.write(body)
            return None
        match = _MEDIA.match(path)
        assert match is not None
        if not self._authorised(request.headers.get("Authorization", ""), match.group("account")):
            return self._reply(request, 401, _error(20003, "Authentication Error - invalid username", 401))
        with self._lock:
            if path not in self.media:
                return self._reply(request, 404, _error(20404, "The requested resource was not found", 404))
            token = uuid.uuid4().hex
            self._cdn[token] = path
        request.send_response(307)
        request.send_header("Location", f"{self.base_url}/cdn/{token}")
        request.send_header("Content-Length", "0")
        request.end_headers()
        return None

    def _serve(self, request: BaseHTTPRequestHandler, method: str) -> None:
        parts = urlsplit(request.path)
        if method == "GET" and (parts.path.startswith("/cdn/") or _MEDIA.match(parts.path)):
            return self._serve_media(request, parts.path)
        match = _MESSAGES.match(parts.path)
        if match is None:
            return self._reply(request, 404, _error(20404, "The requested resource was not found", 404))
        if not self._authorised(request.headers.get("Authorization", ""), match.group("account")):
            return self._reply(request, 401, _error(20003, "Authentication Error - invalid username", 401))
        if method == "POST" and not match.group("sid"):
            length = int(request.headers.get("Content-Length") or 0)
            form = dict(parse_qsl(request.rfile.read(length).decode("utf-8"), keep_blank_values=True))
            status, body = self.create(form)
            return self._reply(request, status, body)
        if method == "GET" and match.group("sid"):
            found = self.fetch(match.group("sid"))
            if found is None:
                return self._reply(request, 404, _error(20404, "The requested resource was not found", 404))
            return self._reply(request, 200, found)
        if method == "GET":
            query = dict(parse_qsl(parts.query))
            return self._reply(request, 200, self.page(query, parts.path))
        return self._reply(request, 405, _error(20004, "Method not allowed", 405))

    def _authorised(self, header: str, account: str) -> bool:
        if account != self.account_sid or not header.startswith("Basic "):
            return False
        try:
            user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        except ValueError:
            return False
        return (user, password) in {(self.account_sid, self.auth_token), self.api_key}

    def received(self, sender: str, business: str, body: str) -> dict[str, Any] | None:
        """A customer's text reached Twilio (before Twilio calls the webhook): an exact keyword is
        answered by Twilio itself, as its default handling does: an opt-out keyword unsubscribes
        the number, an opt-in keyword subscribes it again, HELP and INFO are answered (not to an
        unsubscribed number: Twilio sends it nothing). Returns Twilio's own reply, if any."""
        word = body.strip().upper()
        if not self.answers_opt_out_keywords:
            return None
        if word in TWILIO_OPT_OUT_KEYWORDS:
            self.unsubscribed.discard(sender)
            status, reply = self.create({"To": sender, "From": business, "Body": TWILIO_OPT_OUT_REPLY})
            self.unsubscribed.add(sender)
        elif word in TWILIO_OPT_IN_KEYWORDS:
            self.unsubscribed.discard(sender)
            status, reply = self.create({"To": sender, "From": business, "Body": TWILIO_OPT_IN_REPLY})
        elif word in TWILIO_HELP_KEYWORDS:
            status, reply = self.create({"To": sender, "From": business, "Body": TWILIO_HELP_REPLY})
        else:
            return None
        if status != 201:
            return None
        with self._lock:  # Twilio's own reply has no status callback: it is simply delivered
            for message in self.messages:
                if message["sid"] == reply["sid"]:
                    message["status"] = reply["status"] = "delivered"
        return reply

    def create(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        with self._lock:
            self.create_requests += 1
            to, body = form.get("To", ""), form.get("Body", "")
            if not to:
                return 400, _error(21604, "A 'To' phone number is required.", 400)
            if not _E164.fullmatch(to):
                return 400, _error(21211, f"The 'To' number {to} is not a valid phone number.", 400)
            if not body and not form.get("MediaUrl"):
                return 400, _error(21602, "Message body is required.", 400)
            if not form.get("From") and not form.get("MessagingServiceSid"):
                return 400, _error(21603, "A 'From' phone number is required.", 400)
            if to in self.unsubscribed:
                return 400, _error(21610, "Attempt to send to unsubscribed recipient", 400)
            fault = self.faults.for_create(to)
            if fault is not None:
                status, code, reason = fault
                return status, _error(code, reason, status)
            now = self.now()
            sid = "SM" + uuid.uuid4().hex
            message: dict[str, Any] = {
                "sid": sid,
                "account_sid": self.account_sid,
                "to": to,
                "from": form.get("From") or "+15005550006",
                "messaging_service_sid": form.get("MessagingServiceSid"),
                "body": body,
                "status": "queued",
                "num_segments": str(count_segments(body).segments),
                "num_media": "0",
                "direction": "outbound-api",
                "api_version": "2010-04-01",
                "price": None,
                "price_unit": "USD",
                "error_code": None,
                "error_message": None,
                "date_created": format_datetime(now),
                "date_updated": format_datetime(now),
                "date_sent": None,
                "uri": f"/2010-04-01/Accounts/{self.account_sid}/Messages/{sid}.json",
                "subresource_uris": {"media": f"/2010-04-01/Accounts/{self.account_sid}/Messages/{sid}/Media.json"},
                "_created": now,
            }
            self.messages.append(message)
            if self.on_create is not None:
                self.on_create(_public(message))
            callback = form.get("StatusCallback")
            if callback and self.status_callbacks:
                for reported in ("sent", "delivered"):
                    self._pending_callbacks += 1
                    self._callbacks.put((callback, {"sid": sid, "status": reported}))
            return 201, _public(message)

    def fetch(self, sid: str) -> dict[str, Any] | None:
        with self._lock:
            return next((_public(m) for m in self.messages if m["sid"] == sid), None)

    def page(self, query: dict[str, str], path: str) -> dict[str, Any]:
        with self._lock:
            found = [m for m in reversed(self.messages) if _matches(m, query)]
        size = min(int(query.get("PageSize", 50)), 1000)
        page = int(query.get("Page", 0))
        chunk = found[page * size : (page + 1) * size]
        base = f"{path}?PageSize={size}" + (f"&To={query['To']}" if "To" in query else "")
        return {
            "messages": [_public(m) for m in chunk],
            "page": page,
            "page_size": size,
            "start": page * size,
            "end": page * size + max(len(chunk) - 1, 0),
            "uri": f"{base}&Page={page}",
            "first_page_uri": f"{base}&Page=0",
            "previous_page_uri": f"{base}&Page={page - 1}" if page else None,
            "next_page_uri": f"{base}&Page={page + 1}" if (page + 1) * size < len(found) else None,
        }

    # ------------------------------------------------------------------ status callbacks

    def _deliver_callbacks(self) -> None:
        from twilio.request_validator import RequestValidator

        validator = RequestValidator(self.auth_token)
        while (item := self._callbacks.get()) is not None:
            url, what = item
            try:
                with self._lock:
                    message = next(m for m in self.messages if m["sid"] == what["sid"])
                    message["status"] = what["status"]
                    message["date_updated"] = format_datetime(self.now())
                    if what["status"] == "sent":
                        message["date_sent"] = message["date_updated"]
                    params = {
                        "MessageSid": message["sid"],
                        "SmsSid": message["sid"],
                        "MessageStatus": what["status"],
                        "SmsStatus": what["status"],
                        "AccountSid": self.account_sid,
                        "To": message["to"],
                        "From": message["from"],
                        "ApiVersion": "2010-04-01",
                    }
                self._post_signed(url, params, validator)
            finally:
                with self._lock:
                    self._pending_callbacks -= 1

    def _post_signed(self, url: str, params: dict[str, str], validator: Any) -> None:
        from urllib.parse import urlencode

        data = urlencode(params).encode()
        signature = validator.compute_signature(url.split("#", 1)[0], params)
        for attempt in range(4):  # like a status callback URL with #rc=3
            request = urllib.request.Request(
                url.split("#", 1)[0],
                data=data,
                headers={"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": signature},
            )
            try:
                with urllib.request.urlopen(request, timeout=30):
                    return
            except urllib.error.HTTPError as error:
                if error.code < 500:
                    return
            except OSError:
                pass
            time.sleep(0.05 * (attempt + 1))

    def _reply(self, request: BaseHTTPRequestHandler, status: int, body: dict[str, Any]) -> None:
        payload = json.dumps(body).encode()
        request.send_response(status)
        request.send_header("Content-Type", "application/json")
        request.send_header("Content-Length", str(len(payload)))
        request.end_headers()
        request.wfile.write(payload)


def _matches(message: dict[str, Any], query: dict[str, str]) -> bool:
    if "To" in query and message["to"] != query["To"]:
        return False
    if "From" in query and message["from"] != query["From"]:
        return False
    for key, op in (("DateSent>", "ge"), ("DateSent<", "le"), ("DateSent", "eq")):
        if key in query:
            day = query[key][:10]
            created = message["_created"].date().isoformat()
            if (op == "ge" and created < day) or (op == "le" and created > day) or (op == "eq" and created != day):
                return False
    return True


def _public(message: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in message.items() if not k.startswith("_")}


def _error(code: int, message: str, status: int) -> dict[str, Any]:
    return {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }


def local_client(base_url: str, account_sid: str, auth_token: str) -> Any:
    """A real twilio Client whose requests go to the stand-in."""
    from twilio.rest import Client

    from smsdesk.twilio_messages import rebased_http_client

    return Client(account_sid, auth_token, http_client=rebased_http_client(base_url, 10.0))
