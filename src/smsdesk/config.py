"""Configuration, read and validated once, at cold start.

Each function loads the sections it needs from its environment (set by template.yaml, or by the
local stack from the same template). A missing or malformed value fails the cold start with one
:class:`ConfigurationError` that lists every problem, instead of a confusing error later, on a
customer's message.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Self
from urllib.parse import urlsplit

from smsdesk.errors import ConfigurationError
from smsdesk.phone_numbers import is_e164

if TYPE_CHECKING:
    from smsdesk.business_hours import BusinessHours
    from smsdesk.quiet_hours import ProactiveCap, QuietHours


class _Reader:
    """Collects every problem before failing, so one deploy fixes them all."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        self.environ = environ
        self.problems: list[str] = []

    def text(self, name: str, default: str | None = None, *, max_length: int = 2048) -> str:
        value = self.environ.get(name, default)
        if value is None or not value.strip():
            self.problems.append(f"{name} is required")
            return ""
        value = value.strip()
        if len(value) > max_length:
            self.problems.append(f"{name} is longer than {max_length} characters")
        return value

    def optional(self, name: str) -> str | None:
        value = self.environ.get(name, "").strip()
        return value or None

    def integer(self, name: str, default: int, *, minimum: int, maximum: int) -> int:
        raw = self.environ.get(name, "").strip()
        if not raw:
            return default
        try:
            value = int(raw)
        except ValueError:
            self.problems.append(f"{name} must be a whole number, not {raw!r}")
            return default
        if not minimum <= value <= maximum:
            self.problems.append(f"{name} must be between {minimum} and {maximum}, not {value}")
        return value

    def boolean(self, name: str, default: bool) -> bool:
        raw = self.environ.get(name, "").strip().lower()
        if not raw:
            return default
        if raw in {"true", "1", "yes"}:
            return True
        if raw in {"false", "0", "no"}:
            return False
        self.problems.append(f"{name} must be true or false, not {raw!r}")
        return default

    def url(self, name: str, *, required: bool) -> str | None:
        raw = self.optional(name)
        if raw is None:
            if required:
                self.problems.append(f"{name} is required")
            return None
        parts = urlsplit(raw)
        if parts.scheme not in {"http", "https"} or not parts.netloc:
            self.problems.append(f"{name} must be an http(s) URL, not {raw!r}")
        return raw.rstrip("/")

    def parsed[T](self, name: str, parse: Callable[[str], T], default: str | None = None) -> T | None:
        raw = self.environ.get(name, default)
        if raw is None:
            self.problems.append(f"{name} is required")
            return None
        try:
            return parse(raw)
        except ValueError as error:
            self.problems.append(f"{name}: {error}")
            return None

    def done(self, section: str) -> None:
        if self.problems:
            raise ConfigurationError(f"{section} configuration is invalid: " + "; ".join(self.problems))


@dataclass(frozen=True, slots=True)
class StorageSettings:
    table_name: str

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> Self:
        read = _Reader(environ)
        settings = cls(table_name=read.text("TABLE_NAME", max_length=255))
        read.done("Storage")
        return settings


@dataclass(frozen=True, slots=True)
class WebhookSettings:
    """What the Twilio-facing webhooks need to verify a request."""

    twilio_secret_id: str
    # The URL Twilio signs is the public one. Behind a custom domain or a stage path it differs
    # from what API Gateway reports, so it can be set; unset, it is rebuilt from the request.
    public_base_url: str | None
    max_body_bytes: int
    # A forged request may ask us to re-read the secret (it might have been rotated) at most
    # this often, so forgeries cannot turn into a flood of Secrets Manager calls.
    secret_refresh_interval: timedelta

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> Self:
        read = _Reader(environ)
        settings = cls(
            twilio_secret_id=read.text("TWILIO_SECRET_ID"),
            public_base_url=read.url("PUBLIC_BASE_URL", required=False),
            max_body_bytes=read.integer("WEBHOOK_MAX_BODY_BYTES", 32_768, minimum=1_024, maximum=1_048_576),
            secret_refresh_interval=timedelta(
                seconds=read.integer("SECRET_REFRESH_INTERVAL_SECONDS", 60, minimum=1, maximum=3600)
            ),
        )
        read.done("Webhook")
        return settings


