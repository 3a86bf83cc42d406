"""The analytics function on the table's real stream records (moto's), and GET /metrics.

A batch is what Lambda would deliver: the stream records a webhook call produced, filtered with
the analytics trigger's own patterns from template.yaml.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from smsdesk.analytics import Counting
from smsdesk.analytics_store import AnalyticsRebuild
from smsdesk.follow_up_runner import FollowUpRunner
from smsdesk.inbound import InboundOutcome, InboundService
from smsdesk_local.event_patterns import matches
from tests.integration.conftest import CUSTOMER, ENVIRON, KEYWORDS, sms
from tests.integration.functions.events import agent_request, inbound_params, twilio_post
from tests.integration.test_conversations_over_time import SUPERVISOR, resolved_at_night_with_the_survey_held
from tests.integration.test_reading_customers import maybe_an_opt_out
from tests.support.aws_faults import THROTTLING
from tests.support.lambda_functions import TableStream
from tests.support.template import template

OTHER = "+13125550188"


class AnalyticsStream(TableStream):
    """The same stream, read by a second consumer through the analytics trigger's filters."""

    def __init__(self, table_name: str) -> None:
        super().__init__(table_name)
        trigger = template()["Resources"]["AnalyticsStreamTrigger"]["Properties"]
        self._analytics_filters = [json.loads(f["Pattern"]) for f in trigger["FilterCriteria"]["Filters"]]

    def batch(self) -> dict[str, Any]:
        records = self.new_records(filtered=False)
        return {"Records": [r for r in records if any(matches(f, r) for f in self._analytics_filters)]}


@pytest.fixture
def stream(cloud) -> AnalyticsStream:
    return AnalyticsStream(ENVIRON["TABLE_NAME"])


@pytest.fixture
def analytics(lambdas):
    return lambdas.load("AnalyticsFunction")


SUPERVISORS = "agents supervisors"  # the analytics are for supervisors (and systems)


def metrics(agent_api, query: str = "from=2026-11-23&to=2026-11-23") -> dict:
    answer = agent_api.http(agent_request("GET", "/metrics", query=query, groups=SUPERVISORS))
    assert answer.status == 200, answer.body
    return json.loads(answer.body)


def complain(inbound, sid: int, sender: str, text: str = "My order arrived broken") -> None:
    assert inbound.http(twilio_post("/sms/inbound", inbound_params(text, sid=sid, sender=sender))).status == 200


def test_a_complaint_is_counted_from_its_event(inbound, analytics, stream, agent_api):
    complain(inbound, 1, CUSTOMER)
    complain(inbound, 2, OTHER, "I was charged twice on my bill")
    batch = stream.batch()
    assert {json.loads(r["dynamodb"]["NewImage"]["detail"]["S"])["customer"] for r in batch["Records"]} == {
        CUSTOMER,
        OTHER,
    }
    assert analytics.invoke(batch) == {"batchItemFailures": []}
    figures = metrics(agent_api)
    assert (figures["complaints"], figures["by_category"]) == (2, {"billing": 1, "order": 1})
    assert figures["by_weekday_hour"]["Mon"][10] == 2  # 10:00 in New York


def test_a_redelivered_batch_counts_once(inbound, analytics, stream, agent_api):
    complain(inbound, 1, CUSTOMER)
    batch = stream.batch()
    assert analytics.invoke(batch) == {"batchItemFailures": []}
    assert analytics.invoke(batch) == {"batchItemFailures": []}  # Lambda retrying the same records
    complain(inbound, 2, OTHER)
    later = stream.batch()
    # A retry that starts at the same record and reaches further counts only what is new.
    assert analytics.invoke({"Records": batch["Records"] + later["Records"]}) == {"batchItemFailures": []}
    assert metrics(agent_api)["complaints"] == 2


def test_an_event_delivered_twice_in_a_batch_counts_once(inbound, analytics, stream, agent_api):
    complain(inbound, 1, CUSTOMER)
    [record] = stream.batch()["Records"]
    copy = json.loads(json.dumps(record))
    copy["eventID"] = "another-record"
    copy["dynamodb"]["SequenceNumber"] = str(int(record["dynamodb"]["SequenceNumber"]) + 1)
    assert analytics.invoke({"Records": [record, copy]}) == {"batchItemFailures": []}
    assert metrics(agent_api)["complaints"] == 1


def test_a_failed_write_is_retried_from_its_first_record_and_counts_once(aws_faults, lambdas, stream, agent_api):
    inbound = lambdas.load("InboundSmsFunction")
    analytics = lambdas.load("AnalyticsFunction")
    complain(inbound, 1, CUSTOMER)
    batch = stream.batch()
    aws_faults.fail("dynamodb.TransactWriteItems", THROTTLING, times=4)  # the call and its 3 retries
    first = batch["Records"][0]["dynamodb"]["SequenceNumber"]
    assert analytics.invoke(batch) == {"batchItemFailures": [{"itemIdentifier": first}]}
    assert aws_faults.pending("dynamodb.TransactWriteItems") == 0
    assert metrics(agent_api)["complaints"] == 0
    assert analytics.invoke(batch) == {"batchItemFailures": []}
    assert metrics(agent_api)["complaints"] == 1


