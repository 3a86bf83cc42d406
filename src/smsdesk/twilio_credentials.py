"""Twilio's credentials as values, and what smsdesk asks of whatever keeps them.

The webhooks verify signatures with the account's auth token (:class:`TwilioCredentials`); the
senders call the REST API with a restricted API key (:class:`TwilioApiKey`). Where they come
from (Secrets Manager, cached: :mod:`smsdesk.aws.secrets`) is the edge's business, not the domain's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class TwilioCredentials:
    account_sid: str
    auth_token: str
    previous_auth_token: str | None = None  # only while a rollover is under way

    def __repr__(self) -> str:  # never print the token
        return f"TwilioCredentials(account_sid={self.account_sid!r}, auth_token='***')"

    @property
    def signing_tokens(self) -> tuple[str, ...]:
        """The tokens a genuine webhook may be signed with: the current, then the previous."""
        return (self.auth_token,) + ((self.previous_auth_token,) if self.previous_auth_token else ())


@dataclass(frozen=True, slots=True)
class TwilioApiKey:
    """What the senders authenticate to Twilio's REST API with."""

    account_sid: str
    key_sid: str
    secret: str

    def __repr__(self) -> str:  # never print the secret
        return f"TwilioApiKey(account_sid={self.account_sid!r}, key_sid={self.key_sid!r}, secret='***')"


class CredentialsSource[T](Protocol):
    """Credentials kept somewhere: ``get`` the current ones; ``refresh`` re-reads them early (a
    signature that fails may mean the token was just rotated), or None if it may not yet."""

    def get(self) -> T: ...

    def refresh(self) -> T | None: ...
