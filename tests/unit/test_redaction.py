import pytest
from hypothesis import given
from hypothesis import strategies as st

from smsdesk.redaction import contains_card_number, luhn_valid, redact_card_numbers

VISA = "4111111111111111"
MASTERCARD = "5555555555554444"
AMEX = "378282246310005"  # 15 digits
DINERS_14 = "30569309025904"  # 14 digits


def luhn_complete(prefix: str) -> str:
    for check in "0123456789":
        if luhn_valid(prefix + check):
            return prefix + check
    raise AssertionError


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"my card {VISA} was charged twice", "my card [card ending 1111] was charged twice"),
        ("card 4111 1111 1111 1111 pls", "card [card ending 1111] pls"),
        ("5555-5555-5555-4444", "[card ending 4444]"),
        (f"amex {AMEX}.", "amex [card ending 0005]."),
        (f"diners {DINERS_14}", "diners [card ending 5904]"),
        # an order number next to a card, in one run of digit groups
        ("order 4432 4111 1111 1111 1111 arrived broken", "order 4432 [card ending 1111] arrived broken"),
    ],
)
def test_card_numbers_are_replaced_keeping_the_last_four(text, expected):
    assert redact_card_numbers(text) == expected


def test_nineteen_digit_cards_are_found():
    card = luhn_complete("621234567890123456")
    assert len(card) == 19
    assert redact_card_numbers(f"unionpay {card}") == f"unionpay [card ending {card[-4:]}]"


@pytest.mark.parametrize(
    "text",
    [
        "order 5521 was late",
        "call me on 4155550100",
        "tracking 12345678901234 is stuck",  # 14 digits, fails Luhn
        "4111 1111 1111 1112",  # fails Luhn
        "411111111111",  # 12 digits: too short for a card
        "",
    ],
)
def test_numbers_that_are_not_cards_are_kept(text):
    assert redact_card_numbers(text) == text
    assert not contains_card_number(text)


def test_unicode_digits_are_redacted_too():
    fullwidth = "".join(chr(0xFF10 + int(d)) for d in VISA)
    assert "[card ending" in redact_card_numbers(f"card {fullwidth}")


@given(st.text(max_size=200))
def test_redaction_never_leaves_a_luhn_valid_run_of_13_to_19_digits(text):
    redacted = redact_card_numbers(text)
    run = ""
    for ch in redacted + " ":
        if ch.isdigit():
            run += ch
            continue
        if 13 <= len(run) <= 19:
            assert not luhn_valid(run), redacted
        run = ""


@given(st.integers(min_value=10**12, max_value=10**19 - 1))
def test_any_luhn_valid_number_is_redacted(number):
    digits = luhn_complete(str(number)[:-1])
    if 13 <= len(digits) <= 19:
        assert digits not in redact_card_numbers(f"x {digits} y")
