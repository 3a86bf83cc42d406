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


@pytest.mark.parametrize(
    "written",
    [
        "4111.1111.1111.1111",
        "4111  1111  1111  1111",  # double spaces
        "4111\n1111\n1111\n1111",  # one group a line
        "4111\u00a01111\u00a01111\u00a01111",  # no-break spaces
        "4111\u202f1111\u20091111\t1111",  # narrow no-break, thin space, tab
        "4111\u20131111\u20131111\u20131111",  # en dashes
        "4111\u20141111\u22121111\u20101111",  # em dash, minus sign, hyphen
        "4111,1111,1111,1111",
        "4111 - 1111 - 1111 - 1111",
        "4111 1111 11111111",  # an odd grouping, standing alone
    ],
)
def test_card_numbers_are_found_whatever_separates_their_groups(written):
    assert redact_card_numbers(f"my card {written} was charged twice") == (
        "my card [card ending 1111] was charged twice"
    )


@pytest.mark.parametrize(
    ("layout", "prefix"),
    [
        ((4, 4, 4, 1), "411111111111"),
        ((4, 6, 5), "37828224631000"),
        ((4, 6, 4), "3056930902590"),
        ((4, 4, 4, 4, 3), "621234567890123456"),
        ((4, 4, 4, 4, 1), "6212345678901234"),
    ],
)
def test_every_printed_layout_from_13_to_19_digits_is_found(layout, prefix):
    digits = luhn_complete(prefix)
    groups, cursor = [], 0
    for size in layout:
        groups.append(digits[cursor : cursor + size])
        cursor += size
    assert redact_card_numbers("card " + "-".join(groups)) == f"card [card ending {digits[-4:]}]"


@pytest.mark.parametrize(
    "text",
    [
        "call me on 415-555-0100 or 415.555.0199",
        "my numbers are 415-555-0100, 415-555-0199",
        "+1 415 555 0100\n+1 212 555 0142",
        "07700 900123, 07700 900456",
        "orders 4432, 5521, 6610, 7734 were all late",
        "order 4432-5521 arrived on 2026-11-23 at 11:30",
        "ref 12.34.56.78 and 2026.11.23",
    ],
)
def test_phone_numbers_order_numbers_and_dates_are_kept(text):
    assert redact_card_numbers(text) == text


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


def test_agents_are_never_shown_a_card_number_even_one_stored_before_this_redaction():
    from datetime import UTC, datetime

    from smsdesk.agent_views import message_view
    from smsdesk.table import Message

    now = datetime(2026, 11, 23, tzinfo=UTC)
    stored = Message(
        "CONVERSATION#C-7F3K",
        "MESSAGE#in-1",
        key="in-1",
        direction="inbound",
        customer="+14155550100",
        body="card 4111.1111.1111.1111 twice",
        purpose="complaint",
        author="customer",
        created_at=now,
        updated_at=now,
        status="received",
    )
    assert message_view(stored)["body"] == "card [card ending 1111] twice"
