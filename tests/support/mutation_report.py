"""The mutation score per module, from mutmut's results in mutants/ (``make mutate`` prints it).

A mutant is *caught* when a test failed (killed) or it ran past mutmut's time limit (a mutant
that loops forever is noticed too). Survivors that are equivalent (the change cannot alter
behaviour) are named in docs/decisions.md, "Mutation testing", each with its reason: they are
left out of the score. Those named there after "Caught when planted by hand" (code that runs
only at import, before mutmut switches a mutant on) count as caught; those after "Survivors that
are **not** equivalent" count against the score. Run: ``python -m tests.support.mutation_report``.
"""

from __future__ import annotations

import json
import re
import sys
from collections import Counter
from pathlib import Path

from mutmut.stats import status_by_exit_code

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "mutants" / "src" / "smsdesk"
DECISIONS = ROOT / "docs" / "decisions.md"
TARGET = 95.0
BY_HAND = "Caught when planted by hand"
NOT_EQUIVALENT = "Survivors that are **not** equivalent"
CAUGHT = {"killed", "timeout", "caught by type check", "segfault"}


def named_mutants() -> tuple[set[str], set[str]]:
    """The mutant names docs/decisions.md records (in its mutation-testing section) as equivalent,
    and as caught when planted by hand."""
    text = DECISIONS.read_text(encoding="utf-8")
    section = re.search(r"^## [^\n]*Mutation testing[^\n]*\n(.*?)(?=^## |\Z)", text, re.MULTILINE | re.DOTALL)
    if section is None:
        return set(), set()
    named = section.group(1).split(NOT_EQUIVALENT, 1)[0]  # the survivors after it are not equivalent
    equivalent, _, by_hand = named.partition(BY_HAND)

    def names(part: str) -> set[str]:
        return set(re.findall(r"`(smsdesk\.[^`\s]+__mutmut_\d+)`", part))

    return names(equivalent), names(by_hand)


def main() -> int:
    equivalent, by_hand = named_mutants()
    rows, survivors, unchecked_modules = [], [], []
    caught_by_hand = 0
    for meta in sorted(RESULTS.glob("*.py.meta")):
        module = "smsdesk." + meta.name.removesuffix(".py.meta")
        results = json.loads(meta.read_text())["exit_code_by_key"]
        statuses = {name: status_by_exit_code[code] for name, code in results.items()}
        counts = Counter(statuses.values())
        checked = len(statuses) - counts["not checked"]
        if checked == 0:
            unchecked_modules.append(module)
            continue
        hand = [n for n, s in statuses.items() if s == "survived" and n in by_hand]
        lost = sorted(
            n for n, s in statuses.items() if s not in CAUGHT | {"not checked"} and n not in equivalent | by_hand
        )
        named_equivalent = [n for n, s in statuses.items() if s == "survived" and n in equivalent]
        caught = sum(counts[s] for s in CAUGHT) + len(hand)
        caught_by_hand += len(hand)
        score = 100.0 * caught / (checked - len(named_equivalent)) if checked > len(named_equivalent) else 100.0
        rows.append((module, len(statuses), checked, caught, len(named_equivalent), len(lost), score))
        survivors += [(n, statuses[n]) for n in lost]

    print(f"{'module':34} {'mutants':>7} {'checked':>7} {'caught':>6} {'equiv.':>6} {'left':>5} {'score':>7}")
    for module, total, checked, caught, equivalents, left, score in rows:
        flag = "" if score >= TARGET else f"  < {TARGET:.0f}%"
        if checked < total:
            flag += f"  (partly run: {total - checked} not checked yet)"
        print(f"{module:34} {total:7} {checked:7} {caught:6} {equivalents:6} {left:5} {score:6.1f}%{flag}")
    if caught_by_hand:
        print(f"caught includes {caught_by_hand} run only at import, caught when planted by hand (decisions 21)")
    if unchecked_modules:
        print("not run yet:", ", ".join(unchecked_modules))
    if survivors:
        print(f"\n{len(survivors)} mutants no test caught (mutmut show NAME prints the change):")
        for name, status in survivors:
            print(f"  {name}  ({status})")
    return 0 if all(row[-1] >= TARGET for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
