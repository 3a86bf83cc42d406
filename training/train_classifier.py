"""Train smsdesk's text model (``make train``): plain Python, a fixed seed, the same file every run.

Reads the labelled corpus kept in the repository (data/classifier/*.jsonl, the shared corpus copies
and our own cases in tests/unit) and writes src/smsdesk/classifier_weights.bin: four multinomial
logistic regressions over the hashed features of smsdesk.text_model:

* ``intent``: opt_out / opt_in / help / complaint, every text;
* ``language``: the language label, texts that carry one;
* ``escalate``: yes / no, complaints;
* ``reason``: legal / payment_dispute / safety / fury / repeat / self_harm / violence, escalated
  complaints.

``--dev`` holds out a fifth of the texts (chosen by a hash of the text, so the split is stable)
and prints the figures on them instead of writing the file; ``--cv`` does so for each fifth in
turn (5-fold cross-validation), and ``--sweep`` measures that cross-validation under the threshold
settings in SWEEP: how the thresholds are chosen. The evaluation sets (tests/evaluation/) are never
read here.
"""

from __future__ import annotations

import argparse
import atexit
import hashlib
import json
import math
import os
import random
import sys
import tempfile
import zlib
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from smsdesk import text_model  # noqa: E402

SOURCES = [
    ROOT / "data/classifier/train-en.jsonl",
    ROOT / "data/classifier/train-multi.jsonl",
    ROOT / "data/classifier/own.jsonl",
    ROOT / "data/classifier/round2.jsonl",
    ROOT / "data/classifier/round3.jsonl",
    ROOT / "data/classifier/round4.jsonl",
    ROOT / "data/classifier/round5.jsonl",
    ROOT / "data/classifier/round6.jsonl",
    ROOT / "tests/unit/classification_cases.jsonl",
    ROOT / "tests/unit/shared_corpus_intents_dev.jsonl",
    ROOT / "tests/unit/shared_corpus_intents_more.jsonl",
]
SEED = 20261125
EPOCHS = 12
L2 = 1e-5
MIN_TEXTS = 3  # (2 until round 3: a third larger file, no better on the development split; decisions 19)
LATIN_LANGUAGES = {"en", "es", "fr", "pt", "de", "it", "tl", "vi"}
PRUNE = 0.002  # weights smaller than this (after training) are dropped: they change no decision


def load(paths: list[Path]) -> list[dict]:
    rows = []
    seen = set()
    for path in paths:
        if not path.exists():
            continue
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            row = json.loads(line)
            key = (row["text"], row["intent"])
            if key in seen:
                continue
            seen.add(key)
            rows.append(row)
    return rows


def corpus_digest(rows: list[dict]) -> str:
    """Of the labelled texts and the training settings: the shipped file records it, and a test
    checks it against the corpus in the repository (weights trained on another corpus fail)."""
    settings = {
        "seed": SEED,
        "epochs": EPOCHS,
        "l2": L2,
        "min_texts": MIN_TEXTS,
        "prune": PRUNE,
        "bits": text_model.FEATURE_BITS,
    }
    payload = json.dumps([settings, rows], sort_keys=True, ensure_ascii=False).encode()
    return hashlib.sha256(payload).hexdigest()


def fold_of(row: dict) -> int:
    """One of five folds, by a hash of the text: the same split every run."""
    return zlib.crc32(row["text"].encode()) % 5


def is_dev(row: dict) -> bool:
    return fold_of(row) == 0


def train_head(examples: list[tuple[dict[int, float], str]], classes: list[str], seed: int) -> dict:
    """Multinomial logistic regression by SGD with AdaGrad steps and L2, in plain Python."""
    k = len(classes)
    index = {c: i for i, c in enumerate(classes)}
    counts = Counter(label for _, label in examples)
    # Balanced class weights, softened: rare classes count more, not overwhelmingly.
    weight_of = {c: (len(examples) / (k * counts[c])) ** 0.5 if counts[c] else 0.0 for c in classes}
    w: dict[int, list[float]] = {}
    g2: dict[int, list[float]] = {}
    bias = [0.0] * k
    bias_g2 = [1e-8] * k
    rng = random.Random(seed)
    order = list(range(len(examples)))
    lr = 0.5
    for _ in range(EPOCHS):
        rng.shuffle(order)
        for i in order:
            feats, label = examples[i]
            y = index[label]
            scores = bias[:]
            for f, v in feats.items():
                row = w.get(f)
                if row is not None:
                    for j in range(k):
                        scores[j] += row[j] * v
            top = max(scores)
            exps = [math.exp(s - top) for s in scores]
            total = sum(exps)
            cw = weight_of[label]
            grads = [(e / total - (1.0 if j == y else 0.0)) * cw for j, e in enumerate(exps)]
            for j in range(k):
                bias_g2[j] += grads[j] ** 2
                bias[j] -= lr * grads[j] / math.sqrt(bias_g2[j])
            for f, v in feats.items():
                row = w.get(f)
                if row is None:
                    row = w[f] = [0.0] * k
                    g2[f] = [1e-8] * k
                acc = g2[f]
                for j in range(k):
                    g = grads[j] * v + L2 * row[j]
                    acc[j] += g * g
                    row[j] -= lr * g / math.sqrt(acc[j])
    rows = {f: ws for f, ws in w.items() if max(abs(x) for x in ws) >= PRUNE}
    return {"classes": classes, "bias": bias, "rows": rows}