_MESSAGING_SERVICE_SID = re.compile(r"MG[0-9a-fA-F]{32}")


@dataclass(frozen=True, slots=True)
class MessagingSettings:
    """What the send gateway needs to hand a message to Twilio."""

    twilio_api_key_secret_id: str  # the restricted API key the senders use, never the auth token
    sender: str  # the business's Twilio number (E.164) or a Messaging Service SID (MG...)
    status_callback_url: str | None
    twilio_api_base_url: str | None  # only locally: the Twilio stand-in
    secret_max_age: timedelta

    @property
    def uses_messaging_service(self) -> bool:
        return self.sender.startswith("MG")

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> Self:
        read = _Reader(environ)
        sender = read.text("TWILIO_SENDER")
        if sender and not (is_e164(sender) or _MESSAGING_SERVICE_SID.fullmatch(sender)):
            read.problems.append("TWILIO_SENDER must be an E.164 number (+1...) or a Messaging Service SID (MG...)")
        base = read.url("PUBLIC_BASE_URL", required=False)
        settings = cls(
            twilio_api_key_secret_id=read.text("TWILIO_API_KEY_SECRET_ID"),
            sender=sender,
            status_callback_url=f"{base}/sms/status" if base else None,
            twilio_api_base_url=read.url("TWILIO_API_BASE_URL", required=False),
            # A rotated token is noticed at once (Twilio's 401 makes the sender read the secret
            # again), so the cache can be long: a read per function and hour, not per 5 minutes.
            secret_max_age=timedelta(seconds=read.integer("SECRET_MAX_AGE_SECONDS", 3600, minimum=0, maximum=86_400)),
        )
        read.done("Messaging")
        return settings


@dataclass(frozen=True, slots=True)
class EventSettings:
    event_bus_name: str
    source: str = "smsdesk"

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> Self:
        read = _Reader(environ)
        settings = cls(event_bus_name=read.text("EVENT_BUS_NAME", max_length=256))
        read.done("Event")
        return settings


@dataclass(frozen=True, slots=True)
class SchedulerSettings:
    """Where follow-ups are scheduled: EventBridge Scheduler one-time schedules."""

    group_name: str
    target_arn: str  # the follow-up function
    role_arn: str  # the role Scheduler assumes to invoke it
    dead_letter_arn: str | None

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> Self:
        read = _Reader(environ)
        settings = cls(
            group_name=read.text("SCHEDULE_GROUP_NAME", max_length=64),
            target_arn=read.text("FOLLOW_UP_FUNCTION_ARN"),
            role_arn=read.text("SCHEDULER_ROLE_ARN"),
            dead_letter_arn=read.optional("FOLLOW_UP_DLQ_ARN"),
        )
        read.done("Scheduler")
        return settings


def _keyword_replies(raw: str) -> dict[str, str]:
    """KEYWORD_REPLIES: a JSON object {"REFUND": "To request a refund ..."} overriding the defaults."""
    if not raw.strip():
        return {}
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as error:
        raise ValueError(f"not valid JSON ({error.msg})") from None
    if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        raise ValueError('must be a JSON object of keyword to reply text, e.g. {"REFUND": "..."}')
    replies = {}
    for keyword, text in value.items():
        canonical = keyword.strip().upper()
        if not re.fullmatch(r"[A-Z][A-Z0-9]{1,19}", canonical):
            raise ValueError(f"keyword {keyword!r} must be one word of letters and digits")
        replies[canonical] = text.strip()
    return replies


