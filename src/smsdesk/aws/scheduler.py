"""EventBridge Scheduler, for follow-ups: one-time ``at()`` schedules that invoke the follow-up
function.

Names are deterministic (``survey-C-7F3K-1``), so creating the same follow-up twice is a
``ConflictException``, which means it is already scheduled: done. Schedules delete themselves
after running (``ActionAfterCompletion: DELETE``); Scheduler retries a failed invocation and then
sends the event to the follow-up dead-letter queue (which has an alarm). AWS rejects an ``at()``
in the past, so a time that has already passed is scheduled a minute from now.
"""

from __future__ import annotations

import contextlib
import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from smsdesk.config import SchedulerSettings

EARLIEST = timedelta(minutes=1)
_NAME = re.compile(r"[0-9A-Za-z_.\-]{1,64}")


def at_expression(when: datetime) -> str:
    return f"at({when.astimezone(UTC):%Y-%m-%dT%H:%M:%S})"


class Scheduler:
    def __init__(self, settings: SchedulerSettings, scheduler_client: Any = None) -> None:
        self._settings = settings
        self._client = scheduler_client

    def _scheduler(self) -> Any:
        if self._client is None:
            from smsdesk.aws.clients import client

            self._client = client("scheduler")
        return self._client

    def schedule_once(self, name: str, when: datetime, payload: dict[str, Any], now: datetime) -> datetime:
        """Schedule ``payload`` for the follow-up function at ``when``; return the time used."""
        if not _NAME.fullmatch(name):
            raise ValueError(f"invalid schedule name {name!r}")
        when = max(when, now + EARLIEST).replace(microsecond=0)
        target: dict[str, Any] = {
            "Arn": self._settings.target_arn,
            "RoleArn": self._settings.role_arn,
            "Input": json.dumps(payload, separators=(",", ":"), sort_keys=True),
            "RetryPolicy": {"MaximumRetryAttempts": 10, "MaximumEventAgeInSeconds": 6 * 3600},
        }
        if self._settings.dead_letter_arn:
            target["DeadLetterConfig"] = {"Arn": self._settings.dead_letter_arn}
        client = self._scheduler()
        # ConflictException: the same follow-up was already scheduled (a retry): nothing to do.
        with contextlib.suppress(client.exceptions.ConflictException):
            client.create_schedule(
                Name=name,
                GroupName=self._settings.group_name,
                ScheduleExpression=at_expression(when),
                ScheduleExpressionTimezone="UTC",
                FlexibleTimeWindow={"Mode": "OFF"},
                ActionAfterCompletion="DELETE",
                Target=target,
            )
        return when

    def cancel(self, name: str) -> bool:
        """Delete the schedule; False if there was none (it ran, or was never made or cancelled)."""
        client = self._scheduler()
        try:
            client.delete_schedule(Name=name, GroupName=self._settings.group_name)
        except client.exceptions.ResourceNotFoundException:
            return False
        return True
