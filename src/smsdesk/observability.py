"""Logging and metrics for every function, with privacy built in.

Handlers log through :func:`build_logger` and count through :func:`build_metrics`. The log
formatter is the last line of defence for the privacy rules: whatever a log call was given, the
JSON line that leaves the process has every phone number masked and every card number redacted.
Code still masks numbers explicitly (``phone_numbers.mask``); the formatter catches what slips
through.

Both write what Powertools' Logger and Metrics write (the same JSON keys in the same order, the
same CloudWatch EMF document), configured by ``SERVICE_NAME``, ``LOG_LEVEL`` and
``METRICS_NAMESPACE`` (template.yaml), with the few features smsdesk uses and none of Powertools'
import cost: importing any part of Powertools imports its Logger, Metrics and Tracer, jmespath and
typing_extensions: about 70 ms of every cold start (docs/decisions.md, section 6).
"""

from __future__ import annotations

import functools
import json
import logging
import os
import sys
import time
from collections.abc import Callable
from typing import Any

from smsdesk.errors import ConfigurationError
from smsdesk.phone_numbers import mask_in_text
from smsdesk.redaction import redact_card_numbers

Handler = Callable[[Any, Any], Any]

# What every LogRecord has; anything else on a record came from ``extra=``.
_RECORD_ATTRIBUTES = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


def _service() -> str:
    return os.environ.get("SERVICE_NAME") or "service_undefined"


class PrivacyFormatter(logging.Formatter):
    """One JSON object per line: level, location, message, timestamp, service, the appended keys
    (the Lambda context's first), then the call's ``extra``; keys whose value is None left out."""

    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service
        self.keys: dict[str, Any] = {}

    def format(self, record: logging.LogRecord) -> str:
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(record.created))
        log = {
            "level": record.levelname,
            "location": f"{record.funcName}:{record.lineno}",
            "message": record.getMessage(),
            "timestamp": f"{when},{int(record.msecs):03d}+0000",  # Powertools' format, in UTC
            "service": self.service,
            **self.keys,
            **{key: value for key, value in vars(record).items() if key not in _RECORD_ATTRIBUTES},
        }
        if record.exc_info and record.exc_info[0] is not None:
            log["exception"] = self.formatException(record.exc_info)
            log["exception_name"] = record.exc_info[0].__name__
        if trace := os.environ.get("_X_AMZN_TRACE_ID"):  # set by Lambda for each invocation
            log["xray_trace_id"] = trace.split(";")[0].removeprefix("Root=")
        line = json.dumps(
            {key: value for key, value in log.items() if value is not None},
            default=str,
            separators=(",", ":"),
            ensure_ascii=False,
        )
        return mask_in_text(redact_card_numbers(line))


