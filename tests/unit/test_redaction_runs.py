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


@pytest.mark.parametrize(
    "text",
    [
        # a phone number, then the order number on the next line (3-3-4-4: 14 digits that pass Luhn)
        "call me on 415-555-0100\n4406",
        # two UK mobiles on one line (07700 900107 07700 passes Luhn)
        "07700 900107 07700 900456",
        # a reference grouped 4-4-4-5 after a quantity (17 digits that pass Luhn; no card is printed so)
        "Items 2 1234 5678 9012 10007",
    ],
)
def test_numbers_laid_out_unlike_a_card_keep_their_digits_even_when_they_pass_luhn(text):
    assert redact_card_numbers(text) == text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # American Express (4-6-5) and Diners (4-6-4) after a one-digit group
        ("Ref 9 3782 822463 10005", "Ref 9 [card ending 0005]"),
        ("Ref 9 3056 930902 5904", "Ref 9 [card ending 5904]"),
        # a card typed in two halves
        ("card 41111111 11111111", "card [card ending 1111]"),
        # two cards written as a list: both hidden, the list kept
        ("cards 4111 1111 1111 1111, 5555 5555 5555 4444", "cards [card ending 1111], [card ending 4444]"),
        # a 19-digit card typed as its first six digits and the rest, whose last 13 digits pass
        # Luhn on their own: one card, one marker
        ("card 622136 5678901234565", "card [card ending 4565]"),
    ],
)
def test_cards_in_other_layouts_are_hidden_once_each(text, expected):
    assert redact_card_numbers(text) == expected
