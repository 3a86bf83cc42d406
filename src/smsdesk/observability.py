"""Powertools Logger and Metrics for every function, with privacy built in.

Handlers log through :func:`build_logger` (Powertools' Logger: ``inject_lambda_context``,
``append_keys``, ``logger.info(msg, key=value)``, the X-Ray trace id on every line) and count
through :func:`build_metrics` (Powertools' Metrics, CloudWatch EMF). Configured by
``POWERTOOLS_SERVICE_NAME``, ``POWERTOOLS_LOG_LEVEL`` and ``POWERTOOLS_METRICS_NAMESPACE``
(template.yaml). The formatter is the last line of defence for the privacy rules: whatever a log
call was given, the line that leaves the process has every phone number masked and every card
number redacted. Code still masks numbers explicitly (``phone_numbers.mask``).
"""

from __future__ import annotations

import logging
import os
import sys
import warnings
from typing import IO, cast

from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter
from aws_lambda_powertools.metrics import EphemeralMetrics

from smsdesk.errors import ConfigurationError
from smsdesk.phone_numbers import mask_in_text
from smsdesk.redaction import redact_card_numbers


class PrivacyFormatter(LambdaPowertoolsFormatter):
    """Powertools' JSON line, then every phone number masked and every card number redacted."""

    def format(self, record: logging.LogRecord) -> str:
        return mask_in_text(redact_card_numbers(super().format(record)))


class _CurrentStdout:
    """``sys.stdout`` as it is at each write (as Powertools' Metrics print): Lambda's never
    changes, but the tests capture it anew for each test."""

    def write(self, text: str) -> int:
        return sys.stdout.write(text)

    def flush(self) -> None:
        sys.stdout.flush()


def build_logger(service: str | None = None) -> Logger:
    """The function's logger (service from POWERTOOLS_SERVICE_NAME); it cannot leak numbers."""
    logger = Logger(
        service=service, logger_formatter=PrivacyFormatter(utc=True), stream=cast(IO[str], _CurrentStdout())
    )
    # Not to the root logger too: in Lambda its handler is the runtime's, which would write a
    # second, plain-text line with the message unmasked. (Powertools only filters the root
    # handlers that exist when the Logger is created.)
    logging.getLogger(logger.service).propagate = False
    return logger


def build_metrics() -> EphemeralMetrics:
    """The function's metrics (namespace from POWERTOOLS_METRICS_NAMESPACE, the service as
    dimension). A missing namespace fails the cold start, not the first flush.

    ``EphemeralMetrics``, Powertools' Metrics without the metric set that every ``Metrics``
    instance of a process shares: in Lambda a process is one function, but the local stack runs
    every function (and several environments of one) in one process, at the same time."""
    if not os.environ.get("POWERTOOLS_METRICS_NAMESPACE"):
        raise ConfigurationError("POWERTOOLS_METRICS_NAMESPACE is not set")
    # Most invocations count nothing (an agent reading the queue); Powertools documents this
    # filter for functions that do not publish a metric every time.
    warnings.filterwarnings("ignore", "No application metrics to publish*")
    return EphemeralMetrics()