class _Stdout(logging.Handler):
    """Writes each line to ``sys.stdout`` as it is then (in Lambda, CloudWatch Logs), as the
    metrics do."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            sys.stdout.write(self.format(record) + "\n")
            sys.stdout.flush()
        except Exception:  # noqa: BLE001 — logging never fails the caller (stdlib's rule)
            self.handleError(record)


class Logger:
    """Structured JSON logs, one logger per service."""

    def __init__(self, service: str | None = None) -> None:
        self.service = service or _service()
        self._logger = logging.getLogger(f"smsdesk.{self.service}")
        # Once per process and service: a function loaded again (the tests do) shares it.
        handler = next((h for h in self._logger.handlers if isinstance(h, _Stdout)), None)
        if handler is None:
            handler = _Stdout()
            handler.setFormatter(PrivacyFormatter(self.service))
            self._logger.addHandler(handler)
            # Not to the root logger too: in Lambda, its handler (the runtime's) would write a
            # second, plain-text line with the message unmasked.
            self._logger.propagate = False
        self._formatter: PrivacyFormatter = handler.formatter  # type: ignore[assignment]
        self._logger.setLevel((os.environ.get("LOG_LEVEL") or "INFO").upper())
        self._cold_start = True

    # stacklevel=2: "location" is the caller's function and line, not this module's.
    def debug(self, msg: str, *args: Any, **kwargs: Any) -> None:  # noqa: ANN401
        self._logger.debug(msg, *args, stacklevel=2, **kwargs)

    def info(self, msg: str, *args: Any, **kwargs: Any) -> None:  # noqa: ANN401
        self._logger.info(msg, *args, stacklevel=2, **kwargs)

    def warning(self, msg: str, *args: Any, **kwargs: Any) -> None:  # noqa: ANN401
        self._logger.warning(msg, *args, stacklevel=2, **kwargs)

    def error(self, msg: str, *args: Any, **kwargs: Any) -> None:  # noqa: ANN401
        self._logger.error(msg, *args, stacklevel=2, **kwargs)

    def exception(self, msg: str, *args: Any, **kwargs: Any) -> None:  # noqa: ANN401
        self._logger.exception(msg, *args, stacklevel=2, **kwargs)

    def append_keys(self, **keys: Any) -> None:  # noqa: ANN401
        """Keys for every following line (until the next invocation, with ``clear_state``)."""
        self._formatter.keys.update(keys)

    def inject_lambda_context(self, *, clear_state: bool = False) -> Callable[[Handler], Handler]:
        """Decorate a handler: its lines carry cold_start and the invocation's Lambda context;
        ``clear_state`` drops the keys the previous invocation appended."""

        def decorate(handler: Handler) -> Handler:
            @functools.wraps(handler)
            def invoke(event: Any, context: Any) -> Any:  # noqa: ANN401
                if clear_state:
                    self._formatter.keys.clear()
                self.append_keys(
                    cold_start=self._cold_start,
                    function_name=context.function_name,
                    function_memory_size=context.memory_limit_in_mb,
                    function_arn=context.invoked_function_arn,
                    function_request_id=context.aws_request_id,
                )
                self._cold_start = False
                return handler(event, context)

            return invoke

        return decorate


# CloudWatch's metric units.
UNITS = frozenset(
    {
        "Seconds", "Microseconds", "Milliseconds", "Bytes", "Kilobytes", "Megabytes", "Gigabytes", "Terabytes",
        "Bits", "Kilobits", "Megabits", "Gigabits", "Terabits", "Percent", "Count", "Bytes/Second",
        "Kilobytes/Second", "Megabytes/Second", "Gigabytes/Second", "Terabytes/Second", "Bits/Second",
        "Kilobits/Second", "Megabits/Second", "Gigabits/Second", "Terabits/Second", "Count/Second", "None",
    }
)


class Metrics:
    """CloudWatch metrics in the Embedded Metric Format: one JSON document on stdout after each
    invocation (CloudWatch turns it into metrics; no AWS call), with the service as dimension."""

    def __init__(self) -> None:
        self.namespace = os.environ.get("METRICS_NAMESPACE") or ""
        if not self.namespace:
            raise ConfigurationError("METRICS_NAMESPACE is not set")
        self.service = _service()
        self._values: dict[str, tuple[str, list[float]]] = {}

    def add_metric(self, *, name: str, unit: str, value: float) -> None:
        unit = getattr(unit, "value", unit)  # an enum member is fine too
        if unit not in UNITS:
            raise ValueError(f"{unit!r} is not a CloudWatch unit")
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"metric {name}: {value!r} is not a number")
        self._values.setdefault(name, (unit, []))[1].append(float(value))

    def flush(self) -> None:
        """Write what was added since the last flush, if anything."""
        if not self._values:
            return
        values, self._values = self._values, {}
        document = {
            "_aws": {
                "Timestamp": int(time.time() * 1000),
                "CloudWatchMetrics": [
                    {
                        "Namespace": self.namespace,
                        "Dimensions": [["service"]],
                        "Metrics": [{"Name": name, "Unit": unit} for name, (unit, _) in values.items()],
                    }
                ],
            },
            "service": self.service,
            **{name: numbers for name, (_, numbers) in values.items()},
        }
        sys.stdout.write(json.dumps(document, separators=(",", ":")) + "\n")
        sys.stdout.flush()

    def log_metrics(self, handler: Handler) -> Handler:
        """Decorate a handler: what it added is written when it returns or raises."""

        @functools.wraps(handler)
        def invoke(event: Any, context: Any) -> Any:  # noqa: ANN401
            try:
                return handler(event, context)
            finally:
                self.flush()

        return invoke


def build_logger(service: str | None = None) -> Logger:
    """The function's logger (service from SERVICE_NAME); it cannot leak numbers."""
    return Logger(service)


def build_metrics() -> Metrics:
    """The function's metrics (namespace from METRICS_NAMESPACE)."""
    return Metrics()