def build(rows: list[dict]) -> dict[str, dict]:
    feats = [text_model.features(r["text"]) for r in rows]
    # Features seen in fewer than MIN_TEXTS texts are left out: they cannot generalise, and
    # leaving them out keeps the shipped file small.
    seen = Counter(f for fs in feats for f in fs)
    feats = [{f: v for f, v in fs.items() if seen[f] >= MIN_TEXTS} for fs in feats]
    heads = {}
    intents = ["opt_out", "opt_in", "help", "complaint"]
    heads["intent"] = train_head(
        [(f, r["intent"]) for f, r in zip(feats, rows, strict=True) if r["intent"] in intents], intents, SEED
    )
    # Hangul, Han, Arabic and Cyrillic are told by their script: the model tells the Latin ones apart.
    latin = [(f, r["language"]) for f, r in zip(feats, rows, strict=True) if r.get("language") in LATIN_LANGUAGES]
    heads["language"] = train_head(latin, sorted({language for _, language in latin}), SEED + 1)
    complaints = [(f, r) for f, r in zip(feats, rows, strict=True) if r["intent"] == "complaint"]
    heads["escalate"] = train_head(
        [(f, "yes" if r.get("escalate") else "no") for f, r in complaints], ["no", "yes"], SEED + 2
    )
    reasons = sorted({r["reason"] for _, r in complaints if r.get("escalate") and r.get("reason")})
    heads["reason"] = train_head(
        [(f, r["reason"]) for f, r in complaints if r.get("escalate") and r.get("reason")], reasons, SEED + 3
    )
    return heads


def _use_weights(data: bytes) -> None:
    # One file per process, outside the repository: runs side by side do not mix.
    scratch = Path(tempfile.gettempdir()) / f"smsdesk-dev-weights-{os.getpid()}.bin"
    if not scratch.exists():
        atexit.register(scratch.unlink, missing_ok=True)
    scratch.write_bytes(data)
    text_model.WEIGHTS_FILE = scratch
    text_model.heads.cache_clear()


def cross_validate(rows: list[dict]) -> int:
    """Each fifth of the corpus read by a model trained on the other four; the figures summed."""
    from training.figures import Figures, measure, print_figures

    total = Figures()
    for fold in range(5):
        _use_weights(text_model.encode(build([r for r in rows if fold_of(r) != fold])))
        total.add(measure([r for r in rows if fold_of(r) == fold]))
    print(f"5-fold cross-validation over {len(rows)} texts")
    print_figures(total, out=sys.stdout)
    return 0


# Threshold settings compared by ``--sweep`` (names of smsdesk.classification's constants).
SWEEP = [
    {},
    {"OPT_OUT_SURE": 0.5},
    {"OPT_OUT_SURE": 0.4},
    {"OPT_OUT_SURE": 0.35},
    {"OPT_OUT_SURE_SHORT": 0.5},
    {"OPT_OUT_SURE_SHORT": 0.55},
    {"OPT_OUT_SURE_SHORT": 0.65},
    {"OPT_OUT_SURE_SHORT": 0.7},
    {"OPT_OUT_POSSIBLE": 0.25},
    {"HELP_SURE": 0.4, "OPT_IN_SURE": 0.4},
    {"ESCALATE_SURE": 0.5},
    {"ESCALATE_SURE": 0.55},
    {"ESCALATE_SURE": 0.65},
    {"RULE_CONFIRM": 0.1},
    {"RULE_CONFIRM": 0.3},
    {"RULE_CONFIRM": 0.5},
]


