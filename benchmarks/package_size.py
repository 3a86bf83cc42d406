"""Package size: what each function weighs unzipped after `sam build`, its layer included.

Lambda's limit is 250 MB for a function's code and all its layers, unzipped (262,144,000
bytes: "MB" here are 2**20 bytes, as AWS counts them). The figure is the sum of the file sizes
in .aws-sam/build/<Function> and .aws-sam/build/SharedLayer (every function has that one
layer; see template.yaml's Globals).

`make build` runs first unless .aws-sam/build is newer than every source it is built from
(template.yaml, src/, functions/); ``--build always|never`` overrides. If the build fails, the
benchmark fails with the build's own last lines, so the reason is in the table and the JSON.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from benchmarks import stack
from benchmarks.report import ROOT, Options, Outcome, Row, rounded

TITLE = "package size"
LIMIT_MB = 250
MB = 2**20
BUILD = ROOT / ".aws-sam" / "build"
LAYER = "SharedLayer"
SOURCES = ("template.yaml", "src", "functions")


class BuildFailed(Exception):
    pass


def _newest_source() -> float:
    newest = 0.0
    for name in SOURCES:
        path = ROOT / name
        if path.is_file():
            newest = max(newest, path.stat().st_mtime)
            continue
        for folder, dirs, files in os.walk(path):
            dirs[:] = [d for d in dirs if d != "__pycache__" and not d.endswith(".egg-info")]
            for file in files:
                if not file.endswith(".pyc"):
                    newest = max(newest, (Path(folder) / file).stat().st_mtime)
    return newest


def _stale() -> bool:
    built = BUILD / "template.yaml"
    return not built.exists() or built.stat().st_mtime < _newest_source()


def _build() -> None:
    print("  package size: make build (sam build) ...", file=sys.stderr, flush=True)
    done = subprocess.run(["make", "build"], cwd=ROOT, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        output = (done.stdout + done.stderr).strip().splitlines()
        raise BuildFailed(f"make build exited {done.returncode}:\n" + "\n".join(output[-15:]))


def _size(folder: Path) -> int:
    total = 0
    for parent, _, files in os.walk(folder):
        for file in files:
            total += (Path(parent) / file).lstat().st_size
    return total


def run(options: Options) -> Outcome:
    built_now = options.build == "always" or (options.build == "auto" and _stale())
    if built_now:
        _build()
    if not (BUILD / LAYER).is_dir():
        raise BuildFailed(f"{BUILD / LAYER} does not exist: run make build")
    layer = _size(BUILD / LAYER)
    results, rows = {}, []
    for function in stack.functions():
        folder = BUILD / function.logical_id
        if not folder.is_dir():
            raise BuildFailed(f"{folder} does not exist: the build is older than template.yaml")
        own = _size(folder)
        total_mb = (own + layer) / MB
        results[function.logical_id] = rounded(total_mb, 2)
        rows.append(
            Row(
                TITLE,
                function.logical_id,
                f"{total_mb:.1f} MB",
                target=f"<= {LIMIT_MB} MB",
                ok=total_mb <= LIMIT_MB,
                note=f"function {own / 1024:.0f} KB + layer {layer / MB:.1f} MB, unzipped",
            )
        )
    return Outcome(
        results={"package_mb": results},
        rows=rows,
        details={"layer_mb": rounded(layer / MB, 2), "limit_mb": LIMIT_MB, "built_now": built_now},
    )
