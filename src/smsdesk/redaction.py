"""Card numbers never reach storage, logs, events, agents or another phone.

A card number (PAN) is 13 to 19 digits that pass the Luhn check, written whole or in groups. This
one function is used for every text that enters smsdesk (inbound texts, agent replies and notes),
for every text that leaves it (the send gateway), for what agents are shown and for log lines.
The redaction keeps the last four digits ("[card ending 1111]"), which PCI DSS allows to display
and which an agent needs to know which card a customer means.

How people write a card number: ``4111111111111111``, ``4111 1111 1111 1111``, with dashes of
any kind (``-``, en and em dashes, the minus sign), dots, commas, double spaces, no-break spaces,
or a line break between groups. Between two digit groups a separator is one to three of those
characters; a comma next to a space (``1234, 5678``) is how lists are written, and ends the run.

Inside a run of digit groups a card number is either a whole group of 13-19 digits, or
consecutive groups laid out as cards are printed (4-4-4-4, 4-4-4-1..3, 4-4-4-4-1..3, Amex 4-6-5,
Diners 4-6-4), or the whole run when every group has at least four digits (``4111 1111
11111111``). Phone numbers (3-3-4, 2-4-4, 5-6...) and short order numbers are not card layouts,
so "call 415-555-0100, order 4432" keeps its digits; "order 4432 4111 1111 1111 1111" has a card
after its order number. A long number laid out like a card that passes Luhn is redacted: that is
the safe error.
"""

from __future__ import annotations

import re

_MIN, _MAX = 13, 19
# Spaces of every kind (\s: space, tab, newline, no-break and thin spaces), dots, commas, and
# dashes of every kind (hyphen, non-breaking hyphen, figure/en/em dashes, minus sign...).
_SEPARATOR_CHARS = r"\s.,\-\u2010-\u2015\u2212\ufe58\ufe63\uff0d"
_RUN = re.compile(rf"(?<!\d)\d+(?:[{_SEPARATOR_CHARS}]{{1,3}}\d+)*(?!\d)")
_GROUP = re.compile(r"\d+")
_LIST_COMMA = re.compile(r",\s|\s,")
# Group lengths of printed card numbers (the last group of 4-4-4-... may be short).
_LAYOUTS = {(4, 6, 5), (4, 6, 4)}


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


def _card_layout(lengths: tuple[int, ...]) -> bool:
    if lengths in _LAYOUTS:
        return True
    *whole, last = lengths
    return len(whole) >= 3 and all(n == 4 for n in whole) and 1 <= last <= 4


def _card_spans(groups: list[re.Match[str]]) -> list[tuple[int, int, str]]:
    """(start, end, digits) of card numbers among consecutive digit groups, non-overlapping,
    earliest and longest first."""
    found: list[tuple[int, int, str]] = []
    taken = [False] * len(groups)
    lengths = [len(g.group(0)) for g in groups]
    every_group_long = len(groups) > 1 and min(lengths) >= 4
    for first in range(len(groups)):
        for last in range(len(groups) - 1, first - 1, -1):
            if any(taken[first : last + 1]):
                continue
            span = tuple(lengths[first : last + 1])
            digits = "".join(g.group(0) for g in groups[first : last + 1])
            if not _MIN <= len(digits) <= _MAX or not luhn_valid(digits):
                continue
            whole_run = first == 0 and last == len(groups) - 1 and every_group_long
            if len(span) == 1 or _card_layout(span) or whole_run:
                found.append((groups[first].start(), groups[last].end(), digits))
                for k in range(first, last + 1):
                    taken[k] = True
                break
    return found


def _split_lists(run: str) -> list[tuple[int, str]]:
    """A run cut where a comma sits next to a space (a list, not a card): (offset, part)."""
    parts, cursor = [], 0
    for comma in _LIST_COMMA.finditer(run):
        parts.append((cursor, run[cursor : comma.start()]))
        cursor = comma.end()
    parts.append((cursor, run[cursor:]))
    return parts


def redact_card_numbers(text: str) -> str:
    """Replace every card number in ``text`` with "[card ending NNNN]"."""

    def replace_run(match: re.Match[str]) -> str:
        run = match.group(0)
        spans = []
        for offset, part in _split_lists(run):
            groups = list(_GROUP.finditer(part))
            spans += [(offset + start, offset + end, digits) for start, end, digits in _card_spans(groups)]
        if not spans:
            return run
        out, cursor = [], 0
        for start, end, digits in sorted(spans):
            out.append(run[cursor:start])
            out.append(f"[card ending {digits[-4:]}]")
            cursor = end
        out.append(run[cursor:])
        return "".join(out)

    return _RUN.sub(replace_run, text)


def contains_card_number(text: str) -> bool:
    return redact_card_numbers(text) != text