def _print_errors(rows: list[dict]) -> None:
    """The texts of ``rows`` read wrong (intent, escalation, or held as a possible opt-out)."""
    from smsdesk.classification import classify

    for row in rows:
        c = classify(row["text"])
        wrong_escalation = row["intent"] == "complaint" and c.escalate != bool(row.get("escalate"))
        if str(c.intent) != row["intent"] or wrong_escalation or c.possible_opt_out:
            print(
                json.dumps(
                    {
                        "label": row["intent"],
                        "got": str(c.intent),
                        "p": c.confidence,
                        "esc": [row.get("reason"), [str(r) for r in c.escalation_reasons]],
                        "possible": c.possible_opt_out,
                        "text": row["text"],
                    },
                    ensure_ascii=False,
                )
            )


def sweep(rows: list[dict], errors: bool = False) -> int:
    """The cross-validation's five models trained once, then the folds measured under each
    threshold setting in SWEEP: how the thresholds are chosen (never on an evaluation set)."""
    from smsdesk import classification
    from training.figures import Figures, measure, print_figures

    # The five models are kept (outside the repository, by the corpus's digest): a second sweep over
    # the same corpus compares other thresholds without training again.
    cache = Path(tempfile.gettempdir()) / f"smsdesk-cv-{corpus_digest(rows)[:16]}"
    cache.mkdir(exist_ok=True)
    models = []
    for fold in range(5):
        kept = cache / f"fold{fold}.bin"
        if not kept.exists():
            kept.write_bytes(text_model.encode(build([r for r in rows if fold_of(r) != fold])))
        models.append(kept.read_bytes())
    shipped = {name: getattr(classification, name) for setting in SWEEP for name in setting}
    print(f"5-fold cross-validation over {len(rows)} texts, thresholds as shipped unless named")
    print(
        "setting | opt-out recall / precision | found or held | opt-in / HELP recall | escalation recall | "
        "false escalations per 100 | complaints held"
    )
    for setting in SWEEP:
        for name, value in {**shipped, **setting}.items():
            setattr(classification, name, value)
        total = Figures()
        for fold, model in enumerate(models):
            _use_weights(model)
            total.add(measure([r for r in rows if fold_of(r) == fold]))
        print(
            f"{setting or 'shipped'} | {total.recall('opt_out'):.3f} / {total.precision('opt_out'):.3f} | "
            f"{total.opt_out_recall_with_held():.3f} | {total.recall('opt_in'):.3f} / {total.recall('help'):.3f} | "
            f"{total.escalation_recall:.3f} | {total.false_escalations_per_100:.2f} | "
            f"{total.possible_opt_out_share_of_complaints:.3f}",
            flush=True,
        )
    for name, value in shipped.items():
        setattr(classification, name, value)
    # The shipped setting on the texts from before this round's corpus file and on its own texts:
    # the same texts as the earlier rounds' cross-validation, so the figures compare.
    earlier = {r["text"] for r in load([path for path in SOURCES if path.name != "round6.jsonl"])}
    for name, part in (("before round 6", True), ("round 6's own texts", False)):
        total = Figures()
        for fold, model in enumerate(models):
            _use_weights(model)
            total.add(measure([r for r in rows if fold_of(r) == fold and (r["text"] in earlier) == part]))
        print(f"shipped thresholds, {name}:")
        print_figures(total, out=sys.stdout)
    if errors:
        for fold, model in enumerate(models):
            _use_weights(model)
            _print_errors([r for r in rows if fold_of(r) == fold])
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dev", action="store_true", help="train on 4/5, print figures on the other 1/5")
    parser.add_argument("--errors", action="store_true", help="with --dev or --sweep: list the texts read wrong")
    parser.add_argument("--cv", action="store_true", help="5-fold cross-validation: each fold measured by the others")
    parser.add_argument("--sweep", action="store_true", help="the cross-validation under several threshold settings")
    parser.add_argument("--output", type=Path, default=text_model.WEIGHTS_FILE)
    args = parser.parse_args()
    rows = load(SOURCES)
    if args.cv:
        return cross_validate(rows)
    if args.sweep:
        return sweep(rows, errors=args.errors)
    if args.dev:
        train = [r for r in rows if not is_dev(r)]
        dev = [r for r in rows if is_dev(r)]
        _use_weights(text_model.encode(build(train)))
        from training.figures import report

        print(f"trained on {len(train)}, measured on {len(dev)} (the development split)")
        report(dev, out=sys.stdout)
        if args.errors:
            _print_errors(dev)
        return 0
    data = text_model.encode(build(rows), {"corpus_sha256": corpus_digest(rows), "texts": len(rows)})
    args.output.write_bytes(data)
    print(f"{len(rows)} texts -> {args.output} ({len(data) / 1024:.0f} KiB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
