"""Cold start: how long importing each function's handler module takes in a fresh process,
next to the floor (a fresh process importing ``botocore.session``), measured in the same run.

Each sample is one new ``python -c`` process with the function's environment. The child times
its own import with ``time.perf_counter()`` (the figure the targets apply to); the parent also
times the whole process, interpreter start and exit included. Rounds are interleaved (floor, f1,
f2, ..., floor, f1, ...) so that machine noise hits every subject alike; the medians are compared
and the targets apply to their ratio. Other processes on a shared machine only ever add time, so
the JSON also keeps the ratio of the fastest samples (``min_ratio``) and of the import's CPU time
(``cpu_ratio``): when the machine was busy, those two say more than the medians.

Bytecode. The layer ships every module compiled (src/Makefile: `compileall`, unchecked-hash
.pyc), because Lambda's /opt is read-only and could not cache what it compiles: without them,
every cold start compiles each imported module from source, botocore included. The default
measurement reproduces what ships: every module precompiled in a private bytecode cache (the
developer's own __pycache__ folders are never read), for the floor as for the functions, since
botocore is in the layer too, and smsdesk's regular expressions compiled by the same step the
layer's build runs (smsdesk/regex_programs.py), written to the private cache too.
``--from-source`` measures the other case (only the standard library precompiled, nothing else
written), what a layer built without bytecode costs.

Packages. The children run in the development virtualenv, which also holds the test and tooling
packages; Lambda has only the layer's (src/requirements.txt, the SharedLayer's ContentUri).
Some libraries import a package only when it is there (pynamodb.signals imports blinker, which
moto's Flask brings to the virtualenv), so every child is refused the top-level modules of the
distributions the layer does not ship: their optional imports take the path they take in Lambda.

Before timing, every handler is imported once with the network refused (sockets and DNS raise):
handlers only read configuration at import, and this proves it.
"""

from __future__ import annotations

import ast
import importlib.metadata
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from benchmarks import stack
from benchmarks.report import ROOT, Options, Outcome, Row, median, ratio, rounded
from smsdesk.regex_programs import PROGRAMS_ENV

TITLE = "cold start"
FLOOR_MODULE = "botocore.session"
WEBHOOK_TARGET = 1.3  # the inbound webhook: Twilio waits, and SMS traffic is sparse
OTHER_TARGET = 1.7

_CHILD = """\
import sys, time
{layer}{guard}sys.path.insert(0, {folder!r})
started, cpu = time.perf_counter(), time.process_time()
import {module}
sys.stdout.write(repr(((time.perf_counter() - started) * 1000, (time.process_time() - cpu) * 1000)))
"""

# Importing must need no network: a connection or a DNS lookup fails the import loudly.
_NETWORK_REFUSED = """\
import socket
def _refuse(*args, **kwargs):
    raise RuntimeError("the network was used while importing the handler")
socket.socket.connect = socket.socket.connect_ex = _refuse
socket.getaddrinfo = socket.create_connection = _refuse
"""

# Only what the layer ships can be imported (see the module doc): a finder ahead of all others.
_LAYER_ONLY = """\
class _NotInTheLayer:
    blocked = {blocked!r}
    @classmethod
    def find_spec(cls, name, path=None, target=None):
        if name.partition(".")[0] in cls.blocked:
            raise ModuleNotFoundError(f"No module named {{name!r}} (not in the layer)", name=name)
sys.meta_path.insert(0, _NotInTheLayer)
"""
LAYER_REQUIREMENTS = ROOT / "src" / "requirements.txt"


