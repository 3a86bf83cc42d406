"""Card numbers inside longer runs of digit groups: what a customer types around a card number
(a reference, a second card, the expiry) keeps its shape, and only the card is hidden."""

import pytest

from smsdesk.redaction import redact_card_numbers


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # a one-digit group before the card (a quantity, a line number)
        ("Ref 9 4111 1111 1111 1111", "Ref 9 [card ending 1111]"),
        # two cards typed one after the other: both hidden
        ("Cards 4111 1111 1111 1111 5555 5555 5555 4444 both", "Cards [card ending 1111] [card ending 4444] both"),
        # a 13-digit card, then a 16-digit one, in one run: both hidden
        ("Cards 4222222222222 4111 1111 1111 1111 ok", "Cards [card ending 2222] [card ending 1111] ok"),
        # the expiry typed right after the card keeps its space
        ("Card 4111 1111 1111 1111 0925 exp", "Card [card ending 1111] 0925 exp"),
    ],
)
def test_only_the_card_in_a_run_of_digit_groups_is_hidden(text, expected):
    assert redact_card_numbers(text) == expected


def test_a_twelve_digit_number_that_passes_luhn_is_not_taken_for_a_card():
    # 411111111117 passes the Luhn check but is too short for a card; the run is 13 digits long.
    assert redact_card_numbers("Order 4111 1111 1117 5 boxes") == "Order 4111 1111 1117 5 boxes"
