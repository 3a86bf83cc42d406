"""Card numbers never reach storage, logs or events.

A card number (PAN) is 13 to 19 digits, possibly grouped with spaces or dashes, that passes the
Luhn check. Inbound texts and agent replies are redacted before anything else touches them; the
redaction keeps the last four digits ("[card ending 1111]"), which PCI DSS allows to display and
which an agent needs to know which card a customer means.

Longer digit runs are searched for an embedded card number too ("order 4432 4111 1111 1111 1111"):
over-redacting an order number that happens to pass Luhn is the safe error.
"""

from __future__ import annotations

import re

# A run of digits with single spaces/dashes between them, at least 13 digits long.
_DIGIT_RUN = re.compile(r"(?<!\d)\d(?:[ \-]?\d){12,}(?!\d)")
_MIN, _MAX = 13, 19


def luhn_valid(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def _card_spans(run: str) -> list[tuple[int, int, str]]:
    """(start, end, digits) of card numbers inside one digit run, longest first, non-overlapping."""
    positions = [i for i, c in enumerate(run) if c.isdigit()]
    digits = "".join(run[i] for i in positions)
    group_starts = {0} | {k for k in range(1, len(positions)) if positions[k] != positions[k - 1] + 1}
    found: list[tuple[int, int, str]] = []
    taken = [False] * len(digits)
    for length in range(min(_MAX, len(digits)), _MIN - 1, -1):
        # A card number is written ungrouped (the whole run) or grouped (it starts a group).
        for start in sorted(group_starts):
            end = start + length
            if end > len(digits) or any(taken[start:end]):
                continue
            candidate = digits[start:end]
            if luhn_valid(candidate):
                found.append((positions[start], positions[end - 1] + 1, candidate))
                for k in range(start, end):
                    taken[k] = True
    return found


def redact_card_numbers(text: str) -> str:
    """Replace every card number in ``text`` with "[card ending NNNN]"."""

    def replace_run(match: re.Match[str]) -> str:
        run = match.group(0)
        spans = sorted(_card_spans(run))
        if not spans:
            return run
        out, cursor = [], 0
        for start, end, digits in spans:
            out.append(run[cursor:start])
            out.append(f"[card ending {digits[-4:]}]")
            cursor = end
        out.append(run[cursor:])
        return "".join(out)

    return _DIGIT_RUN.sub(replace_run, text)


def contains_card_number(text: str) -> bool:
    return redact_card_numbers(text) != text
