"""The regular expressions the layer ships compiled: the same patterns re.compile would make.

A pattern's equality compares its flags and its compiled code, so ``==`` here checks the program
the build wrote, not just its source text.
"""

import marshal
import re
from re import _compiler

import pytest

from smsdesk import classification, regex_programs


@pytest.fixture
def restored_re_cache():
    """re's caches emptied, as in a fresh process, and restored afterwards."""
    saved = dict(re._cache), dict(re._cache2)
    re._cache.clear()
    re._cache2.clear()
    yield
    for cache, entries in zip((re._cache, re._cache2), saved, strict=True):
        cache.clear()
        cache.update(entries)


def _built(tmp_path):
    output = tmp_path / "regex_programs.bin"
    regex_programs.main(["--output", str(output)])
    return output


def test_every_pattern_the_classifier_holds_is_built_and_loads_as_re_would_compile_it(tmp_path, restored_re_cache):
    output = _built(tmp_path)
    re._cache.clear()
    re._cache2.clear()

    loaded = regex_programs.load(output)

    held = [p for v in vars(classification).values() for p in regex_programs._patterns_in(v)]
    assert held and loaded >= len({p.pattern for p in held})
    for pattern in held:
        ready = re._cache[type(pattern.pattern), pattern.pattern, regex_programs._key_flags(pattern)]
        assert ready == _compiler.compile(pattern.pattern, regex_programs._key_flags(pattern))
        assert ready is re.compile(pattern.pattern, regex_programs._key_flags(pattern))  # found, not compiled


def test_a_loaded_program_matches_what_the_pattern_matches(tmp_path, restored_re_cache):
    output = _built(tmp_path)
    re._cache.clear()
    re._cache2.clear()
    regex_programs.load(output)

    opt_out = re.compile(classification._OPT_OUT_RE.pattern)
    assert opt_out.search("please stop texting me") is not None
    assert opt_out.search("stop charging my card twice") is None


def test_programs_from_another_python_are_ignored(tmp_path, restored_re_cache):
    output = _built(tmp_path)
    _, programs = marshal.loads(output.read_bytes())
    other = tmp_path / "other.bin"
    other.write_bytes(marshal.dumps((((3, 12), 20221023, 4), programs)))
    re._cache.clear()
    re._cache2.clear()

    assert regex_programs.load(other) == 0
    assert regex_programs.load(tmp_path / "missing.bin") == 0
    (tmp_path / "garbage.bin").write_bytes(b"not marshal data")
    assert regex_programs.load(tmp_path / "garbage.bin") == 0
    assert re._cache == {}