@dataclass(frozen=True, slots=True)
class InboundSettings:
    """What the inbound webhook needs besides WebhookSettings: which keywords are answered
    automatically, and whether Twilio answers its own exact keywords itself (STOP, START, HELP and
    their cousins: its default handling, TWILIO_ANSWERS_OPT_OUT_KEYWORDS). The webhook
    sends nothing, so it does not load BusinessSettings (hours, holidays, quiet hours and their
    time zones cost its cold start; the functions that send validate them)."""

    keyword_replies: Mapping[str, str] = field(default_factory=dict)
    twilio_answers_opt_out_keywords: bool = True
    # A text this long after resolution opens a new conversation instead of reopening the old one.
    reopen_window: timedelta = timedelta(days=7)

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> Self:
        read = _Reader(environ)
        replies = read.parsed("KEYWORD_REPLIES", _keyword_replies, "")
        settings = cls(
            keyword_replies=replies or {},
            twilio_answers_opt_out_keywords=read.boolean("TWILIO_ANSWERS_OPT_OUT_KEYWORDS", True),
            reopen_window=timedelta(days=read.integer("REOPEN_WINDOW_DAYS", 7, minimum=1, maximum=90)),
        )
        read.done("Inbound")
        return settings


@dataclass(frozen=True, slots=True)
class BusinessSettings:
    """The business behind the number: who it is, when it works, what it promises."""

    name: str
    support_contact: str
    hours: BusinessHours
    first_reply_target: timedelta
    quiet_hours: QuietHours
    proactive_cap: ProactiveCap
    keyword_replies: Mapping[str, str] = field(default_factory=dict)
    twilio_answers_opt_out_keywords: bool = True
    survey_delay: timedelta = timedelta(hours=24)

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> Self:
        from smsdesk.business_hours import BusinessHours
        from smsdesk.quiet_hours import ProactiveCap, QuietHours
        from smsdesk.sms_segments import non_gsm_characters

        read = _Reader(environ)
        # Both appear in customer-facing texts that must fit one or two segments.
        name = read.text("BUSINESS_NAME", max_length=30)
        contact = read.text("SUPPORT_CONTACT", max_length=40)
        for label, value in (("BUSINESS_NAME", name), ("SUPPORT_CONTACT", contact)):
            if odd := non_gsm_characters(value):
                read.problems.append(f"{label} has characters SMS cannot send in GSM-7: {odd!r}")
        zone = read.text("BUSINESS_TIME_ZONE", "America/New_York")
        hours = read.parsed(
            "BUSINESS_HOURS",
            lambda spec: BusinessHours.parse(spec, zone, environ.get("HOLIDAYS", "")),
            "Mon-Fri 09:00-17:00",
        )
        quiet = read.parsed("QUIET_HOURS", QuietHours.parse, "08:00-20:00")
        replies = read.parsed("KEYWORD_REPLIES", _keyword_replies, "")
        first_reply = read.integer("FIRST_REPLY_TARGET_MINUTES", 120, minimum=5, maximum=7 * 24 * 60)
        cap = read.integer("PROACTIVE_LIMIT_PER_DAY", 3, minimum=1, maximum=3)
        twilio_answers = read.boolean("TWILIO_ANSWERS_OPT_OUT_KEYWORDS", True)
        survey_delay = read.integer("SURVEY_DELAY_HOURS", 24, minimum=1, maximum=24 * 14)
        read.done("Business")
        assert hours is not None and quiet is not None  # done() raised otherwise
        return cls(
            name=name,
            support_contact=contact,
            hours=hours,
            first_reply_target=timedelta(minutes=first_reply),
            quiet_hours=quiet,
            proactive_cap=ProactiveCap(limit=cap),
            keyword_replies=replies or {},
            twilio_answers_opt_out_keywords=twilio_answers,
            survey_delay=timedelta(hours=survey_delay),
        )


@dataclass(frozen=True, slots=True)
class MediaSettings:
    """Where customers' photos are kept (the media copy function writes, the agent API links)."""

    bucket: str
    retention_days: int  # the bucket's lifecycle rule expires them after this (template.yaml)

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> Self:
        read = _Reader(environ)
        bucket = read.text("MEDIA_BUCKET", max_length=63)
        retention_days = read.integer("MEDIA_RETENTION_DAYS", 90, minimum=1, maximum=3650)
        read.done("Media")  # validated before it is built
        return cls(bucket=bucket, retention_days=retention_days)
