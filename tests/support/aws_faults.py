"""Making moto answer as AWS does when it is having a bad day.

A botocore ``before-send`` hook, registered ahead of moto's own, answers chosen operations with
an error (``ProvisionedThroughputExceededException``, ``ThrottlingException``, a transaction
cancelled for ``ThrottlingError``) or a partial failure, exactly as the service would put it on
the wire, and the call has no effect (moto never sees it); every other request goes on to moto.
botocore's own retries apply as with the real service. The hook also counts the calls each
operation gets, and records the back-off botocore would have slept (no test sleeps).

Clients created after :meth:`AwsFaults.install` get the hook through botocore's built-in
handlers (pynamodb creates its clients when a function's cold start binds the table); clients
created earlier and cached (``smsdesk.aws.clients``) get it with :meth:`AwsFaults.watch`.
"""

from __future__ import annotations

import json
import threading
import weakref
from collections import Counter, deque
from types import SimpleNamespace
from typing import Any

import botocore.endpoint
import botocore.handlers
from botocore.awsrequest import AWSResponse
from moto.core.botocore_stubber import BotocoreStubber, MockRawResponse

DYNAMODB_ERROR = "com.amazonaws.dynamodb.v20120810#"
PROVISIONED_THROUGHPUT_EXCEEDED = (
    DYNAMODB_ERROR + "ProvisionedThroughputExceededException",
    "The level of configured provisioned throughput for the table was exceeded.",
)
THROTTLING = ("com.amazon.coral.availability#ThrottlingException", "Rate of requests exceeds the allowed throughput.")
# What DynamoDB says of a cancelled transaction's item, by reason code.
CANCELLATION_MESSAGES = {
    "ThrottlingError": "Throughput exceeds the current capacity.",
    "TransactionConflict": "Transaction is ongoing for the item",
    "ConditionalCheckFailed": "The conditional request failed",
}


class AwsFaults:
    def __init__(self) -> None:
        self._planned: dict[str, deque[tuple[int, str]]] = {}
        self.calls: Counter[str] = Counter()
        self.backoff: list[float] = []  # what botocore's retries would have slept, in seconds
        self._watched: list[Any] = []
        self._seen: weakref.WeakSet[Any] = weakref.WeakSet()  # a client hooked twice sees a request twice

    # -------------------------------------------------------------------------- planning

    def answer(self, operation: str, status: int, body: dict[str, Any], *, times: int = 1) -> None:
        """The next ``times`` calls of ``operation`` ("dynamodb.TransactWriteItems") get this answer."""
        queue = self._planned.setdefault(operation, deque())
        for _ in range(times):
            queue.append((status, json.dumps(body)))

    def fail(self, operation: str, error: tuple[str, str], *, times: int = 1) -> None:
        error_type, message = error
        self.answer(operation, 400, {"__type": error_type, "message": message}, times=times)

    def cancel_transaction(self, reasons: list[str], *, times: int = 1) -> None:
        """TransactWriteItems cancelled with these reason codes ("None", "ThrottlingError", "TransactionConflict")."""
        body = {
            "__type": DYNAMODB_ERROR + "TransactionCanceledException",
            "Message": "Transaction cancelled, please refer cancellation reasons for specific reasons "
            f"[{', '.join(reasons)}]",
            "CancellationReasons": [
                {"Code": code} if code == "None" else {"Code": code, "Message": CANCELLATION_MESSAGES[code]}
                for code in reasons
            ],
        }
        self.answer("dynamodb.TransactWriteItems", 400, body, times=times)

    def pending(self, operation: str) -> int:
        return len(self._planned.get(operation, ()))

    # -------------------------------------------------------------------------- the hook

    def __call__(self, request: Any, event_name: str, **kwargs: Any) -> AWSResponse | None:
        if request in self._seen:
            return None
        self._seen.add(request)
        _, service, operation = event_name.split(".", 2)
        key = f"{service}.{operation}"
        self.calls[key] += 1
        queue = self._planned.get(key)
        if not queue:
            return None  # on to moto
        status, body = queue.popleft()
        # botocore calls every before-send handler (then uses the first answer), so moto's would
        # still carry the call out: divert the request to a host moto does not serve.
        request.url = "https://fault-injected.invalid/"
        headers = {"content-type": "application/x-amz-json-1.0", "x-amzn-requestid": "fault-injected"}
        return AWSResponse(request.url, status, headers, MockRawResponse(body))

    def install(self, monkeypatch: Any) -> AwsFaults:
        spec = ("before-send", self, botocore.handlers.REGISTER_FIRST)
        monkeypatch.setattr(botocore.handlers, "BUILTIN_HANDLERS", [spec, *botocore.handlers.BUILTIN_HANDLERS])
        # botocore's retry back-off is recorded, not slept.
        monkeypatch.setattr(botocore.endpoint, "time", SimpleNamespace(sleep=self.backoff.append))
        return self

    def watch(self, client: Any) -> None:
        """Also hook a client that already exists (the cached ``smsdesk.aws.clients`` ones)."""
        client.meta.events.register_first("before-send", self)
        self._watched.append(client)

    def uninstall(self) -> None:
        for client in self._watched:
            client.meta.events.unregister("before-send", self)
        self._watched.clear()
        self._planned.clear()


def linearizable_moto(monkeypatch: Any) -> None:
    """Make moto handle one request at a time, for tests that race threads against each other.

    DynamoDB applies each request atomically (a conditional write cannot interleave with another
    write of the item); moto does not: a condition is a read, then a write, and a failed
    transaction restores a snapshot of the table taken when it started, undoing what another
    thread committed meanwhile. Serialising moto's request handling restores DynamoDB's
    guarantee; the races between requests (a read, then a conditional write) stay real.
    (The local stack does the same in front of its moto server.)
    """
    lock = threading.Lock()
    original = BotocoreStubber.process_request

    def one_at_a_time(self: BotocoreStubber, request: Any) -> Any:
        with lock:
            return original(self, request)

    monkeypatch.setattr(BotocoreStubber, "process_request", one_at_a_time)
