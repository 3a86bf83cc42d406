"""Every read and write of the conversation table goes through here.

Reads are named for what the domain asks ("the customer, strongly consistent", "a conversation
with its messages"). Writes are gathered in a :class:`UnitOfWork`: the operations of one domain
change (with the outbox events that announce it) commit atomically, in one TransactWriteItems,
or as a single conditional write when there is only one. When a condition fails, the caller
learns *which* labelled operation lost (a duplicate delivery, a reference already taken, a
consent change in between) as a :class:`WriteConflict`, and decides what that means; a
transaction that met another on the same items is a :class:`ConcurrentWrite` (nothing written).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from pynamodb.connection import Connection
from pynamodb.exceptions import DeleteError, PutError, TransactWriteError, UpdateError
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action
from pynamodb.transactions import TransactWrite

from smsdesk.errors import ConcurrentWrite
from smsdesk.events import DomainEvent
from smsdesk.table import (
    CONSENT_PREFIX,
    CONVERSATION_SK,
    MESSAGE_PREFIX,
    PROFILE,
    ConsentRecord,
    Conversation,
    Customer,
    Item,
    Message,
    OutboxEvent,
    TableItem,
    analytics_key,
    analytics_ledger_key,
    conversation_pk,
    customer_pk,
    event_key,
    message_sk,
    queue_pk,
    table_connection,
)

OUTBOX_RETENTION = timedelta(days=1)


class WriteConflict(Exception):
    """A condition of a unit of work failed; ``labels`` name the operations that failed."""

    def __init__(self, labels: set[str]) -> None:
        super().__init__(f"conditional write failed: {', '.join(sorted(labels)) or 'unknown'}")
        self.labels = labels

    def on(self, item: Item) -> bool:
        """Whether the operation labelled ``item`` is one that failed."""
        return item in self.labels


@dataclass(slots=True)
class _Operation:
    label: str
    kind: str  # condition_check | delete | put | update
    model: Any
    condition: Condition | None = None
    actions: list[Action] | None = None


@dataclass(slots=True)
class UnitOfWork:
    """The writes of one domain change, committed together."""

    operations: list[_Operation] = field(default_factory=list)

    def put(self, label: str, item: TableItem, condition: Condition | None = None) -> UnitOfWork:
        self.operations.append(_Operation(label, "put", item, condition))
        return self

    def put_new(self, label: str, item: TableItem) -> UnitOfWork:
        """Put an item that must not exist yet (the idempotency of most writes)."""
        return self.put(label, item, TableItem.pk.does_not_exist())

    def update(
        self, label: str, item: TableItem, actions: Sequence[Action], condition: Condition | None = None
    ) -> UnitOfWork:
        """Update an item. A transaction touches an item once, so updates with the same label
        merge: their actions are combined and their conditions must all hold."""
        for op in self.operations:
            if op.label == label and op.kind == "update":
                op.actions = [*(op.actions or []), *actions]
                if condition is not None:
                    op.condition = condition if op.condition is None else op.condition & condition
                return self
        self.operations.append(_Operation(label, "update", item, condition, list(actions)))
        return self

    def pending_put(self, label: str) -> TableItem | None:
        """The item a put labelled ``label`` will write, if this unit has one (to amend it)."""
        return next((op.model for op in self.operations if op.label == label and op.kind == "put"), None)

    def check(self, label: str, item: TableItem, condition: Condition) -> UnitOfWork:
        self.operations.append(_Operation(label, "condition_check", item, condition))
        return self

    def delete(self, label: str, item: TableItem, condition: Condition | None = None) -> UnitOfWork:
        self.operations.append(_Operation(label, "delete", item, condition))
        return self

    def publish(self, event: DomainEvent) -> UnitOfWork:
        return self.put_new(
            f"event:{event.type}",
            OutboxEvent(
                *event_key(event.event_id),
                detail_type=str(event.type),
                detail=event.detail_json(),
                created_at=event.occurred_at,
                expires_at=event.occurred_at + OUTBOX_RETENTION,
            ),
        )

    @property
    def events(self) -> list[str]:
        return [op.label.removeprefix("event:") for op in self.operations if op.label.startswith("event:")]


# pynamodb sends a transaction's items grouped in this order; cancellation reasons follow it.
_TRANSACTION_ORDER = ("condition_check", "delete", "put", "update")


class ConversationRepository:
    """The table, in the domain's words."""

    # ------------------------------------------------------------------ reads

    def customer(self, number: str, *, consistent: bool = True) -> Customer | None:
        try:
            return Customer.get(customer_pk(number), PROFILE, consistent_read=consistent)
        except Customer.DoesNotExist:
            return None

    def conversation(self, reference: str, *, consistent: bool = False) -> Conversation | None:
        try:
            return Conversation.get(conversation_pk(reference), CONVERSATION_SK, consistent_read=consistent)
        except Conversation.DoesNotExist:
            return None

    def conversation_with_messages(self, reference: str) -> tuple[Conversation | None, list[Message]]:
        """One Query: the conversation and its messages, oldest first."""
        conversation, messages = None, []
        for item in TableItem.query(conversation_pk(reference), consistent_read=True):
            if isinstance(item, Conversation):
                conversation = item
            elif isinstance(item, Message):
                messages.append(item)
        messages.sort(key=lambda m: (m.created_at, m.key))
        return conversation, messages

    def conversations(self, references: Iterable[str]) -> list[Conversation]:
        """Several conversations in one round trip (BatchGetItem), in no particular order."""
        keys = [(conversation_pk(reference), CONVERSATION_SK) for reference in dict.fromkeys(references)]
        return list(Conversation.batch_get(keys)) if keys else []

    def message(self, pk: str, key: str, *, consistent: bool = True) -> Message | None:
        try:
            return Message.get(pk, message_sk(key), consistent_read=consistent)
        except Message.DoesNotExist:
            return None

    def message_and_customer(self, thread: str, key: str, number: str) -> tuple[Message | None, Customer | None]:
        """A message (if it exists) and the customer, strongly consistent, in one round trip."""
        message = customer = None
        for item in TableItem.batch_get(
            [(thread, message_sk(key)), (customer_pk(number), PROFILE)], consistent_read=True
        ):
            if isinstance(item, Message):
                message = item
            elif isinstance(item, Customer):
                customer = item
        return message, customer

    def customer_messages(self, number: str) -> list[Message]:
        """Messages kept on the customer rather than a conversation (consent keywords, HELP)."""
        items = Message.query(customer_pk(number), Message.sk.startswith(MESSAGE_PREFIX), consistent_read=True)
        return sorted(items, key=lambda m: (m.created_at, m.key))

    def consent_history(self, number: str) -> list[ConsentRecord]:
        return list(
            ConsentRecord.query(customer_pk(number), ConsentRecord.sk.startswith(CONSENT_PREFIX), consistent_read=True)
        )

    def conversations_in_queue(
        self,
        queue: str,
        *,
        status: str | None = None,
        limit: int = 25,
        cursor: str | None = None,
        newest_first: bool = False,
    ) -> tuple[list[Conversation], str | None]:
        """A page of an agent's queue: urgent first, then oldest first (optionally one status);
        ``newest_first`` reads it backwards (the latest resolved, not the first ever)."""
        last_key = _decode_cursor(cursor) if cursor else None
        results = Conversation.by_queue.query(
            queue_pk(queue),
            scan_index_forward=not newest_first,
            filter_condition=(Conversation.status == status) if status else None,
            limit=limit,
            last_evaluated_key=last_key,
            page_size=limit,
        )
        page = list(results)
        return page, _encode_cursor(results.last_evaluated_key)

    # ------------------------------------------------------------------ writes

    def commit(self, work: UnitOfWork) -> None:
        """Apply a unit of work atomically; raise :class:`WriteConflict` naming what failed."""
        operations = work.operations
        if not operations:
            return
        if len(operations) == 1 and operations[0].kind != "condition_check":
            self._commit_single(operations[0])
            return
        transaction = TransactWrite(connection=self._table_connection())
        for op in operations:
            if op.kind == "put":
                transaction.save(op.model, condition=op.condition)
            elif op.kind == "update":
                transaction.update(op.model, actions=op.actions or [], condition=op.condition)
            elif op.kind == "delete":
                transaction.delete(op.model, condition=op.condition)
            else:
                model = op.model
                transaction.condition_check(type(model), model.pk, model.sk, condition=op.condition)
        try:
            transaction._commit()
        except TransactWriteError as error:
            reasons = error.cancellation_reasons
            if not reasons:
                raise
            ordered = sorted(operations, key=lambda op: _TRANSACTION_ORDER.index(op.kind))
            failed = {
                op.label
                for op, reason in zip(ordered, reasons, strict=False)
                if reason is not None and reason.code == "ConditionalCheckFailed"
            }
            if failed:
                raise WriteConflict(failed) from None
            if any(reason is not None and reason.code == "TransactionConflict" for reason in reasons):
                raise ConcurrentWrite(f"{len(operations)} writes met another transaction on the same items") from None
            raise  # throttling: the caller's retry policy (a 5xx that Twilio retries, Lambda's retries)

    def _commit_single(self, op: _Operation) -> None:
        try:
            if op.kind == "put":
                op.model.save(condition=op.condition)
            elif op.kind == "update":
                op.model.update(actions=op.actions or [], condition=op.condition)
            else:
                op.model.delete(condition=op.condition)
        except (PutError, UpdateError, DeleteError) as error:
            if error.cause_response_code == "ConditionalCheckFailedException":
                raise WriteConflict({op.label}) from None
            raise

    def _table_connection(self) -> Connection:
        return table_connection()

    def iterate_table(self) -> Iterator[TableItem]:
        """Every item (tests, the local stack's inspection and ``smsdesk analytics rebuild``;
        never on a request path)."""
        return TableItem.scan()

    # ------------------------------------------------------------------ analytics counters
    # Counters with names made from data (category:billing, frt:45): written and read with the
    # low-level client, as plain numbers, since a model cannot declare them.

    def analytics_applied_until(self, first_record: str) -> int | None:
        """The last stream sequence number applied of a batch that began with ``first_record``."""
        pk, sk = analytics_ledger_key(first_record)
        item = (
            self._table_connection()
            .dispatch(
                "GetItem",
                {
                    "TableName": TableItem.Meta.table_name,
                    "Key": {"pk": {"S": pk}, "sk": {"S": sk}},
                    "ConsistentRead": True,
                },
            )
            .get("Item")
        )
        return int(item["last_sequence"]["N"]) if item else None

    def add_to_analytics(
        self,
        items: Mapping[tuple[str, str], Mapping[str, int]],
        *,
        first_record: str,
        last_sequence: int,
        now: datetime,
    ) -> None:
        """Add ``items`` ((group, day) -> counter -> delta) and record in the batch's ledger that
        they were added, in one transaction (at most 99 items). A ledger already there means the
        batch was applied before: :class:`WriteConflict` ``ledger``, and nothing is added."""
        table = TableItem.Meta.table_name
        updates = [
            _add_counters(table, analytics_key(group, day), counters) for (group, day), counters in items.items()
        ]
        pk, sk = analytics_ledger_key(first_record)
        ledger = {
            "TableName": table,
            "Item": {
                "pk": {"S": pk},
                "sk": {"S": sk},
                "kind": {"S": "analytics_ledger"},
                "last_sequence": {"N": str(last_sequence)},
                "expires_at": {"N": str(int((now + ANALYTICS_LEDGER_RETENTION).timestamp()))},
            },
            "ConditionExpression": "attribute_not_exists(pk)",
        }
        try:
            self._table_connection().transact_write_items([], [], [ledger], updates)
        except TransactWriteError as error:
            reasons = [r.code if r is not None else None for r in (error.cancellation_reasons or [])]
            if reasons and reasons[0] == "ConditionalCheckFailed":  # the ledger is the first Put
                raise WriteConflict({Item.LEDGER}) from None
            raise

    def replace_analytics(self, items: Mapping[tuple[str, str], Mapping[str, int]]) -> None:
        """Write counters whole (``smsdesk analytics rebuild``), replacing what was there."""
        table, connection = TableItem.Meta.table_name, self._table_connection()
        for (group, day), counters in items.items():
            pk, sk = analytics_key(group, day)
            item = {"pk": {"S": pk}, "sk": {"S": sk}, "kind": {"S": "analytics"}}
            item |= {name: {"N": str(int(n))} for name, n in counters.items() if n}
            connection.dispatch("PutItem", {"TableName": table, "Item": item})

    def clear_analytics(self, groups: Iterable[str]) -> None:
        """Delete every counter of ``groups`` (before a rebuild writes them again)."""
        table, connection = TableItem.Meta.table_name, self._table_connection()
        for group in groups:
            pk, _ = analytics_key(group, "")
            request: dict[str, Any] = {
                "TableName": table,
                "KeyConditionExpression": "pk = :pk",
                "ExpressionAttributeValues": {":pk": {"S": pk}},
                "ProjectionExpression": "pk, sk",
            }
            while True:
                page = connection.dispatch("Query", request)
                for key in page.get("Items", []):
                    connection.dispatch("DeleteItem", {"TableName": table, "Key": key})
                if not page.get("LastEvaluatedKey"):
                    break
                request["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def analytics_days(self, groups: Iterable[str], first: str, last: str) -> dict[str, dict[str, dict[str, int]]]:
        """The counters of ``groups`` from day ``first`` to ``last`` (ISO dates): one Query each."""
        table, connection = TableItem.Meta.table_name, self._table_connection()
        found: dict[str, dict[str, dict[str, int]]] = {}
        for group in groups:
            pk, first_sk = analytics_key(group, first)
            _, last_sk = analytics_key(group, last)
            request: dict[str, Any] = {
                "TableName": table,
                "KeyConditionExpression": "pk = :pk AND sk BETWEEN :first AND :last",
                "ExpressionAttributeValues": {":pk": {"S": pk}, ":first": {"S": first_sk}, ":last": {"S": last_sk}},
            }
            days = found.setdefault(group, {})
            while True:
                page = connection.dispatch("Query", request)
                for item in page.get("Items", []):
                    days[item["sk"]["S"].removeprefix("DAY#")] = {
                        name: int(value["N"]) for name, value in item.items() if "N" in value
                    }
                if not page.get("LastEvaluatedKey"):
                    break
                request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        return found


ANALYTICS_LEDGER_RETENTION = timedelta(days=2)  # a stream keeps records 24 h: no retry comes later


def _add_counters(table: str, key: tuple[str, str], counters: Mapping[str, int]) -> dict[str, Any]:
    names = {"#kind": "kind"}
    values: dict[str, Any] = {":kind": {"S": "analytics"}}
    adds = []
    for n, (name, delta) in enumerate(sorted(counters.items())):
        names[f"#c{n}"] = name
        values[f":c{n}"] = {"N": str(int(delta))}
        adds.append(f"#c{n} :c{n}")
    return {
        "TableName": table,
        "Key": {"pk": {"S": key[0]}, "sk": {"S": key[1]}},
        "UpdateExpression": f"SET #kind = :kind ADD {', '.join(adds)}",
        "ExpressionAttributeNames": names,
        "ExpressionAttributeValues": values,
    }


def _encode_cursor(key: dict[str, Any] | None) -> str | None:
    if not key:
        return None
    return base64.urlsafe_b64encode(json.dumps(key, separators=(",", ":")).encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> dict[str, Any]:
    """A cursor from a previous page; anything else is a ValueError (a 400 for the caller)."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        key = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise ValueError("invalid cursor") from None
    if not isinstance(key, dict) or not {"pk", "sk", "gsi1pk", "gsi1sk"} >= set(key) or not key:
        raise ValueError("invalid cursor")
    return key
