"""The weights file: what encode() writes, decode() reads back to the same model.

decode() builds no index (the webhook's first text pays for reading the file): a head finds a
feature's row by binary search over its buckets, so the rows must come back in the right order
whatever order training produced them in.
"""

import math
import random

from smsdesk import text_model


def _reference(head: dict, scale: float, feats: dict[int, float]) -> dict[str, float]:
    """Softmax of bias + the quantised weights, looked up in the training's own mapping."""
    scores = list(head["bias"])
    for bucket, value in feats.items():
        for j, weight in enumerate(head["rows"].get(bucket, ())):
            scores[j] += round(weight / scale) * scale * value
    top = max(scores)
    exps = [math.exp(s - top) for s in scores]
    return {c: e / sum(exps) for c, e in zip(head["classes"], exps, strict=True)}


def test_decoded_heads_score_features_as_the_trained_rows_do():
    rng = random.Random(14)
    buckets = rng.sample(range(1 << text_model.FEATURE_BITS), 400)  # not sorted: as training leaves them
    trained = {
        "intent": {
            "classes": ["complaint", "opt_out", "opt_in"],
            "bias": [0.25, -0.5, -1.0],
            "rows": {b: [rng.uniform(-3, 3) for _ in range(3)] for b in buckets},
        }
    }
    head = text_model.decode(text_model.encode(trained))["intent"]
    largest = max(abs(w) for ws in trained["intent"]["rows"].values() for w in ws)

    for _ in range(50):
        known = rng.sample(buckets, 20)
        unknown = [b for b in rng.sample(range(1 << text_model.FEATURE_BITS), 20) if b not in trained["intent"]["rows"]]
        feats = {b: rng.uniform(0.05, 0.5) for b in known + unknown}
        expected = _reference(trained["intent"], largest / 127, feats)
        got = head.probabilities(feats)
        assert got.keys() == expected.keys()
        for name in expected:
            assert math.isclose(got[name], expected[name], rel_tol=1e-9), name


def test_a_text_with_no_known_feature_gets_the_bias_alone():
    trained = {"escalate": {"classes": ["no", "yes"], "bias": [1.0, -1.0], "rows": {7: [2.0, -2.0], 3: [0.5, 1.0]}}}
    head = text_model.decode(text_model.encode(trained))["escalate"]

    for feats in ({}, {0: 1.0}, {5: 1.0}, {8: 1.0}, {1 << 19: 1.0}):  # before, between and after the buckets
        assert math.isclose(head.probabilities(feats)["yes"], 1 / (1 + math.exp(2.0)))
