"""Logging and metrics for every function, with privacy built in.

Handlers log through :func:`build_logger`. Its formatter is the last line of defence for the
privacy rules: whatever a log call was given, the JSON line that leaves the process has every
phone number masked and every card number redacted. Code still masks numbers explicitly
(``phone_numbers.mask``); the formatter catches what slips through.
"""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter

from smsdesk.phone_numbers import mask_in_text
from smsdesk.redaction import redact_card_numbers


class PrivacyFormatter(LambdaPowertoolsFormatter):
    def serialize(self, log: dict) -> str:  # type: ignore[override]
        return mask_in_text(redact_card_numbers(super().serialize(log)))


def build_logger(service: str | None = None) -> Logger:
    """A Powertools Logger (service from POWERTOOLS_SERVICE_NAME) that cannot leak numbers."""
    return Logger(service=service, logger_formatter=PrivacyFormatter(utc=True))


def build_metrics() -> Metrics:
    """Powertools Metrics (EMF on stdout: no AWS call). Namespace from POWERTOOLS_METRICS_NAMESPACE."""
    return Metrics()
