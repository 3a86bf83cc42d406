"""Reading a text takes about the same time whatever the customer typed.

classify() runs inside the inbound webhook, which Twilio gives 15 s. A pattern whose alternatives
overlap under a repeat backtracks exponentially: "stop now now now ... x" (24 words) took over two
seconds, every further two words four times longer. These are the shapes that did.
"""

from __future__ import annotations

import time

import pytest

from smsdesk.classification import classify

REPEATS = 24  # before the fix: ~2.5 s for the first case; after: about a millisecond


@pytest.mark.parametrize(
    "text",
    [
        "stop " + "now " * REPEATS + "x",
        "stop " + "it " * REPEATS + "x",
        "stop " + "already " * REPEATS + "x",
        "do not send me " + "any more " * REPEATS + "x",
    ],
    ids=["stop-now", "stop-it", "stop-already", "send-me-any-more"],
)
def test_no_text_makes_the_classifier_backtrack(text):
    started = time.perf_counter()
    classify(text)
    assert time.perf_counter() - started < 0.25
