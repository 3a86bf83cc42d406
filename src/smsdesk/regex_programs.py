"""smsdesk's regular expressions, compiled when the layer is built rather than at each cold start.

Python compiles a regular expression with Python code and keeps it only in memory, and Lambda's
read-only /opt cannot cache it: the .pyc of regular expressions. The layer's build (src/Makefile)
runs :func:`main`, which records the program of every pattern a smsdesk module holds, checked to
compile to a pattern equal to ``re.compile``'s; :func:`load` (smsdesk's ``__init__``) puts them in
``re``'s own cache, where ``re.compile`` finds them. Another Python ignores the file, and a pattern
changed since the build is not in it: either is compiled as before. Figures: docs/decisions.md, 6.
"""

from __future__ import annotations

import _sre  # type: ignore[import-not-found]  # the engine's compile(); no stub
import marshal
import os
import re
import sys
from array import array
from re import _compiler, _parser  # type: ignore[attr-defined]

# Paths as strings: pathlib is not loaded yet when smsdesk's __init__ runs, before the cold
# start's pause (smsdesk.cold_start), and need not be.
PROGRAMS_FILE = os.path.join(os.path.dirname(__file__), "regex_programs.bin")
# Where the programs are read from instead (the benchmarks, which run from the source tree).
PROGRAMS_ENV = "SMSDESK_REGEX_PROGRAMS"
_ENGINE = (tuple(sys.version_info[:2]), _sre.MAGIC, _sre.CODESIZE)
# (pattern, flags it is compiled with, flags of the result, code, groups, group index, index group)
Program = tuple[str, int, int, bytes, int, dict[str, int], tuple[str | None, ...]]


def load(path: str | os.PathLike[str] | None = None) -> int:
    """Put the built programs into ``re``'s cache; how many. Never fails: no file, another
    engine or an unreadable file leaves ``re`` to compile as it always does."""
    path = path or os.environ.get(PROGRAMS_ENV) or PROGRAMS_FILE
    cache = getattr(re, "_cache", None)
    try:
        with open(path, "rb") as file:
            engine, programs = marshal.loads(file.read())
    except (OSError, ValueError, EOFError, TypeError):
        return 0
    if tuple(engine) != _ENGINE or not isinstance(cache, dict):
        return 0
    for pattern, flags, compiled_flags, code, groups, groupindex, indexgroup in programs:
        program = array("I")
        program.frombytes(code)
        compiled = _sre.compile(pattern, compiled_flags, program.tolist(), groups, groupindex, indexgroup)
        cache[type(pattern), pattern, flags] = compiled
    return len(programs)


def _program(pattern: str, flags: int) -> Program:
    """What ``re._compiler.compile`` passes to the engine, as data."""
    tree = _parser.parse(pattern, flags)
    code = _compiler._code(tree, flags)
    indexgroup: list[str | None] = [None] * tree.state.groups
    for name, index in tree.state.groupdict.items():
        indexgroup[index] = name
    program: Program = (
        pattern,
        flags,
        int(flags | tree.state.flags),
        array("I", code).tobytes(),
        tree.state.groups - 1,
        dict(tree.state.groupdict),
        tuple(indexgroup),
    )
    built = _sre.compile(pattern, program[2], list(code), program[4], program[5], program[6])
    if built != _compiler.compile(pattern, flags):
        raise ValueError(f"the program built for {pattern[:40]!r} is not what re.compile makes")
    return program


def _patterns_in(value: object, depth: int = 0) -> list[re.Pattern[str]]:
    """The patterns a module-level value holds: a pattern, a lazily compiled one (its
    ``pattern`` string), or patterns in a list, tuple or dict of them."""
    if isinstance(value, re.Pattern):
        return [value] if isinstance(value.pattern, str) else []
    if depth < 2 and isinstance(value, list | tuple | set | frozenset):
        return [p for item in value for p in _patterns_in(item, depth + 1)]
    if depth < 2 and isinstance(value, dict):
        return [p for item in value.values() for p in _patterns_in(item, depth + 1)]
    if depth == 0 and isinstance(getattr(value, "pattern", None), str) and hasattr(value, "search"):
        try:
            return [re.compile(value.pattern)]  # type: ignore[attr-defined]
        except re.error:
            return []
    return []


def _key_flags(found: re.Pattern[str]) -> int:
    """The flags ``re.compile`` was called with (its cache's key), from the pattern it made."""
    for flags in (0, found.flags & ~re.UNICODE, found.flags):
        if _compiler.compile(found.pattern, flags) == found:
            return int(flags)
    raise ValueError(f"cannot tell the flags {found.pattern[:40]!r} was compiled with")


def programs() -> list[Program]:
    """The program of every pattern a smsdesk module holds at import."""
    import importlib
    import pkgutil

    seen: dict[tuple[str, int], Program] = {}
    for module in pkgutil.walk_packages([os.path.dirname(PROGRAMS_FILE)], "smsdesk."):
        try:
            loaded = importlib.import_module(module.name)
        except ImportError as error:  # a dependency the build machine cannot import: compiled at run time
            print(f"regex_programs: {module.name} skipped ({error})", file=sys.stderr)
            continue
        for value in vars(loaded).values():
            for found in _patterns_in(value):
                key = (found.pattern, _key_flags(found))
                if key not in seen:
                    seen[key] = _program(*key)
    return [seen[key] for key in sorted(seen)]


def main(argv: list[str] | None = None) -> None:
    import argparse

    parser = argparse.ArgumentParser(prog="smsdesk.regex_programs", description=__doc__.splitlines()[0])
    parser.add_argument("--output", default=PROGRAMS_FILE)
    output = parser.parse_args(argv).output
    built = programs()
    with open(output, "wb") as file:
        file.write(marshal.dumps((_ENGINE, built)))
    print(f"{len(built)} regular expressions compiled into {output}", file=sys.stderr)
