"""Phone numbers as smsdesk sees them: E.164 strings, validated cheaply and masked for logs.

Time zones for a number live in :mod:`smsdesk.time_zones` (they need the phonenumbers
metadata, which is too heavy for the webhook's cold start).
"""

from __future__ import annotations

import re

_E164 = re.compile(r"\+[1-9]\d{6,14}")
# Anything in free text that looks like a phone number: +E.164, or a 10/11-digit NANP number
# written with the usual separators. Used only to scrub log lines.
PHONE_IN_TEXT = re.compile(
    r"(?<![\w*])\+[1-9]\d{6,14}(?!\d)"
    r"|(?<![\w*+])(?:1[ .-]?)?\(?[2-9]\d{2}\)?[ .-]?[2-9]\d{2}[ .-]?\d{4}(?!\d)"
)


def is_e164(number: str) -> bool:
    return bool(_E164.fullmatch(number))


def mask(number: str) -> str:
    """'+14155550100' -> '+1******0100': the country code and the last four digits."""
    digits = re.sub(r"\D", "", number)
    if len(digits) < 8:
        return "*" * len(number)
    if not number.startswith("+"):
        return "*" * (len(digits) - 4) + digits[-4:]
    country = digits[0] if digits[0] in "17" else digits[:2]
    hidden = len(digits) - len(country) - 4
    return f"+{country}{'*' * hidden}{digits[-4:]}"


def mask_in_text(text: str) -> str:
    """Mask every phone number that appears in free text (the log safety net)."""
    return PHONE_IN_TEXT.sub(lambda m: mask(m.group(0)), text)


def e164_from_agent(text: str, default_region: str = "US") -> str | None:
    """A number an agent typed (E.164, or national format in ``default_region``) as E.164, or
    None if it is not a possible phone number. phonenumbers is imported here, on first use."""
    import phonenumbers

    try:
        number = phonenumbers.parse((text or "").strip(), default_region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number) or not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
