"""The classifier on texts its authors never read: the issue's targets, asserted on five sets.

All five were written independently of the rules, the training texts and the model; nobody
working on the classifier reads them. ``holdout.jsonl`` (729 texts) was consulted five times while
the model was developed, ``holdout2.jsonl`` (926, written from PRODUCT.md alone) once per round
since, ``holdout3.jsonl`` (910, written 2026-11-26 by two more authors from PRODUCT.md and the
issue's text) from round 3 on, ``holdout4.jsonl`` (713) from round 4 and ``holdout5.jsonl`` (720)
from round 5 on, each written on 2026-11-26 by two more authors in the same way, less the texts
also in the training corpus (aggregates only; README, Compliance, says how often each was looked
at). A target a set misses is a strict xfail with the measured figure (``make evaluate`` prints
them). The shipped weights are checked too: they are exactly what ``make train`` produces from the
corpus in the repository.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from training.figures import Figures, load, measure

SETS = ("holdout", "holdout2", "holdout3", "holdout4", "holdout5")

# Targets a set misses, as strict xfails with what was measured (make evaluate on the shipped weights):
# none on round 6's weights (2026-11-26; README, Compliance, has every figure).
MISSED: dict[tuple[str, str], str] = {}


@pytest.fixture(scope="module", params=SETS)
def figures(request) -> Figures:
    rows = load(Path(__file__).with_name(f"{request.param}.jsonl"))
    assert len(rows) >= 500
    return measure(rows)


@pytest.fixture(autouse=True)
def _known_misses(request):
    if "figures" in request.fixturenames:
        reason = MISSED.get((request.node.callspec.params["figures"], request.node.originalname))
        if reason:
            request.applymarker(pytest.mark.xfail(strict=True, reason=f"target missed: {reason}"))


def test_opt_outs_are_found(figures):
    assert figures.recall("opt_out") >= 0.97


def test_opt_outs_are_found_or_held_for_an_agent(figures):
    """A possible opt-out gets no automatic reply and pauses every text until an agent decides."""
    assert figures.opt_out_recall_with_held() >= 0.97


def test_what_is_read_as_an_opt_out_is_one(figures):
    assert figures.precision("opt_out") >= 0.95


def test_opt_outs_in_other_languages_are_found(figures):
    assert figures.non_english_opt_out_recall() >= 0.90


def test_opt_ins_and_help_are_read_right(figures):
    assert figures.recall("opt_in") >= 0.85
    assert figures.recall("help") >= 0.85


def test_urgent_complaints_are_escalated(figures):
    assert figures.escalation_recall >= 0.85


def test_at_most_5_false_escalations_per_100_ordinary_complaints(figures):
    assert figures.false_escalations_per_100 <= 5


def test_few_complaints_wait_for_an_agent_as_possible_opt_outs(figures):
    assert figures.possible_opt_out_share_of_complaints <= 0.05


def test_the_shipped_weights_are_trained_on_the_corpus_in_the_repository():
    from smsdesk import text_model
    from training.train_classifier import SOURCES, corpus_digest
    from training.train_classifier import load as load_corpus

    recorded = text_model.meta(text_model.WEIGHTS_FILE.read_bytes())
    assert recorded["corpus_sha256"] == corpus_digest(load_corpus(SOURCES)), "run make train"
    assert not any("evaluation" in str(path) for path in SOURCES)  # never trained on the held-out texts
