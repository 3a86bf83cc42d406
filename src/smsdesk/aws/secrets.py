"""The Twilio credentials, from AWS Secrets Manager, cached.

Two secrets. The senders call Twilio with a restricted API key (:class:`TwilioApiKey`, its own
secret: ``{"account_sid": "AC...", "api_key_sid": "SK...", "api_key_secret": "..."}``), which can
be revoked alone and cannot manage the account. Only the webhooks read the account's auth token,
which Twilio signs webhooks with. That secret is a JSON object:
``{"account_sid": "AC...", "auth_token": "..."}``, plus, during an auth-token rollover,
``"previous_auth_token"``: the webhooks accept a signature made with either, so Twilio's switch
to the new token refuses nothing (README, "Rotating the auth token"). It is read on first use
and kept for ``max_age``; a signature that fails to verify may force one early re-read
(the token may have just been rotated), at most once per ``refresh_interval``, so forged requests
cannot turn into a stream of Secrets Manager calls.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from smsdesk.clock import Clock
from smsdesk.errors import ConfigurationError
from smsdesk.twilio_credentials import TwilioApiKey, TwilioCredentials

_ACCOUNT_SID = re.compile(r"AC[0-9a-fA-F]{32}")
_API_KEY_SID = re.compile(r"SK[0-9a-fA-F]{32}")


def _json_object(secret_string: str) -> dict[str, Any]:
    try:
        value = json.loads(secret_string)
    except json.JSONDecodeError:
        raise ConfigurationError("the Twilio secret is not JSON") from None
    if not isinstance(value, dict):
        raise ConfigurationError("the Twilio secret must be a JSON object")
    return value


def parse_api_key_secret(secret_string: str) -> TwilioApiKey:
    value = _json_object(secret_string)
    sid, key_sid, secret = value.get("account_sid"), value.get("api_key_sid"), value.get("api_key_secret")
    if not isinstance(sid, str) or not _ACCOUNT_SID.fullmatch(sid):
        raise ConfigurationError("the Twilio API key secret's account_sid must look like AC + 32 hex digits")
    if not isinstance(key_sid, str) or not _API_KEY_SID.fullmatch(key_sid):
        raise ConfigurationError("the Twilio API key secret's api_key_sid must look like SK + 32 hex digits")
    if not isinstance(secret, str) or len(secret) < 16:
        raise ConfigurationError("the Twilio API key secret's api_key_secret is missing or too short")
    return TwilioApiKey(sid, key_sid, secret)


def parse_secret(secret_string: str) -> TwilioCredentials:
    value = _json_object(secret_string)
    sid, token = value.get("account_sid"), value.get("auth_token")
    if not isinstance(sid, str) or not _ACCOUNT_SID.fullmatch(sid):
        raise ConfigurationError("the Twilio secret's account_sid must look like AC + 32 hex digits")
    if not isinstance(token, str) or len(token) < 16:
        raise ConfigurationError("the Twilio secret's auth_token is missing or too short")
    previous = value.get("previous_auth_token")
    if previous is not None and (not isinstance(previous, str) or len(previous) < 16):
        raise ConfigurationError("the Twilio secret's previous_auth_token is too short")
    return TwilioCredentials(sid, token, previous or None)


class TwilioCredentialsProvider:
    def __init__(
        self,
        secret_id: str,
        clock: Clock,
        *,
        max_age: timedelta = timedelta(minutes=5),
        refresh_interval: timedelta = timedelta(minutes=1),
        secrets_client: Any = None,
        parse: Callable[[str], Any] = parse_secret,  # parse_api_key_secret for the senders' secret
    ) -> None:
        self._parse = parse
        self._secret_id = secret_id
        self._clock = clock
        self._max_age = max_age
        self._refresh_interval = refresh_interval
        self._client = secrets_client
        self._cached: Any = None
        self._fetched_at: datetime | None = None
        self._lock = threading.Lock()

    def get(self) -> Any:
        with self._lock:
            now = self._clock.now()
            if self._cached is None or self._fetched_at is None or now - self._fetched_at >= self._max_age:
                self._fetch(now)
            assert self._cached is not None
            return self._cached

    def refresh(self) -> Any:
        """Re-read the secret now, unless it was read within ``refresh_interval`` (then None)."""
        with self._lock:
            now = self._clock.now()
            if self._fetched_at is not None and now - self._fetched_at < self._refresh_interval:
                return None
            previous = self._cached
            self._fetch(now)
            return self._cached if self._cached != previous else None

    def _fetch(self, now: datetime) -> None:
        if self._client is None:
            from smsdesk.aws.clients import client

            self._client = client("secretsmanager")
        response = self._client.get_secret_value(SecretId=self._secret_id)
        self._cached = self._parse(response["SecretString"])
        self._fetched_at = now
