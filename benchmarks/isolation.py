"""Each benchmark in a process of its own.

The functions keep module state between invocations, as Lambda does (cached AWS clients, the
bound table, the process clock): what one benchmark leaves behind must not be what the next one
measures. This lives outside ``__main__`` because a spawned process re-imports the function it
runs by its module's name, and ``python -m benchmarks`` has none.
"""

from __future__ import annotations

import importlib
import multiprocessing
import traceback
from multiprocessing.connection import Connection

from benchmarks.report import Options, Outcome


def _run(name: str, options: Options, sender: Connection) -> None:
    try:
        sender.send(("ok", importlib.import_module(f"benchmarks.{name}").run(options)))
    except BaseException as error:
        sender.send(("error", f"{type(error).__name__}: {error}\n{traceback.format_exc()}"))
    finally:
        sender.close()


def run_in_a_fresh_process(name: str, options: Options) -> Outcome:
    """Each benchmark in a process of its own: the functions' module state (cached AWS clients,
    the bound table, the process clock) from one must not leak into the next. A plain Process,
    not a Pool: a Pool's workers are daemons, and some benchmarks start processes of their own."""
    context = multiprocessing.get_context("spawn")
    receiver, sender = context.Pipe(duplex=False)
    process = context.Process(target=_run, args=(name, options, sender), name=f"bench-{name}")
    process.start()
    sender.close()
    try:
        status, value = receiver.recv()
    except EOFError:
        status, value = "error", f"the benchmark's process ended with exit code {process.join() or process.exitcode}"
    process.join()
    if status == "error":
        raise RuntimeError(value)
    return value