@pytest.mark.parametrize(
    ("query", "problem"),
    [("from=yesterday", "YYYY-MM-DD"), ("from=2026-11-24&to=2026-11-23", "before"), ("group_by=year", "group_by")],
)
def test_metrics_refuse_a_bad_period_with_a_reason(agent_api, query, problem):
    answer = agent_api.http(agent_request("GET", "/metrics", query=query, groups=SUPERVISORS))
    assert answer.status == 400 and problem in json.loads(answer.body)["title"]


def test_the_csv_has_a_row_per_day(inbound, analytics, stream, agent_api):
    complain(inbound, 1, CUSTOMER)
    analytics.invoke(stream.batch())
    answer = agent_api.http(
        agent_request(
            "GET", "/metrics.csv", query="from=2026-11-22&to=2026-11-23", route="/metrics.csv", groups=SUPERVISORS
        )
    )
    assert answer.status == 200 and answer.headers["Content-Type"].startswith("text/csv")
    lines = answer.body.splitlines()
    assert lines[0].startswith("from,to,complaints,")
    assert [line.split(",")[:3] for line in lines[1:]] == [
        ["2026-11-22", "2026-11-22", "0"],
        ["2026-11-23", "2026-11-23", "1"],
    ]


@pytest.mark.parametrize("path", ["/metrics", "/metrics.csv"])
def test_an_agent_who_is_not_a_supervisor_cannot_read_the_analytics(agent_api, path):
    answer = agent_api.http(agent_request("GET", path, query="from=2026-11-23&to=2026-11-23", route=path))
    assert answer.status == 403 and "supervisors" in json.loads(answer.body)["title"]


# ------------------------------------------------------------------ the domain's own services, same stream

THIRD = "+13125550199"


def test_possible_opt_outs_count_raised_decided_and_still_waiting(
    repository, clock, desk, analytics, stream, agent_api, business
):
    texts = InboundService(repository, clock, auto_reply_keywords=KEYWORDS, classifier=maybe_an_opt_out)
    for n, sender in enumerate([CUSTOMER, OTHER, THIRD]):
        texts.receive(sms("the replacement part still has not come", sid=10 + n, sender=sender))
    texts.receive(sms("the replacement part still has not come", sid=20))  # the same one again: not a new one
    desk.clear_possible_opt_out(OTHER, agent="dana@acme.example")
    desk.record_opt_out(THIRD, actor=SUPERVISOR, reason="confirmed a possible opt-out")
    assert analytics.invoke(stream.batch()) == {"batchItemFailures": []}
    expected = {"raised": 3, "confirmed": 1, "cleared": 1, "by_customer": 0, "waiting": 1}
    assert metrics(agent_api)["possible_opt_outs"] == expected
    # The next day nothing new happened: the one still waiting waits at the end of that day too.
    assert metrics(agent_api, "from=2026-11-24&to=2026-11-24")["possible_opt_outs"]["waiting"] == 1
    # The customer's own STOP settles the last one.
    texts.receive(sms("STOP", sid=30))
    assert analytics.invoke(stream.batch()) == {"batchItemFailures": []}
    assert metrics(agent_api)["possible_opt_outs"] == expected | {"by_customer": 1, "waiting": 0}


def test_a_rebuild_counts_the_possible_opt_outs_still_waiting(repository, clock, desk, agent_api, business):
    texts = InboundService(repository, clock, auto_reply_keywords=KEYWORDS, classifier=maybe_an_opt_out)
    texts.receive(sms("the replacement part still has not come", sid=10))
    texts.receive(sms("the replacement part still has not come", sid=11, sender=OTHER))
    desk.clear_possible_opt_out(OTHER, agent="dana@acme.example")
    AnalyticsRebuild(repository, Counting(business.hours)).rebuild()
    assert metrics(agent_api)["possible_opt_outs"]["waiting"] == 1


def test_a_5_while_the_survey_is_still_held_is_no_score_and_no_survey_sent(
    repository, gateway, follow_ups, clock, business, desk, analytics, stream, agent_api
):
    """Reported: a customer's "5" was recorded as a satisfaction score while their survey was
    still held for the night. Not so since surveys count from Twilio's acceptance (issue 11)."""
    texts = InboundService(repository, clock, auto_reply_keywords=KEYWORDS)
    runner = FollowUpRunner(repository, gateway, clock, business)
    resolved_at_night_with_the_survey_held(texts, desk, runner, clock)
    assert texts.receive(sms("5", sid=2)).outcome is InboundOutcome.ADDED_TO_CONVERSATION
    assert analytics.invoke(stream.batch()) == {"batchItemFailures": []}
    figures = metrics(agent_api, "from=2026-11-23&to=2026-11-25")
    assert figures["csat"] == {
        "surveys_sent": 0,
        "responses": 0,
        "response_rate": None,
        "average": None,
        "satisfied_share": None,
        "distribution": {"1": 0, "2": 0, "3": 0, "4": 0, "5": 0},
    }
    assert figures["delivery"]["held"] == 1 and figures["reopened"] == 1  # the "5" reopened the case
