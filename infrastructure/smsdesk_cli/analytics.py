"""``smsdesk analytics rebuild``: every analytics counter written again from the records.

The one analytics command that does not go through the agent API: it reads the whole table,
which no API request should, with the operator's own AWS credentials (or the local stack's).
"""

from __future__ import annotations

import os
from typing import TextIO

from smsdesk_cli.http import Stack


def rebuild(stack: Stack, *, stack_name: str | None, region: str | None, out: TextIO, err: TextIO) -> int:
    from smsdesk.analytics import Counting
    from smsdesk.analytics_store import AnalyticsRebuild
    from smsdesk.business_hours import BusinessHours, BusinessHoursError
    from smsdesk.repository import ConversationRepository
    from smsdesk.table import TableItem, bind_table

    if stack_name:
        from smsdesk_cli.connect import ConnectError, stack_settings

        try:
            settings = stack_settings(stack_name, region)
        except ConnectError as error:
            print(f"smsdesk: {error}", file=err)
            return 1
        table, hours_spec = settings["ConversationTableName"], settings.get("BusinessHours", "")
        zone, holidays = settings.get("BusinessTimeZone", ""), settings.get("Holidays", "")
    else:
        info = stack.local_info()  # the local stack, unless --stack names a deployed one
        table, region = info["table"], info["region"]
        business = info["business"]
        hours_spec, zone, holidays = (
            business["BusinessHours"],
            business["BusinessTimeZone"],
            business.get("Holidays", ""),
        )
        TableItem.Meta.host = info["aws_endpoint"]  # type: ignore[attr-defined]  # pynamodb reads Meta.host if set
        for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
            os.environ.setdefault(name, "local")  # the local stand-in accepts any
    try:
        hours = BusinessHours.parse(hours_spec, zone, holidays)
    except BusinessHoursError as error:
        print(f"smsdesk: the stack's business hours: {error}", file=err)
        return 1
    bind_table(table, region or os.environ.get("AWS_REGION"))
    written = AnalyticsRebuild(ConversationRepository(), Counting(hours)).rebuild()
    print(f"analytics rebuilt from the records: {written} counter items written to {table}", file=out)
    return 0
