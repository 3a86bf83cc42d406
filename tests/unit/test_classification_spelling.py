"""Misspellings are corrected only into words they are one slip away from (classification's
``_spell``): a correct word that merely shares letters with a keyword word stays what it is."""

import pytest

from smsdesk.classification import Intent, classify


@pytest.mark.parametrize(
    "text",
    [
        "I got the reminders again even though my order arrived",
        "Why did I get the reminders again",
    ],
)
def test_a_complaint_about_reminders_coming_again_is_not_a_subscription(text):
    # "reminders" is two letters from "subscribe" everywhere: read as "subscribe again", the
    # customer complaining would be signed up again instead of heard
    assert classify(text).intent is Intent.COMPLAINT
