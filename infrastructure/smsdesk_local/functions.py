"""The template's Lambda functions, loaded and invoked the way Lambda does it.

Each function is its CodeUri plus its Handler ("functions/inbound_sms/" + "app.lambda_handler").
Every handler module is named ``app``, so each is loaded under a name of its own.

A function's environment (Globals plus its own, resolved) is applied to ``os.environ`` while it
is imported: that is its cold start, where smsdesk reads and validates all of its configuration.
It is not swapped in again for each invocation, because ``os.environ`` belongs to the whole
process and other threads (the HTTP servers, the event sources) read it all the time; what
differs between functions is only read at import, and what every function reads later (the AWS
endpoint and credentials, Powertools' switches) is the same for all and set once for the
process.

Each execution environment runs one invocation at a time, and different functions run at the
same time, as they would in Lambda; the functions that EventBridge invokes asynchronously get a
few environments each (:meth:`LocalFunction.another_environment`), as Lambda scales them out.
What they share in this process (botocore clients, the clock) is thread-safe; each environment
has its own module, so its own logger and metrics.
"""

from __future__ import annotations

import gc
import importlib.util
import os
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import ModuleType
from typing import Any

from smsdesk_local.template import ACCOUNT, REGION, ROOT


@dataclass
class LambdaContext:
    """What Lambda passes as ``context`` (the parts Powertools reads): the one the local stack,
    the tests and the benchmarks invoke handlers with. The defaults are template.yaml's Globals."""

    function_name: str
    memory_limit_in_mb: int = 512
    timeout_seconds: int = 20
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    function_version: str = "$LATEST"
    log_group_name: str = ""
    log_stream_name: str = "local"
    _started: float = field(default_factory=time.monotonic)

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.timeout_seconds - (time.monotonic() - self._started)) * 1000))


_environment_lock = threading.RLock()


@contextmanager
def environment(variables: Mapping[str, str]) -> Iterator[None]:
    """Apply ``variables`` to os.environ for the duration (the cold start: the import), then put
    back exactly the keys it changed."""
    with _environment_lock:
        saved = {key: os.environ.get(key) for key in variables}
        os.environ.update(variables)
        try:
            yield
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value


@dataclass
class LocalFunction:
    logical_id: str
    name: str
    code_uri: str
    handler: str
    variables: dict[str, str]
    memory: int = 512
    timeout: int = 20
    event_invoke_config: dict[str, Any] = field(default_factory=dict)
    environment_number: int = 0  # 0, or a further execution environment of the same function
    usage: Usage = field(default_factory=lambda: Usage())  # shared by a function's environments
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _module: ModuleType | None = None
    _entry: Callable[[dict[str, Any], Any], Any] | None = None

    @property
    def arn(self) -> str:
        return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{self.name}"

    @property
    def invocations(self) -> int:
        return self.usage.invocations

    @property
    def billed_ms(self) -> float:
        """Summed wall time of the invocations (every environment's), for the cost benchmark."""
        return self.usage.billed_ms

    @property
    def durations_ms(self) -> list[float]:
        """Each invocation's wall time, in order (every environment's), for the cost benchmark."""
        return list(self.usage.durations_ms)

    def another_environment(self, number: int) -> LocalFunction:
        """A further execution environment of this function (its own cold start, its own module)."""
        return replace(self, environment_number=number, _lock=threading.Lock(), _module=None, _entry=None)

    def load(self) -> None:
        module_name, _, attribute = self.handler.rpartition(".")
        path = ROOT / self.code_uri / f"{module_name.replace('.', '/')}.py"
        unique = f"smsdesk_function_{self.logical_id}_{self.environment_number}"
        spec = importlib.util.spec_from_file_location(unique, path)
        if spec is None or spec.loader is None:
            raise ImportError(f"cannot load {path}")
        module = importlib.util.module_from_spec(spec)
        with environment(self.variables):
            sys.modules[unique] = module
            try:
                spec.loader.exec_module(module)
            finally:
                # A handler pauses garbage collection until its first invocation returns, then
                # freezes what its cold start made (smsdesk.cold_start): right for a Lambda
                # process, which is one function, not for this one, which holds many and the
                # tests' objects. Collecting again now, the handler freezes nothing.
                gc.unfreeze()
                gc.enable()
        self._module, self._entry = module, getattr(module, attribute)

    def invoke(self, event: dict[str, Any]) -> Any:
        if self._entry is None:
            self.load()
        assert self._entry is not None
        context = LambdaContext(self.name, self.memory, self.timeout, log_group_name=f"/aws/lambda/{self.name}")
        with self._lock:
            started = time.perf_counter()
            try:
                return self._entry(event, context)
            finally:
                self.usage.add((time.perf_counter() - started) * 1000)


@dataclass
class Usage:
    invocations: int = 0
    billed_ms: float = 0.0
    durations_ms: list[float] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, ms: float) -> None:
        with self._lock:
            self.invocations += 1
            self.billed_ms += ms
            self.durations_ms.append(ms)


def load_module(code_uri: str, handler: str, logical_id: str) -> ModuleType:
    """Import a handler module the way LocalFunction does (for tests that need the module)."""
    function = LocalFunction(logical_id, logical_id, code_uri, handler, {})
    function.load()
    assert function._module is not None
    return function._module


def code_path(code_uri: str) -> Path:
    return Path(ROOT / code_uri)
