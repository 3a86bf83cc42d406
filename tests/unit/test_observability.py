"""What the functions write to CloudWatch through Powertools: one JSON log line per call with the
keys operators query (and no number unmasked), and CloudWatch EMF metrics after each invocation."""

import itertools
import json
import logging
import re

import pytest

from smsdesk.errors import ConfigurationError
from smsdesk.observability import build_logger, build_metrics
from smsdesk_local.functions import LambdaContext

_services = itertools.count()


@pytest.fixture
def environ(monkeypatch):
    # a service of its own per test: a logger is per process and service, as in Lambda
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", f"inbound-sms-{next(_services)}")
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "smsdesk")
    monkeypatch.setenv("POWERTOOLS_LOG_LEVEL", "INFO")
    monkeypatch.delenv("_X_AMZN_TRACE_ID", raising=False)
    # a fresh execution environment per test: Powertools keeps "cold start" per process
    monkeypatch.setattr("aws_lambda_powertools.logging.logger.is_cold_start", True)


def lines(capsys) -> list[dict]:
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def test_a_log_line_is_json_with_the_invocation_and_no_number_unmasked(environ, capsys):
    logger = build_logger()

    @logger.inject_lambda_context(clear_state=True)
    def handler(event, context):
        logger.info("text received", extra={"from": "+12125550123", "intent": None, "body": "card 4111 1111 1111 1111"})

    context = LambdaContext("InboundSmsFunction")
    handler({}, context)

    [line] = lines(capsys)
    assert list(line)[:5] == ["level", "location", "message", "timestamp", "service"]
    assert line["level"] == "INFO" and line["message"] == "text received"
    assert line["location"].startswith("handler:")
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}\+0000", line["timestamp"])
    assert line["service"].startswith("inbound-sms-")
    assert line["cold_start"] is True
    assert (line["function_name"], line["function_request_id"]) == ("InboundSmsFunction", context.aws_request_id)
    assert line["from"] == "+1******0123"
    assert line["body"] == "card [card ending 1111]"
    assert "intent" not in line  # None is left out


def test_cold_start_is_true_once_and_keys_do_not_outlive_their_invocation(environ, capsys):
    logger = build_logger()

    @logger.inject_lambda_context(clear_state=True)
    def handler(event, context):
        if event.get("conversation"):
            logger.append_keys(conversation=event["conversation"])
        logger.info("handled")

    handler({"conversation": "C-ABCD"}, LambdaContext("InboundSmsFunction"))
    handler({}, LambdaContext("InboundSmsFunction"))

    first, second = lines(capsys)
    assert (first["cold_start"], first["conversation"]) == (True, "C-ABCD")
    assert second["cold_start"] is False and "conversation" not in second


def test_an_exception_is_logged_with_its_name_and_traceback(environ, capsys):
    logger = build_logger()
    try:
        {}["missing"]
    except KeyError:
        logger.exception("lookup failed")

    [line] = lines(capsys)
    assert (line["level"], line["exception_name"]) == ("ERROR", "KeyError")
    assert line["exception"].startswith("Traceback") and "KeyError: 'missing'" in line["exception"]


def test_the_x_ray_trace_of_the_invocation_is_on_each_line(environ, monkeypatch, capsys):
    monkeypatch.setenv("_X_AMZN_TRACE_ID", "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=0")
    build_logger().info("hello")
    [line] = lines(capsys)
    assert line["xray_trace_id"] == "1-5759e988-bd862e3fe1be46a994272793"


def test_the_log_level_comes_from_the_environment(environ, monkeypatch, capsys):
    monkeypatch.setenv("POWERTOOLS_LOG_LEVEL", "WARNING")
    logger = build_logger()
    logger.info("not shown")
    logger.warning("shown")
    assert [line["message"] for line in lines(capsys)] == ["shown"]


def test_records_never_reach_the_root_logger(environ, capsys):
    """In Lambda, the root logger's handler is the runtime's: it would write a second line, in
    plain text, with nothing masked."""
    received = []

    class Collect(logging.Handler):
        def emit(self, record):
            received.append(record)

    root = logging.getLogger()
    collect = Collect()
    root.addHandler(collect)
    try:
        build_logger().warning("to stdout only")
    finally:
        root.removeHandler(collect)
    assert received == []
    assert [line["message"] for line in lines(capsys)] == ["to stdout only"]


def test_metrics_are_one_emf_document_after_each_invocation(environ, capsys):
    metrics = build_metrics()

    @metrics.log_metrics
    def handler(event, context):
        metrics.add_metric(name="InboundTexts", unit="Count", value=1)
        metrics.add_metric(name="InboundTexts", unit="Count", value=1)
        metrics.add_metric(name="ForgedWebhooks", unit="Count", value=1)

    handler({}, LambdaContext("InboundSmsFunction"))
    handler({}, LambdaContext("InboundSmsFunction"))

    first, second = lines(capsys)
    assert first == second | {"_aws": first["_aws"]}
    [directive] = first["_aws"]["CloudWatchMetrics"]
    assert directive == {
        "Namespace": "smsdesk",
        "Dimensions": [["service"]],
        "Metrics": [{"Name": "InboundTexts", "Unit": "Count"}, {"Name": "ForgedWebhooks", "Unit": "Count"}],
    }
    assert first["service"].startswith("inbound-sms-")
    assert (first["InboundTexts"], first["ForgedWebhooks"]) == ([1.0, 1.0], [1.0])
    assert isinstance(first["_aws"]["Timestamp"], int)  # epoch milliseconds


def test_metrics_are_written_when_the_handler_fails_and_nothing_when_there_are_none(environ, capsys):
    metrics = build_metrics()

    @metrics.log_metrics
    def handler(event, context):
        if event.get("fail"):
            metrics.add_metric(name="Failures", unit="Count", value=1)
            raise RuntimeError("boom")

    handler({}, LambdaContext("InboundSmsFunction"))
    with pytest.raises(RuntimeError):
        handler({"fail": True}, LambdaContext("InboundSmsFunction"))

    [document] = lines(capsys)
    assert document["Failures"] == [1.0]


def test_metrics_without_a_namespace_fail_the_cold_start(environ, monkeypatch):
    monkeypatch.delenv("POWERTOOLS_METRICS_NAMESPACE")
    with pytest.raises(ConfigurationError):
        build_metrics()
