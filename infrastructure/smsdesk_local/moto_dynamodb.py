"""moto's DynamoDB, made fit for the local stack's traffic.

moto keeps a transaction all-or-nothing by deep-copying every table it touches before it
starts, and putting the copy back if a condition fails. Each TransactWriteItems therefore
costs time in proportion to the whole table (its stream included): 0.2 s with a few hundred
complaints stored, minutes for a burst of thousands. Here the rollback is done item by item:
the items the transaction names are copied (a few, not the table), and on failure they, and
the table's stream, are put back as they were. The outcome is the same as moto's; the cost no
longer grows with the table.

moto's server is threaded and its DynamoDB is not: a conditional put is a read, then a write.
:class:`smsdesk_local.cloud.AwsFront` serialises DynamoDB requests so conditions hold under
concurrency, as they do in DynamoDB.
"""

from __future__ import annotations

import copy
from typing import Any

_installed = False


class _TablesAreNotCopied:
    """Stands in for the ``copy`` module inside ``moto.dynamodb.models``: tables pass through
    uncopied (this module does the rollback), anything else is deep-copied as before."""

    @staticmethod
    def deepcopy(value: Any, memo: dict[int, Any] | None = None) -> Any:
        from moto.dynamodb.models.table import Table

        if isinstance(value, Table):
            return value
        return copy.deepcopy(value, memo)


def install() -> None:
    """Patch moto's DynamoDB backend in this process (idempotent)."""
    global _installed
    if _installed:
        return
    import moto.dynamodb.models as models
    from moto.dynamodb.models import DynamoDBBackend

    original = DynamoDBBackend.transact_write_items

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        saved = _snapshot(self, transact_items)
        try:
            original(self, transact_items)
        except Exception:
            _restore(saved)
            raise

    models.copy = _TablesAreNotCopied  # type: ignore[assignment,attr-defined]
    DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]
    _installed = True


def _snapshot(backend: Any, transact_items: list[dict[str, Any]]) -> dict[str, Any]:
    items: list[Any] = []
    streams: dict[int, Any] = {}
    for entry in transact_items:
        for operation_type, operation in entry.items():
            table = backend.tables.get(operation.get("TableName"))
            if table is None:
                continue
            try:
                key = operation["Item"] if operation_type == "Put" else operation["Key"]
                hash_key, range_key = backend.get_keys_value(table, key)
            except Exception:
                continue
            items.append((table, hash_key, range_key, copy.deepcopy(table.get_item(hash_key, range_key))))
            if table.stream_shard is not None:
                streams.setdefault(id(table), (table.stream_shard, len(table.stream_shard.items)))
    return {"items": items, "streams": list(streams.values())}


def _restore(saved: dict[str, Any]) -> None:
    for table, hash_key, range_key, before in reversed(saved["items"]):
        if table.has_range_key:
            rows = table.items[hash_key]
            if before is None:
                rows.pop(range_key, None)
                if not rows:
                    table.items.pop(hash_key, None)
            else:
                rows[range_key] = before
        elif before is None:
            table.items.pop(hash_key, None)
        else:
            table.items[hash_key] = before
    for shard, length in saved["streams"]:
        del shard.items[length:]