def _distribution(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


@cache
def _not_in_the_layer() -> frozenset[str]:
    """Top-level modules of the installed distributions that the layer does not ship."""
    shipped = {
        _distribution(m.group(1))
        for m in re.finditer(r"^([A-Za-z0-9][\w.-]*)==", LAYER_REQUIREMENTS.read_text(), re.MULTILINE)
    }
    return frozenset(
        module
        for module, distributions in importlib.metadata.packages_distributions().items()
        if module != "smsdesk" and not any(_distribution(d) in shipped for d in distributions)
    )


@dataclass(frozen=True, slots=True)
class _Subject:
    name: str
    folder: Path
    module: str
    environ: dict[str, str]

    def code(self, *, guard: bool = False) -> str:
        return _CHILD.format(
            layer=_LAYER_ONLY.format(blocked=set(_not_in_the_layer())),
            guard=_NETWORK_REFUSED if guard else "",
            folder=str(self.folder),
            module=self.module,
        )


@dataclass(frozen=True, slots=True)
class _Figures:
    wall: float  # median import time, measured in the child
    wall_min: float
    cpu: float  # median CPU time of the import
    process: float  # median whole-process wall time

    @classmethod
    def of(cls, samples: list[tuple[float, float, float]]) -> _Figures:
        return cls(
            wall=median([s[0] for s in samples]),
            wall_min=min(s[0] for s in samples),
            cpu=median([s[1] for s in samples]),
            process=median([s[2] for s in samples]),
        )


class _ImportFailed(Exception):
    pass


def _child_env(subject: _Subject, cache: Path, *, write: bool) -> dict[str, str]:
    env = {**subject.environ, "PYTHONPYCACHEPREFIX": str(cache), "HOME": str(cache.parent)}
    if not write:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def _run(subject: _Subject, cache: Path, *, guard: bool = False, write: bool = False) -> tuple[float, float, float]:
    """One fresh process importing the subject: the import's wall and CPU ms (measured inside)
    and the whole process's wall ms."""
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", subject.code(guard=guard)],
        env=_child_env(subject, cache, write=write),
        cwd=subject.folder,
        capture_output=True,
        text=True,
        check=False,
    )
    process_ms = (time.perf_counter() - started) * 1000
    if done.returncode != 0:
        last = done.stderr.strip().splitlines()[-1:] or ["(no output)"]
        raise _ImportFailed(f"import {subject.module} failed: {last[0]}")
    import_ms, cpu_ms = ast.literal_eval(done.stdout)
    return import_ms, cpu_ms, process_ms


