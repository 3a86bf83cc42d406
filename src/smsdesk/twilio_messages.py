"""Handing a message to Twilio: ``messages.create`` with the real twilio library.

Only the send gateway calls this. It sorts Twilio's answers into three outcomes:

* accepted: Twilio returns the message SID;
* permanent failure (:class:`PermanentSendFailure`): 21610 (the recipient replied STOP to this
  number), 21211 (invalid number), 21614 (not a mobile number)... never retried;
* our credentials refused (401): the secret is read again (a rotated API key) and the send
  retried; if that does not help, a transient failure;
* transient failure: 429 / 20429 (too many requests) is retried here with exponential backoff
  and full jitter; 5xx and network errors are *ambiguous* (Twilio may have taken the message),
  so before retrying one the recent messages to that number are listed and, if the text is
  already there, that message is taken as the result: a retry never sends twice. When the
  attempts or their time budget (``RetryPolicy.budget``, inside the function's timeout) are
  used up, :class:`TransientSendFailure` lets the caller's retry policy continue.

The twilio REST client (with ``requests``) is slow to import (docs/decisions.md, section 6), so
it is loaded on the first send only, and only in functions that send.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from smsdesk.errors import TransientSendFailure

if TYPE_CHECKING:
    from smsdesk.config import MessagingSettings
    from smsdesk.twilio_credentials import CredentialsSource, TwilioApiKey

TWILIO_API = "https://api.twilio.com"
# Twilio error codes that will fail the same way on every retry.
PERMANENT_ERRORS = {
    21211: "invalid 'To' number",
    21408: "no permission to send to this region",
    21610: "the recipient replied STOP to this number (carrier opt-out)",
    21612: "the 'To' number cannot be reached from this sender",
    21614: "'To' is not a mobile number",
    21617: "the message body is too long",
}
RATE_LIMITED = 20429
CALLBACK_RETRIES = "#rc=3&rp=ct,rt,5xx"  # Twilio's connection overrides


class PermanentSendFailure(Exception):
    """Twilio refused the message for good: its error code (None when Twilio gave none) and why."""

    def __init__(self, code: int | None, reason: str) -> None:
        self.code = code
        self.reason = reason
        super().__init__(f"Twilio refused the message: {self.note}")

    @property
    def note(self) -> str:
        """What an agent reads: "21211: invalid 'To' number", or only the reason when there is no code."""
        return self.reason if self.code is None else f"{self.code}: {self.reason}"


@dataclass(frozen=True, slots=True)
class AcceptedMessage:
    sid: str
    status: str  # queued / accepted / sent...
    segments: int | None


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    max_attempts: int = 4
    base_delay: float = 0.25  # seconds
    max_delay: float = 4.0
    # All the attempts of one send, waits included, end within this many seconds: an attempt
    # starts only if it can finish in time (each request may take the whole timeout). The
    # sending functions' timeout (20 s, template.yaml) leaves room for the table's writes around
    # it; what is not tried now is retried by the function's own retries.
    budget: float = 14.0

    def delay(self, attempt: int, rng: Callable[[], float]) -> float:
        """Full jitter: a random wait up to base * 2^attempt, capped."""
        return rng() * min(self.max_delay, self.base_delay * 2.0**attempt)


def rebased_http_client(base_url: str, timeout: float) -> Any:
    """A twilio HTTP client that sends api.twilio.com requests to ``base_url`` (the local stand-in)."""
    from twilio.http.http_client import TwilioHttpClient

    class RebasedHttpClient(TwilioHttpClient):  # type: ignore[misc]  # twilio ships no types
        def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
            if url.startswith(TWILIO_API):
                url = base_url + url[len(TWILIO_API) :]
            return super().request(method, url, *args, **kwargs)

    return RebasedHttpClient(timeout=timeout)


class TwilioMessages:
    def __init__(
        self,
        settings: MessagingSettings,
        credentials: CredentialsSource[TwilioApiKey],
        *,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        rng: Callable[[], float] = random.random,
        timeout_seconds: float = 4.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._settings = settings
        self._credentials = credentials
        self._retry = retry or RetryPolicy()
        self._sleep = sleep
        self._rng = rng
        self._timeout = timeout_seconds
        self._monotonic = monotonic
        self._client: Any = None
        self._client_key: Any = None

    def _twilio(self) -> Any:
        key = self._credentials.get()  # a TwilioApiKey (the senders' secret)
        if self._client is None or self._client_key != key:
            from twilio.http.http_client import TwilioHttpClient
            from twilio.rest import Client

            base = self._settings.twilio_api_base_url
            http = rebased_http_client(base, self._timeout) if base else TwilioHttpClient(timeout=self._timeout)
            self._client = Client(key.key_sid, key.secret, key.account_sid, http_client=http)
            self._client_key = key
        return self._client

    def create(
        self,
        to: str,
        body: str,
        *,
        claimed_at: datetime,
        reconcile: bool = False,
        callback: dict[str, str] | None = None,
    ) -> AcceptedMessage:
        """Send ``body`` to ``to``. ``reconcile``: an earlier attempt may have sent it; look first.
        ``callback``: query parameters for the status callback URL (where the message is)."""
        from requests.exceptions import ConnectionError as NetworkError
        from requests.exceptions import Timeout
        from twilio.base.exceptions import TwilioRestException

        ambiguous = reconcile
        last_error = "no attempt made"
        started, attempts = self._monotonic(), 0
        for attempt in range(self._retry.max_attempts):
            if attempt:
                delay = self._retry.delay(attempt, self._rng)
                # the next attempt's requests (a listing first when ambiguous), each up to the timeout
                longest = delay + self._timeout * (2 if ambiguous else 1)
                if self._monotonic() - started + longest > self._retry.budget:
                    break
                self._sleep(delay)
            attempts += 1
            if ambiguous and (found := self._already_sent(to, body, claimed_at)) is not None:
                return found
            try:
                message = self._twilio().messages.create(to=to, body=body, **self._sender_args(callback))
                segments = int(message.num_segments) if message.num_segments else None
                return AcceptedMessage(message.sid, message.status or "queued", segments)
            except TwilioRestException as error:
                if error.status == 429 or error.code == RATE_LIMITED:
                    last_error, ambiguous = "rate limited (429)", False
                    continue
                if error.status >= 500:
                    last_error, ambiguous = f"Twilio answered {error.status}", True
                    continue
                if error.status == 401:
                    # Our credentials, not the message: the API key may have just been
                    # rotated. Read the secret again (at most once a minute) and retry; if that
                    # does not help, retry later (the function's retries, then its queue).
                    last_error, ambiguous = "Twilio refused the credentials (401)", False
                    if self._credentials.refresh() is not None:
                        continue
                    raise TransientSendFailure(last_error) from None
                # Where Twilio's answer names no error code, the library puts the HTTP status there.
                code = None if error.code in {None, error.status} else error.code
                reason = error.msg if code is None else PERMANENT_ERRORS.get(code, error.msg)
                raise PermanentSendFailure(code, reason) from None
            except Timeout:
                last_error, ambiguous = "Twilio did not answer in time", True
            except NetworkError:
                last_error, ambiguous = "could not reach Twilio", True
        raise TransientSendFailure(f"{last_error} after {attempts} attempts")

    def _sender_args(self, callback: dict[str, str] | None) -> dict[str, str]:
        args: dict[str, str] = {}
        if self._settings.uses_messaging_service:
            args["messaging_service_sid"] = self._settings.sender
        else:
            args["from_"] = self._settings.sender
        if self._settings.status_callback_url:
            query = f"?{urlencode(callback)}" if callback else ""
            # The fragment asks Twilio to retry a callback that failed (5xx) or timed out; it is
            # not part of the URL Twilio signs.
            args["status_callback"] = f"{self._settings.status_callback_url}{query}{CALLBACK_RETRIES}"
        return args

    def _already_sent(self, to: str, body: str, claimed_at: datetime) -> AcceptedMessage | None:
        """After an ambiguous failure: is our message among the latest sent to ``to``?"""
        try:
            recent = self._twilio().messages.list(to=to, limit=20)  # newest first
        except Exception:
            return None
        since = claimed_at - timedelta(minutes=1)
        for message in recent:
            created = message.date_created
            if created is not None and created < since:
                break
            if message.body == body and (message.direction or "").startswith("outbound"):
                return AcceptedMessage(message.sid, message.status or "queued", None)
        return None
