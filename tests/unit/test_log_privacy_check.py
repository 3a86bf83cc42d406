"""The suite-wide privacy check (tests/support/privacy.py) is not vacuous: it fails a test whose
output leaks a number, and only then."""

from pathlib import Path

import pytest

from tests.support.privacy import leaks

ROOT = Path(__file__).resolve().parents[2]

pytest_plugins = ["pytester"]


@pytest.mark.parametrize(
    "line",
    [
        '{"level":"INFO","message":"text received","from":"+12125550123"}',
        "POST body From=%2B12125550123&Body=hi",
        "GET /customers/+447700900123/opt-out",
        "You charged my card 4111 1111 1111 1111 twice",
        "card 4111-1111-1111-1111.",
        "order 4432 4111111111111111",
    ],
)
def test_a_leak_is_found(line):
    assert leaks(line)


@pytest.mark.parametrize(
    "line",
    [
        '{"level":"INFO","message":"text received","from":"+1******0123"}',
        '{"_aws":{"Timestamp":1795532400000,"CloudWatchMetrics":[]}}',  # EMF: epoch milliseconds
        "message_sid SM00000000000000000000000000000001",
        "function_request_id 12345678-1234-1234-ab12-1234567890ab",
        "event_id 17a6978cdb8e4a1c9f0b3c63a358da2f",
        "You charged my card [card ending 1111] twice",
        "order 4432 shipped 2026-11-23T15:00:00.000Z",
    ],
)
def test_what_is_not_a_leak_is_left_alone(line):
    assert leaks(line) == []


def test_a_test_whose_output_leaks_a_number_fails_and_the_number_is_not_repeated(pytester, monkeypatch):
    pytester.makepyfile(
        test_inner="""
        import logging
        import pytest

        def test_prints_a_number():
            print("text from +12125550123")

        def test_logs_a_card_number():
            logging.getLogger("anything").warning("card 4111 1111 1111 1111")

        def test_masked_output_passes():
            print("text from +1******0123, card [card ending 1111]")

        def test_the_smsdesk_logger_masks_what_it_is_given():
            from smsdesk.observability import build_logger

            build_logger("privacy-check").info("text received", extra={"from": "+12125550123"})

        @pytest.fixture
        def leaky_teardown():
            yield
            print("goodbye +12125550123")

        def test_a_leak_at_teardown(leaky_teardown):
            pass
        """
    )
    # In a process of its own: the inner tests' log records must not reach this test's capture.
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    result = pytester.runpytest_subprocess("-p", "tests.support.privacy", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=3, failed=2, errors=1)
    output = result.stdout.str()
    assert "privacy: the captured output has an unmasked number" in output
    assert "+12125550123" not in output and "4111 1111 1111 1111" not in output
