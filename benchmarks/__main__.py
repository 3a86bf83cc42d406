"""python -m benchmarks [name ...]: run the benchmarks, print the table, write bench-results.json.

With no names, every benchmark runs, in the order below. The exit status is 1 when a benchmark
could not run at all (its error is in the table and the JSON); a missed target is a figure to
act on, reported as MISS, not a failure of the run.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import time
import traceback
from datetime import UTC, datetime

from benchmarks.isolation import run_in_a_fresh_process
from benchmarks.report import ROOT, Options, Row, machine, table

# One module per benchmark (see benchmarks/__init__.py).
BENCHMARKS = ("cold_start", "cold_webhook", "warm_webhook", "cost", "burst", "package_size")
RESULTS = ROOT / "bench-results.json"


def arguments(argv: list[str]) -> tuple[list[str], Options]:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", metavar="name", help="any of " + ", ".join(BENCHMARKS) + " (default: all)")
    defaults = Options()
    parser.add_argument(
        "--rounds", type=int, default=defaults.cold_start_rounds, help="cold start: processes per function"
    )
    parser.add_argument("--messages", type=int, default=defaults.warm_messages, help="warm webhook: measured messages")
    parser.add_argument(
        "--burst",
        type=int,
        default=defaults.burst_complaints,
        metavar="N",
        help="burst: complaints, from N different numbers",
    )
    parser.add_argument(
        "--from-source",
        action="store_true",
        help="cold start as a layer without .pyc would be: every module compiled from source",
    )
    parser.add_argument(
        "--build",
        choices=["auto", "always", "never"],
        default=defaults.build,
        help="package size: run `make build` when stale (auto), always, or never",
    )
    parsed = parser.parse_args(argv)
    if unknown := [name for name in parsed.names if name not in BENCHMARKS]:
        parser.error(f"no benchmark named {', '.join(unknown)} (there are: {', '.join(BENCHMARKS)})")
    options = Options(
        cold_start_rounds=max(1, parsed.rounds),
        warm_messages=max(1, parsed.messages),
        burst_complaints=max(1, parsed.burst),
        bytecode=not parsed.from_source,
        build=parsed.build,
    )
    return parsed.names or list(BENCHMARKS), options


def main(argv: list[str] | None = None) -> int:
    names, options = arguments(sys.argv[1:] if argv is None else argv)
    document: dict = {"measured_at": datetime.now(UTC).isoformat(timespec="seconds"), "machine": machine()}
    rows: list[Row] = []
    details, notes, errors, seconds = {}, [], {}, {}
    started = time.perf_counter()
    for name in names:
        module = importlib.import_module(f"benchmarks.{name}")
        print(f"{module.TITLE} ...", file=sys.stderr, flush=True)
        began = time.perf_counter()
        try:
            outcome = run_in_a_fresh_process(name, options)
        except Exception as error:
            traceback.print_exc(file=sys.stderr)
            errors[name] = f"{type(error).__name__}: {error}"
            rows.append(Row(module.TITLE, "(could not run)", "error", ok=False, note=errors[name].splitlines()[0]))
        else:
            document.update(outcome.results)
            rows.extend(outcome.rows)
            details[name] = outcome.details
            notes.extend(f"{module.TITLE}: {note}" for note in outcome.notes)
        seconds[name] = round(time.perf_counter() - began, 1)
    seconds["total"] = round(time.perf_counter() - started, 1)
    document.update(details=details, notes=notes, errors=errors, seconds=seconds)

    RESULTS.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
    print()
    print(table(rows))
    for note in notes:
        print(f"\n* {note}")
    print(f"\n{seconds['total']:.0f} s; figures written to {RESULTS.relative_to(ROOT)}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
