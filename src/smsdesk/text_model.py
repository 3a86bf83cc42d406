"""The learned half of reading a text: compact linear models over hashed n-grams, in plain Python.

A text becomes a sparse set of hashed features (character 1-4-grams of the lower-cased text, accents
kept, so "không" and "não" tell their language; word unigrams and bigrams of the accent-folded
text), each weighted 1/sqrt(count). Each *head* (intent, language, escalation, reason) is a
multinomial logistic regression over those features, trained by ``make train``
(training/train_classifier.py, plain Python, fixed seed) and shipped as ``classifier_weights.bin``
beside this module: only the weights of features seen in at least three training texts. The file is read once, on
the first text a process classifies (not at import), so the webhook's cold start pays for it only
when it reads a text. Weights are quantised to 8 bits (one scale per head) and stored
uncompressed, with each head's feature buckets sorted: reading the file is a few array copies (no
decompression, no index built), and a feature's row is found by binary search.
"""

from __future__ import annotations

import array
import bisect
import itertools
import json
import math
import re
import struct
import sys
import unicodedata
import zlib
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

WEIGHTS_FILE = Path(__file__).with_name("classifier_weights.bin")
FEATURE_BITS = 20
_MASK = (1 << FEATURE_BITS) - 1
_MAGIC = b"SMSDESK-TEXT-MODEL-1\n"
_ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"), None)
_WORD = re.compile(r"\w+(?:'\w+)?")


def _lower(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).translate(_ZERO_WIDTH).lower()
    return " ".join(text.replace("\u2019", "'").replace("\u2018", "'").split())


def _strip_accents(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def features(text: str) -> dict[int, float]:
    """The hashed features of ``text`` with their values (L2-normalised counts)."""
    lower = _lower(text)
    counts: dict[int, float] = {}

    def add(key: str) -> None:
        bucket = zlib.crc32(key.encode()) & _MASK
        counts[bucket] = counts.get(bucket, 0.0) + 1.0

    padded = f" {lower[:400]} "
    for n in (1, 2, 3, 4):
        for i in range(len(padded) - n + 1):
            gram = padded[i : i + n]
            if n == 1 and gram == " ":
                continue
            add(f"c{gram}")
    words = _WORD.findall(_strip_accents(lower[:400]))
    for word in words:
        add(f"w{word}")
    for a, b in itertools.pairwise(words):
        add(f"b{a} {b}")
    if not counts:
        return {}
    norm = math.sqrt(sum(v * v for v in counts.values()))
    return {k: v / norm for k, v in counts.items()}


@dataclass(frozen=True, slots=True)
class Head:
    """One multinomial logistic regression: classes, biases, and the sparse weight rows."""

    name: str
    classes: tuple[str, ...]
    bias: tuple[float, ...]
    buckets: array.array[int]  # uint32, sorted: the features that have a row, in row order
    weights: array.array[int]  # int8, len(buckets) * len(classes)
    scale: float

    def probabilities(self, feats: dict[int, float]) -> dict[str, float]:
        k = len(self.classes)
        scores = list(self.bias)
        buckets, weights, scale = self.buckets, self.weights, self.scale
        n, find = len(buckets), bisect.bisect_left
        for bucket, value in feats.items():
            row = find(buckets, bucket)
            if row == n or buckets[row] != bucket:
                continue
            offset, v = row * k, value * scale
            for j in range(k):
                scores[j] += weights[offset + j] * v
        top = max(scores)
        exps = [math.exp(s - top) for s in scores]
        total = sum(exps)
        return {c: e / total for c, e in zip(self.classes, exps, strict=True)}


def encode(heads: dict[str, dict[str, Any]], meta: dict[str, Any] | None = None) -> bytes:
    """The weights file: a JSON header, then per head its buckets (uint32) and weights (int8).

    ``heads`` maps a name to {"classes": [...], "bias": [...], "rows": {bucket: [w per class]}}.
    """
    header = {}
    blobs = []
    for name in sorted(heads):
        head = heads[name]
        rows = sorted(head["rows"].items())
        largest = max((abs(w) for _, ws in rows for w in ws), default=1.0) or 1.0
        scale = largest / 127
        buckets = array.array("I", (b for b, _ in rows))
        weights = array.array("b", (round(w / scale) for _, ws in rows for w in ws))
        if sys.byteorder != "little":
            buckets.byteswap()
        header[name] = {
            "classes": list(head["classes"]),
            "bias": [round(b, 6) for b in head["bias"]],
            "scale": scale,
            "rows": len(rows),
        }
        blobs += [buckets.tobytes(), weights.tobytes()]
    head_bytes = json.dumps({"heads": header, "meta": meta or {}}, sort_keys=True).encode()
    return _MAGIC + struct.pack("<I", len(head_bytes)) + head_bytes + b"".join(blobs)


def decode(data: bytes) -> dict[str, Head]:
    raw = memoryview(data)
    if bytes(raw[: len(_MAGIC)]) != _MAGIC:
        raise ValueError("not a smsdesk text-model file")
    at = len(_MAGIC)
    (length,) = struct.unpack_from("<I", raw, at)
    at += 4
    header = json.loads(bytes(raw[at : at + length]))["heads"]
    at += length
    heads = {}
    for name in sorted(header):
        spec = header[name]
        n, k = spec["rows"], len(spec["classes"])
        buckets = array.array("I")
        buckets.frombytes(raw[at : at + 4 * n])
        at += 4 * n
        weights = array.array("b")
        weights.frombytes(raw[at : at + n * k])
        at += n * k
        if sys.byteorder != "little":
            buckets.byteswap()
        heads[name] = Head(name, tuple(spec["classes"]), tuple(spec["bias"]), buckets, weights, spec["scale"])
    return heads


def meta(data: bytes) -> dict[str, Any]:
    """What the file says about how it was made (the corpus's digest, the settings)."""
    raw = data
    (length,) = struct.unpack_from("<I", raw, len(_MAGIC))
    made: dict[str, Any] = json.loads(raw[len(_MAGIC) + 4 : len(_MAGIC) + 4 + length])["meta"]
    return made


@cache
def heads() -> dict[str, Head]:
    """The shipped model, read on first use."""
    return decode(WEIGHTS_FILE.read_bytes())
