"""How many SMS segments a text costs, the way carriers (and Twilio) count them.

A text made only of GSM-7 characters is sent 7-bit: 160 characters in one segment, 153 per
segment when split (the rest carries the concatenation header). Characters of the GSM-7
extension table (``^{}\\[~]|€`` and form feed) take two. One character outside GSM-7 (an emoji, a
curly quote, "ł") switches the whole text to UCS-2: 70 UTF-16 code units in one segment, 67 per
segment when split; characters outside the BMP (most emoji) take two code units.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")


class Encoding(StrEnum):
    GSM7 = "GSM-7"
    UCS2 = "UCS-2"


@dataclass(frozen=True, slots=True)
class SegmentCount:
    encoding: Encoding
    units: int  # septets for GSM-7, UTF-16 code units for UCS-2
    segments: int


def encoding_of(text: str) -> Encoding:
    if all(ch in GSM7_BASIC or ch in GSM7_EXTENSION for ch in text):
        return Encoding.GSM7
    return Encoding.UCS2


def count_segments(text: str) -> SegmentCount:
    if encoding_of(text) is Encoding.GSM7:
        units = sum(2 if ch in GSM7_EXTENSION else 1 for ch in text)
        single, multi = 160, 153
        encoding = Encoding.GSM7
    else:
        units = len(text.encode("utf-16-le")) // 2
        single, multi = 70, 67
        encoding = Encoding.UCS2
    segments = (1 if units else 0) if units <= single else -(-units // multi)
    return SegmentCount(encoding, units, segments)


def non_gsm_characters(text: str) -> str:
    """The characters that force UCS-2, in order of appearance, without repeats."""
    seen: dict[str, None] = {}
    for ch in text:
        if ch not in GSM7_BASIC and ch not in GSM7_EXTENSION:
            seen.setdefault(ch)
    return "".join(seen)


# Twilio Smart Encoding's replacements (its published list, the common part): look-alikes whose
# GSM-7 stand-in reads the same. Accented letters are not touched: dropping an accent changes the
# spelling (Spanish "día", Vietnamese everything), so texts in those languages stay UCS-2.
_SMART_ENCODING = str.maketrans(
    {
        "\u00ab": '"',
        "\u00bb": '"',
        "\u201c": '"',
        "\u201d": '"',
        "\u201f": '"',
        "\uff02": '"',
        "\u2018": "'",
        "\u2019": "'",
        "\u201b": "'",
        "\u02bc": "'",
        "\uff07": "'",
        "\u00b4": "'",
        "\u2010": "-",
        "\u2011": "-",
        "\u2012": "-",
        "\u2013": "-",
        "\u2014": "-",
        "\u2015": "-",
        "\u2026": "...",
        "\u00a0": " ",
        "\u2002": " ",
        "\u2003": " ",
        "\u2009": " ",
        "\u200a": " ",
        "\u202f": " ",
        "\u2022": "-",
        "\u2032": "'",
        "\u2033": '"',
        "\uff0c": ",",
        "\uff1a": ":",
        "\uff1b": ";",
        "\uff08": "(",
        "\uff09": ")",
    }
)


def smart_encode(text: str) -> str:
    """Replace typographic look-alikes with their GSM-7 equivalents, as Twilio's Smart Encoding
    does, but only when that makes the whole text GSM-7 (a Chinese text keeps its full-width
    punctuation: it is UCS-2 either way)."""
    replaced = text.translate(_SMART_ENCODING)
    return replaced if encoding_of(replaced) is Encoding.GSM7 else text
