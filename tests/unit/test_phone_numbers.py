import pytest

from smsdesk.phone_numbers import is_e164, mask, mask_in_text


@pytest.mark.parametrize("number", ["+14155550100", "+447911123456", "+5511987654321"])
def test_e164_numbers_are_accepted(number):
    assert is_e164(number)


@pytest.mark.parametrize(
    "number", ["14155550100", "+0155550100", "+1415", "+1 415 555 0100", "whatsapp:+14155550100", ""]
)
def test_anything_else_is_not_e164(number):
    assert not is_e164(number)


def test_masking_keeps_the_country_and_the_last_four_digits():
    assert mask("+14155550100") == "+1******0100"
    assert mask("+447911123456") == "+44******3456"


def test_numbers_inside_log_text_are_masked():
    line = '{"from": "+14155550100", "note": "call (415) 555-0199 or 415.555.0123"}'
    masked = mask_in_text(line)
    for raw in ("4155550100", "555-0199", "555.0123"):
        assert raw not in masked
    assert "0100" in masked and "0199" in masked


def test_dates_and_ids_are_not_mistaken_for_numbers():
    line = '{"timestamp": "2026-11-22T15:04:05.123Z", "reference": "C-7F3K", "count": 2024}'
    assert mask_in_text(line) == line
