"""template.yaml, read for tests with the local stack's loader: the table is created from its own
KeySchema and indexes."""

from __future__ import annotations

from typing import Any

from smsdesk_local.template import conversation_table_definition
from smsdesk_local.template import load_template as template


def table_definition() -> dict[str, Any]:
    """CreateTable arguments for the conversation table, from the template."""
    return conversation_table_definition(template())
