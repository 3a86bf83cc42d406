"""Figures of smsdesk's classifier on a labelled set: aggregates only, never a text.

Used by ``make train-dev`` (the development split) and ``make evaluate`` (the held-out evaluation
set, which nobody working on the classifier reads). Per intent: recall, precision, counts; per
language: opt-out recall; escalation recall and false escalations per 100 ordinary complaints;
the share of complaints flagged "possible opt-out".
"""

from __future__ import annotations

import json
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from smsdesk.classification import Classification, classify

INTENTS = ("opt_out", "opt_in", "help", "complaint")


@dataclass
class Figures:
    total: int = 0
    confusion: Counter = field(default_factory=Counter)  # (label, predicted)
    by_language: dict = field(default_factory=lambda: defaultdict(Counter))  # lang -> (label, predicted)
    escalated: int = 0
    escalated_found: int = 0
    ordinary: int = 0
    false_escalations: int = 0
    possible_opt_outs: Counter = field(default_factory=Counter)  # by label
    language_right: int = 0
    language_known: int = 0
    reasons: dict = field(default_factory=lambda: defaultdict(Counter))  # reason -> found/missed
    # Where the misses go, as counts: which labels the texts read as opt-outs really had, and which
    # reasons the ordinary complaints were escalated for (which texts, the figures never say).
    false_opt_outs: Counter = field(default_factory=Counter)  # label
    false_escalation_reasons: Counter = field(default_factory=Counter)  # reason given

    def add(self, other: Figures) -> None:
        """Counts of another set added to these (cross-validation sums its folds)."""
        for name in ("total", "escalated", "escalated_found", "ordinary", "false_escalations"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.language_right += other.language_right
        self.language_known += other.language_known
        self.confusion.update(other.confusion)
        self.possible_opt_outs.update(other.possible_opt_outs)
        self.false_opt_outs.update(other.false_opt_outs)
        self.false_escalation_reasons.update(other.false_escalation_reasons)
        for language, table in other.by_language.items():
            self.by_language[language].update(table)
        for reason, table in other.reasons.items():
            self.reasons[reason].update(table)

    def recall(self, intent: str, language: str | None = None) -> float | None:
        table = self.confusion if language is None else self.by_language[language]
        n = sum(v for (label, _), v in table.items() if label == intent)
        return table[(intent, intent)] / n if n else None

    def precision(self, intent: str) -> float | None:
        n = sum(v for (_, predicted), v in self.confusion.items() if predicted == intent)
        return self.confusion[(intent, intent)] / n if n else None

    def count(self, intent: str, language: str | None = None) -> int:
        table = self.confusion if language is None else self.by_language[language]
        return sum(v for (label, _), v in table.items() if label == intent)

    def non_english_opt_out_recall(self) -> float | None:
        found = sum(t[("opt_out", "opt_out")] for lang, t in self.by_language.items() if lang != "en")
        n = sum(self.count("opt_out", lang) for lang in self.by_language if lang != "en")
        return found / n if n else None

    def opt_out_recall_with_held(self) -> float | None:
        """Opt-outs found, or held for an agent as possible opt-outs (nothing is sent to those)."""
        n = self.count("opt_out")
        return (self.confusion[("opt_out", "opt_out")] + self.possible_opt_outs["opt_out"]) / n if n else None

    @property
    def escalation_recall(self) -> float | None:
        return self.escalated_found / self.escalated if self.escalated else None

    @property
    def false_escalations_per_100(self) -> float | None:
        return 100 * self.false_escalations / self.ordinary if self.ordinary else None

    @property
    def possible_opt_out_share_of_complaints(self) -> float | None:
        complaints = self.count("complaint")
        return self.possible_opt_outs["complaint"] / complaints if complaints else None


def predicted(c: Classification) -> str:
    return str(c.intent)


def measure(rows: list[dict]) -> Figures:
    figures = Figures()
    for row in rows:
        label = row["intent"]
        result = classify(row["text"])
        guess = predicted(result)
        language = row.get("language", "?")
        figures.total += 1
        figures.confusion[(label, guess)] += 1
        figures.by_language[language][(label, guess)] += 1
        if result.possible_opt_out:
            figures.possible_opt_outs[label] += 1
        if guess == "opt_out" and label != "opt_out":
            figures.false_opt_outs[label] += 1
        if row.get("language"):
            figures.language_known += 1
            figures.language_right += result.language == row["language"]
        if label == "complaint":
            if row.get("escalate"):
                figures.escalated += 1
                figures.escalated_found += result.escalate and guess == "complaint"
                figures.reasons[row.get("reason", "?")]["found" if result.escalate else "missed"] += 1
            else:
                figures.ordinary += 1
                figures.false_escalations += result.escalate
                if result.escalate:
                    figures.false_escalation_reasons.update(str(r) for r in result.escalation_reasons or ("?",))
    return figures


def _f(value: float | None) -> str:
    return "  -  " if value is None else f"{value:.3f}"


def report(rows: list[dict], out: TextIO = sys.stdout) -> Figures:
    figures = measure(rows)
    print_figures(figures, out)
    return figures


def print_figures(figures: Figures, out: TextIO = sys.stdout) -> None:
    print(f"{figures.total} texts", file=out)
    print("intent      n     recall  precision", file=out)
    for intent in INTENTS:
        print(
            f"{intent:<10} {figures.count(intent):>4}   {_f(figures.recall(intent))}  {_f(figures.precision(intent))}",
            file=out,
        )
    print("language    n  opt-out (recall)  opt-in  help  complaint", file=out)
    for language in sorted(figures.by_language):
        cells = []
        for intent in INTENTS:
            n = figures.count(intent, language)
            cells.append(f"{figures.by_language[language][(intent, intent)]}/{n}")
        total = sum(figures.by_language[language].values())
        print(
            f"{language:<6} {total:>6}  "
            + "  ".join(f"{c:>8}" for c in cells)
            + f"   ({_f(figures.recall('opt_out', language))})",
            file=out,
        )
    print(f"non-English opt-out recall {_f(figures.non_english_opt_out_recall())}", file=out)
    print(f"opt-outs found or held for an agent (possible opt-out) {_f(figures.opt_out_recall_with_held())}", file=out)
    print(
        f"escalation recall {_f(figures.escalation_recall)} ({figures.escalated_found}/{figures.escalated}); "
        f"false escalations per 100 ordinary complaints {_f(figures.false_escalations_per_100)} "
        f"({figures.false_escalations}/{figures.ordinary})",
        file=out,
    )
    print(
        "escalation by reason: "
        + ", ".join(
            f"{reason} {c['found']}/{c['found'] + c['missed']}" for reason, c in sorted(figures.reasons.items())
        ),
        file=out,
    )
    print(f"read as opt-outs but labelled: {dict(figures.false_opt_outs.most_common())}", file=out)
    print(f"false escalations by the reason given: {dict(figures.false_escalation_reasons.most_common())}", file=out)
    print(
        f"possible opt-out: {dict(figures.possible_opt_outs)}; share of complaints "
        f"{_f(figures.possible_opt_out_share_of_complaints)}",
        file=out,
    )
    if figures.language_known:
        print(f"language detected right {figures.language_right}/{figures.language_known}", file=out)


def load(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


if __name__ == "__main__":
    report(load(Path(sys.argv[1])))