def regex_programs(scratch: Path) -> dict[str, str]:
    """smsdesk's regular expressions compiled as the layer's build compiles them (src/Makefile),
    into ``scratch``; the environment that points a child at them."""
    output = scratch / "regex_programs.bin"
    subprocess.run(
        [sys.executable, "-c", "from smsdesk.regex_programs import main; main()", "--output", str(output)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return {PROGRAMS_ENV: str(output)}


def _keep_only_standard_library(cache: Path) -> None:
    """Drop every .pyc the warm-up wrote except the standard library's (see the module doc)."""
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    keep = cache / stdlib.relative_to(stdlib.anchor)
    kept = cache / ".kept"
    if keep.exists():
        keep.rename(kept)
    for entry in cache.iterdir():
        if entry != kept:
            shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
    if kept.exists():
        keep.parent.mkdir(parents=True, exist_ok=True)
        kept.rename(keep)
        shutil.rmtree(keep / "site-packages", ignore_errors=True)


_IMPORTTIME = re.compile(r"^import time:\s+(\d+) \|\s+\d+ \|\s*(\S+)\s*$")


def _import_costs(subject: _Subject, cache: Path) -> dict[str, int]:
    """Self time (µs) of every module the subject imports, from ``python -X importtime``."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", subject.code()],
        env=_child_env(subject, cache, write=False),
        cwd=subject.folder,
        capture_output=True,
        text=True,
        check=False,
    )
    costs = {}
    for line in done.stderr.splitlines():
        if match := _IMPORTTIME.match(line):
            costs[match.group(2)] = int(match.group(1))
    return costs


def _beyond_the_floor(costs: dict[str, int], floor: dict[str, int]) -> str:
    """Where a function's imports beyond the floor's go: heaviest packages, then smsdesk's modules."""
    extra = {name: us for name, us in costs.items() if name not in floor}
    packages: dict[str, int] = defaultdict(int)
    for name, us in extra.items():
        packages[name.split(".")[0]] += us
    heaviest = sorted(packages.items(), key=lambda kv: -kv[1])[:6]
    own = sorted(((n, us) for n, us in extra.items() if n.startswith("smsdesk.")), key=lambda kv: -kv[1])[:6]
    text = ", ".join(f"{name} {us / 1000:.0f}" for name, us in heaviest)
    if own:
        text += "; smsdesk's heaviest: " + ", ".join(f"{n.removeprefix('smsdesk.')} {us / 1000:.0f}" for n, us in own)
    return f"{sum(extra.values()) / 1000:.0f} ms of self time beyond the floor's modules (ms, -X importtime): {text}"


def run(options: Options) -> Outcome:
    functions = stack.functions()
    webhook = stack.inbound_webhook().logical_id
    scratch = Path(tempfile.mkdtemp(prefix="smsdesk-bench-cold-"))
    cache, empty = scratch / "pyc", scratch / "floor"
    cache.mkdir()
    empty.mkdir()
    try:
        shipped = regex_programs(scratch) if options.bytecode else {}
        floor = _Subject("floor", empty, FLOOR_MODULE, stack.base_environment(**shipped))
        subjects = [_Subject(f.logical_id, f.code_uri, f.module, f.environment(**shipped)) for f in functions]

        # Untimed: each import once, network refused; this also writes the bytecode cache.
        notes, failed = [], {}
        _run(floor, cache, guard=True, write=True)
        for subject in subjects:
            try:
                _run(subject, cache, guard=True, write=True)
            except _ImportFailed as error:
                failed[subject.name] = str(error)
                notes.append(f"{subject.name}: {error}")
        if not options.bytecode:  # --from-source
            _keep_only_standard_library(cache)
        measured = [s for s in subjects if s.name not in failed]

        samples: dict[str, list[tuple[float, float, float]]] = {s.name: [] for s in [floor, *measured]}
        for round_number in range(options.cold_start_rounds):
            print(f"  cold start: round {round_number + 1}/{options.cold_start_rounds}", file=sys.stderr, flush=True)
            for subject in [floor, *measured]:
                samples[subject.name].append(_run(subject, cache))

        def figures(name: str) -> _Figures:
            return _Figures.of(samples[name])

        base = figures("floor")
        results, rows, diagnose = {}, [], []
        for subject in subjects:
            target = WEBHOOK_TARGET if subject.name == webhook else OTHER_TARGET
            if subject.name in failed:
                error = failed[subject.name]
                rows.append(Row(TITLE, subject.name, "error", target=f"<= {target}x", ok=False, note=error))
                results[subject.name] = {"error": failed[subject.name]}
                continue
            mine = figures(subject.name)
            wall_ratio = ratio(mine.wall, base.wall)
            ok = wall_ratio <= target
            results[subject.name] = {
                "median_ms": rounded(mine.wall),
                "floor_ms": rounded(base.wall),
                "ratio": rounded(wall_ratio, 3),
                "target": target,
                # Cross-checks that noise from other processes moves less (see the notes):
                "min_ms": rounded(mine.wall_min),
                "floor_min_ms": rounded(base.wall_min),
                "min_ratio": rounded(ratio(mine.wall_min, base.wall_min), 3),
                "cpu_median_ms": rounded(mine.cpu),
                "floor_cpu_median_ms": rounded(base.cpu),
                "cpu_ratio": rounded(ratio(mine.cpu, base.cpu), 3),
                "process_median_ms": rounded(mine.process),
                "floor_process_median_ms": rounded(base.process),
                "process_ratio": rounded(ratio(mine.process, base.process), 3),
            }
            rows.append(
                Row(
                    TITLE,
                    subject.name,
                    f"{mine.wall:.0f} ms",
                    f"{base.wall:.0f} ms",
                    wall_ratio,
                    f"<= {target}x",
                    ok,
                    note=(
                        f"min {ratio(mine.wall_min, base.wall_min):.2f}x, cpu {ratio(mine.cpu, base.cpu):.2f}x; "
                        f"whole process {mine.process:.0f} / {base.process:.0f} ms "
                        f"({ratio(mine.process, base.process):.2f}x)"
                    ),
                )
            )
            if not ok or wall_ratio < 1:
                diagnose.append((subject, wall_ratio, ok))

        if diagnose:
            floor_costs = _import_costs(floor, cache)
            for subject, subject_ratio, ok in diagnose:
                costs = _import_costs(subject, cache)
                if not ok:
                    where = _beyond_the_floor(costs, floor_costs)
                    notes.append(f"{subject.name} misses ({subject_ratio:.2f}x): {where}")
                elif FLOOR_MODULE not in costs:
                    notes.append(
                        f"{subject.name} is below the floor ({subject_ratio:.2f}x) because it does not import "
                        f"{FLOOR_MODULE} at all: it creates its AWS client on first use, so its first invocation "
                        "pays that import instead (not measured here)"
                    )

        try:
            load = os.getloadavg()[0]
        except OSError:
            load = 0.0
        if load > 0.5 * (os.cpu_count() or 1):
            notes.append(
                f"the machine was busy (load {load:.1f} on {os.cpu_count()} CPUs when this started): the medians are "
                "noisy; min_ratio and cpu_ratio (in the note column and the JSON) move less"
            )
        mode = (
            "as deployed: every module precompiled (src/Makefile)"
            if options.bytecode
            else ("--from-source: only the standard library precompiled, the layer compiled from source")
        )
        return Outcome(
            results={"cold_start": results},
            rows=rows,
            details={
                "rounds": options.cold_start_rounds,
                "floor": f"import {FLOOR_MODULE}",
                "bytecode": mode,
                "import_ms": {name: [rounded(s[0]) for s in values] for name, values in samples.items()},
                "import_cpu_ms": {name: [rounded(s[1]) for s in values] for name, values in samples.items()},
            },
            notes=notes,
        )
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
