"""Short, human-friendly conversation references: ``C-7F3K``.

Four characters from an alphabet without look-alikes (no 0/O, 1/I/L, U) give 810,000 codes,
said easily over the phone. A new conversation's reference is claimed with a conditional write;
on a collision the caller asks again, and after two collisions the codes grow a character.
"""

from __future__ import annotations

import secrets

ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"
PREFIX = "C-"


def new_reference(collisions: int = 0) -> str:
    length = 4 if collisions < 2 else 5 + (collisions - 2) // 2
    return PREFIX + "".join(secrets.choice(ALPHABET) for _ in range(length))


def looks_like_reference(text: str) -> bool:
    body = text.removeprefix(PREFIX)
    return text.startswith(PREFIX) and 4 <= len(body) <= 8 and all(c in ALPHABET for c in body)


def normalise_reference(text: str) -> str:
    """What an agent typed, as a reference: trimmed and upper-cased ("c-7f3k" is C-7F3K)."""
    return (text or "").strip().upper()
