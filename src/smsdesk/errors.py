"""Domain exceptions. Handlers map them to responses; nothing here knows about HTTP."""


class SmsDeskError(Exception):
    """Base of every error smsdesk raises on purpose."""


class ConfigurationError(SmsDeskError):
    """A configuration value is missing or invalid (raised once, at cold start)."""


class BadWebhookRequest(SmsDeskError):
    """A webhook request is malformed: the caller gets a 4xx and nothing changes."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


class ForgedWebhookRequest(SmsDeskError):
    """The X-Twilio-Signature is missing or does not match: 403, nothing changes."""


class ConversationNotFound(SmsDeskError):
    pass


class InvalidTransition(SmsDeskError):
    """A lifecycle change that the conversation's current status does not allow."""


class TransientSendFailure(SmsDeskError):
    """Twilio could not take the message now (429, 5xx, timeout): retry later."""


class InvalidPeriod(SmsDeskError, ValueError):
    """A period the analytics cannot report (bad dates, to before from, too long)."""


class ConcurrentWrite(SmsDeskError):
    """DynamoDB cancelled a transaction because another one was writing the same items at that
    moment (``TransactionConflict``): nothing was written, and deciding again from a fresh read is
    safe. Callers that can decide again do; the others answer "try again"."""
