"""The functions that are not Twilio's webhooks, invoked as Lambda invokes them: the outbox
relay (a DynamoDB stream batch), the acknowledgement and consent functions (the EventBridge
events the template's rules deliver), the follow-up function (a Scheduler schedule's input) and
the agent API (an IAM-authorised HTTP API request).

The events are the ones moto produced from a real webhook call: the table's stream records, the
envelopes the rules delivered, the schedules' inputs. What leaves is what reached Twilio.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from smsdesk.table import OutboxEvent
from tests.integration.conftest import CUSTOMER, ENVIRON, outbox_events
from tests.integration.functions.events import agent_request, conversation_request, inbound_params, twilio_post
from tests.support.aws_faults import THROTTLING
from tests.support.lambda_functions import scheduler_inputs
from tests.support.template import template

OTHER = "+13125550188"  # Chicago


def bodies_to(twilio, number=CUSTOMER):
    return [m["Body"] for m in twilio.to(number)]


# ------------------------------------------------------------------------------- outbox relay


def test_the_relay_publishes_each_outbox_event_where_the_template_rules_route_it(inbound, relay, cloud, repository):
    inbound.http(twilio_post("/sms/inbound", inbound_params("My order arrived broken", sid=1)))
    inbound.http(twilio_post("/sms/inbound", inbound_params("HELP", sid=2, sender=OTHER)))

    assert relay.invoke(cloud.stream.lambda_event()) == {"batchItemFailures": []}

    [complaint] = cloud.rules.delivered("AcknowledgementFunction")
    [help_requested] = cloud.rules.delivered("ConsentFunction")
    reference = repository.customer(CUSTOMER).open_conversation
    assert (complaint["source"], complaint["detail-type"]) == ("smsdesk", "ComplaintReceived")
    assert complaint["detail"]["conversation"] == reference  # an object, not a JSON string
    assert complaint["detail"]["text"] == "My order arrived broken"
    assert (help_requested["detail-type"], help_requested["detail"]["customer"]) == ("HelpRequested", OTHER)


def test_the_relay_ignores_stream_records_that_are_not_outbox_events(inbound, relay, cloud, repository):
    """Were the FilterCriteria ever lost, customer, message and MODIFY records must not be published."""
    inbound.http(twilio_post("/sms/inbound", inbound_params("My order arrived broken", sid=1)))
    inbound.http(twilio_post("/sms/inbound", inbound_params("It was order 4432", sid=2)))
    everything = cloud.stream.lambda_event(filtered=False)
    assert {r["eventName"] for r in everything["Records"]} == {"INSERT", "MODIFY"}

    assert relay.invoke(everything) == {"batchItemFailures": []}

    delivered = cloud.rules.delivered("AcknowledgementFunction")
    assert [e["detail-type"] for e in delivered] == ["ComplaintReceived"]  # the 2nd text is not a complaint
    assert len(outbox_events(repository)) == 2


def test_an_entry_eventbridge_rejects_for_good_is_reported_and_the_others_are_published(
    inbound, relay, cloud, repository, clock
):
    inbound.http(twilio_post("/sms/inbound", inbound_params("My order arrived broken", sid=1)))
    # An outbox item whose detail EventBridge refuses (MalformedDetail), then a good one.
    OutboxEvent(
        "EVENT#poison",
        "EVENT",
        detail_type="ComplaintReceived",
        detail="{not json",
        created_at=clock.now(),
        expires_at=clock.now() + timedelta(days=1),
    ).save()
    inbound.http(twilio_post("/sms/inbound", inbound_params("HELP", sid=2, sender=OTHER)))
    event = cloud.stream.lambda_event()
    poison = next(r for r in event["Records"] if r["dynamodb"]["Keys"]["pk"]["S"] == "EVENT#poison")

    result = relay.invoke(event)

    # Lambda retries the batch from the poison record (and, after its retries, parks the batch
    # in the relay's on-failure queue); what came before it is published once.
    assert result == {"batchItemFailures": [{"itemIdentifier": poison["dynamodb"]["SequenceNumber"]}]}
    assert [e["detail-type"] for e in cloud.rules.delivered("AcknowledgementFunction")] == ["ComplaintReceived"]
    assert [e["detail-type"] for e in cloud.rules.delivered("ConsentFunction")] == ["HelpRequested"]


def test_entries_eventbridge_throttles_are_retried_in_the_same_invocation(
    inbound, relay, cloud, repository, aws_faults
):
    from smsdesk.aws.clients import client

    inbound.http(twilio_post("/sms/inbound", inbound_params("My order arrived broken", sid=1)))
    inbound.http(twilio_post("/sms/inbound", inbound_params("HELP", sid=2, sender=OTHER)))
    aws_faults.watch(client("events"))
    throttled = {"ErrorCode": "ThrottlingException", "ErrorMessage": "Rate exceeded"}
    aws_faults.answer("eventbridge.PutEvents", 200, {"FailedEntryCount": 1, "Entries": [throttled]}, times=2)

    assert relay.invoke(cloud.stream.lambda_event()) == {"batchItemFailures": []}

    assert aws_faults.calls["eventbridge.PutEvents"] == 4  # the first event on its third attempt, then the second
    assert len(cloud.rules.delivered("AcknowledgementFunction")) == 1  # once, not twice
    assert len(cloud.rules.delivered("ConsentFunction")) == 1


def test_entries_eventbridge_keeps_failing_are_reported_so_lambda_retries_from_the_first(
    inbound, relay, cloud, aws_faults
):
    from smsdesk.aws.clients import client

    inbound.http(twilio_post("/sms/inbound", inbound_params("My order arrived broken", sid=1)))
    event = cloud.stream.lambda_event()
    aws_faults.watch(client("events"))
    failed = {"FailedEntryCount": 1, "Entries": [{"ErrorCode": "InternalFailure", "ErrorMessage": "Internal"}]}
    aws_faults.answer("eventbridge.PutEvents", 200, failed, times=3)  # every attempt of this invocation

    first = relay.invoke(event)

    assert first == {"batchItemFailures": [{"itemIdentifier": event["Records"][0]["dynamodb"]["SequenceNumber"]}]}
    assert cloud.rules.delivered("AcknowledgementFunction") == []
    assert relay.invoke(event) == {"batchItemFailures": []}  # Lambda's retry of the batch
    assert len(cloud.rules.delivered("AcknowledgementFunction")) == 1


def test_when_eventbridge_fails_the_whole_call_the_record_is_reported_and_nothing_is_lost(
    inbound, relay, cloud, aws_faults
):
    from smsdesk.aws.clients import client

    inbound.http(twilio_post("/sms/inbound", inbound_params("My order arrived broken", sid=1)))
    event = cloud.stream.lambda_event()
    aws_faults.watch(client("events"))
    internal = {"__type": "InternalException", "message": "Internal error"}
    aws_faults.answer("eventbridge.PutEvents", 500, internal, times=4)  # the call and botocore's 3 retries

    first = relay.invoke(event)  # Lambda retries the batch from the reported record
    assert first == {"batchItemFailures": [{"itemIdentifier": event["Records"][0]["dynamodb"]["SequenceNumber"]}]}

    assert len(aws_faults.backoff) == 3  # botocore backed off between its attempts
    assert cloud.rules.delivered("AcknowledgementFunction") == []
    assert relay.invoke(event) == {"batchItemFailures": []}
    assert len(cloud.rules.delivered("AcknowledgementFunction")) == 1


# ------------------------------------------------------------------------------- acknowledgement


def test_a_complaint_is_acknowledged_once_from_the_event_the_rule_delivers(
    text, acknowledgement, cloud, twilio, repository
):
    text("My order 4432 arrived broken", sid=1)
    [event] = cloud.rules.delivered("AcknowledgementFunction")

    assert acknowledgement.invoke(event) == {"handled": True, "outcome": "sent"}
    assert acknowledgement.invoke(event) == {"handled": True, "outcome": None}  # EventBridge delivered it twice

    reference = repository.customer(CUSTOMER).open_conversation
    [body] = bodies_to(twilio)
    assert body.startswith("Hi, Acme Outdoor here. We're sorry about your order.")
    assert f"Your reference is {reference}." in body and "will reply by 12:00 PM today" in body
    assert twilio.sent[0]["StatusCallback"] == (
        ENVIRON["PUBLIC_BASE_URL"] + f"/sms/status?m=acknowledgement&c={reference}#rc=3&rp=ct,rt,5xx"
    )
    assert repository.conversation(reference).status == "acknowledged"


def test_a_keyword_is_answered_from_its_event_and_only_once(text, acknowledgement, cloud, twilio):
    text("My order arrived broken", sid=1)
    acknowledgement.invoke(cloud.rules.delivered("AcknowledgementFunction")[0])
    text("refund", sid=2)
    [keyword] = cloud.rules.delivered("AcknowledgementFunction")
    assert keyword["detail-type"] == "KeywordReceived"

    assert acknowledgement.invoke(keyword)["outcome"] == "sent"
    assert acknowledgement.invoke(keyword)["outcome"] == "duplicate"

    assert len(bodies_to(twilio)) == 2
    assert bodies_to(twilio)[-1].startswith("To request a refund, reply with your order number")


# ------------------------------------------------------------------------------- consent


def test_an_opt_out_in_words_gets_one_confirmation_and_the_sla_check_still_flags_the_complaint(
    text, acknowledgement, consent, follow_up, cloud, twilio, clock
):
    text("My order arrived broken", sid=1)
    acknowledgement.invoke(cloud.rules.delivered("AcknowledgementFunction")[0])  # schedules the SLA check
    [sla_check] = scheduler_inputs(ENVIRON["SCHEDULE_GROUP_NAME"])
    text("please stop texting me", sid=2)
    [revoked] = cloud.rules.delivered("ConsentFunction")

    first = consent.invoke(revoked)
    again = consent.invoke(revoked)

    assert (first["outcome"], first["cancelled"]) == ("sent", [])
    assert again["outcome"] in {"duplicate", "refused"}
    assert scheduler_inputs(ENVIRON["SCHEDULE_GROUP_NAME"]) == [sla_check]  # agents still owe an answer
    # When it fires, the complaint is flagged breached; the customer gets nothing more.
    clock.advance(timedelta(hours=2))
    assert follow_up.invoke(sla_check["input"]) == {"follow_up": "sla_check", "done": "breached", "outcome": "refused"}
    assert bodies_to(twilio)[1:] == [
        "You're unsubscribed from Acme Outdoor texts and will get no more messages. Reply START to resubscribe."
    ]


def test_stop_gets_no_confirmation_from_smsdesk(text, consent, cloud, twilio):
    text("STOP", sid=1)
    [revoked] = cloud.rules.delivered("ConsentFunction")
    assert consent.invoke(revoked)["outcome"] == "nothing to send"
    assert twilio.attempts == 0


def test_help_is_answered_once_per_help_text(text, consent, cloud, twilio):
    text("Who is this?", sid=1)  # a HELP in words: Twilio answers only its keywords
    [help_requested] = cloud.rules.delivered("ConsentFunction")
    consent.invoke(help_requested)
    consent.invoke(help_requested)
    assert bodies_to(twilio) == [
        "Acme Outdoor support: support@acme.example. Msg&data rates may apply. Reply STOP to opt out."
    ]


def test_an_opt_in_in_words_is_answered_with_how_to_confirm_and_says_so(text, consent, cloud, twilio):
    text("STOP", sid=1)
    text("ok you may message me again", sid=2)
    [requested] = [e for e in cloud.rules.delivered("ConsentFunction") if e["detail-type"] == "OptInRequested"]
    assert consent.invoke(requested) == {"handled": True, "outcome": "sent", "cancelled": []}
    assert bodies_to(twilio) == ["To get texts from Acme Outdoor again, reply START."]


# ------------------------------------------------------------------------------- follow-ups


def test_a_missed_promise_from_its_schedule_tells_the_customer_once(
    text, acknowledgement, follow_up, cloud, twilio, clock, repository
):
    text("My order arrived broken", sid=1)
    acknowledgement.invoke(cloud.rules.delivered("AcknowledgementFunction")[0])
    [schedule] = scheduler_inputs(ENVIRON["SCHEDULE_GROUP_NAME"])
    assert schedule["expression"] == "at(2026-11-23T17:00:00)"  # noon in New York, as promised
    clock.set(datetime(2026, 11, 23, 17, 0, tzinfo=UTC))

    assert follow_up.invoke(schedule["input"])["done"] == "breached"
    assert follow_up.invoke(schedule["input"])["done"] == "promise kept"  # Scheduler's retry

    assert len(bodies_to(twilio)) == 2
    assert "we haven't forgotten you" in bodies_to(twilio)[-1]
    reference = repository.customer(CUSTOMER).open_conversation
    assert ("SlaBreached", reference) in [(k, d["conversation"]) for k, d in outbox_events(repository)]


# ------------------------------------------------------------------------------- agent API


@pytest.fixture
def complaint(text, repository):
    text("My order arrived broken", sid=1)
    return repository.customer(CUSTOMER).open_conversation


def test_agents_list_their_queue_urgent_first(text, agent_api, repository, clock):
    text("My order arrived late", sid=1)
    clock.advance(timedelta(minutes=5))
    text("I'm calling my attorney about this", sid=2, sender=OTHER)
    normal, urgent = repository.customer(CUSTOMER).open_conversation, repository.customer(OTHER).open_conversation

    answer = agent_api.http(agent_request("GET", "/conversations", query="status=active&limit=10"))

    assert (answer.status, answer.content_type) == (200, "application/json")
    page = answer.json()
    assert [c["reference"] for c in page["conversations"]] == [urgent, normal]
    assert page["conversations"][0]["priority"] == "urgent"


def test_an_agent_reads_a_conversation_with_its_messages(complaint, agent_api):
    answer = agent_api.http(conversation_request("GET", complaint))
    assert answer.status == 200
    view = answer.json()
    assert (view["reference"], view["customer"], view["consent"]) == (complaint, CUSTOMER, "subscribed")
    assert [(m["direction"], m["body"]) for m in view["messages"]] == [("inbound", "My order arrived broken")]


def test_an_agents_reply_reaches_the_customer_once_per_idempotency_key(complaint, agent_api, twilio, repository):
    request = conversation_request(
        "POST", complaint, "replies", body={"text": "A replacement ships today."}, headers={"idempotency-key": "r-1"}
    )
    first = agent_api.http(request)
    retried = agent_api.http(request)

    assert (first.status, first.json()["outcome"]) == (201, "sent")
    assert (retried.status, retried.json()["outcome"]) == (200, "duplicate")
    assert bodies_to(twilio) == ["A replacement ships today."]
    _, messages = repository.conversation_with_messages(complaint)
    assert [m.author for m in messages if m.direction == "outbound"] == ["agent:dana@acme.example"]  # from the token
    assert repository.conversation(complaint).status == "waiting_on_customer"


def test_resolve_then_reopen(complaint, agent_api, twilio):
    resolved = agent_api.http(conversation_request("POST", complaint, "resolve", body={"note": "refunded"}))
    assert (resolved.status, resolved.json()["status"]) == (200, "resolved")

    late_reply = agent_api.http(conversation_request("POST", complaint, "replies", body={"text": "Anything else?"}))
    assert (late_reply.status, late_reply.content_type) == (409, "application/problem+json")
    assert late_reply.json() == {"status": 409, "title": f"{complaint} is resolved; reopen it to reply"}

    reopened = agent_api.http(conversation_request("POST", complaint, "reopen", body={}))
    assert (reopened.status, reopened.json()["status"]) == (200, "waiting_on_agent")
    assert twilio.sent == []


def test_a_supervisor_records_an_opt_out_heard_on_the_phone(complaint, agent_api, repository):
    answer = agent_api.http(supervisor_opt_out(reason="asked on the phone"))
    assert (answer.status, answer.body) == (204, "")
    [record] = repository.consent_history(CUSTOMER)
    assert (record.source, record.reason) == ("agent", "asked on the phone")


def test_an_agent_who_is_not_a_supervisor_cannot_record_an_opt_out(complaint, agent_api, repository):
    request = agent_request(
        "POST",
        f"/customers/{CUSTOMER}/opt-out",
        route="/customers/{number}/opt-out",
        params={"number": CUSTOMER},
        body={"reason": "asked on the phone"},
    )
    answer = agent_api.http(request)
    assert (answer.status, answer.json()["title"]) == (403, "only supervisors may record an opt-out for a customer")
    assert repository.consent_history(CUSTOMER) == []
    assert repository.customer(CUSTOMER).consent == "subscribed"


def test_assignment_notes_and_resolution_are_in_the_history_with_who_did_them(complaint, agent_api, twilio, clock):
    clock.advance(timedelta(minutes=1))
    assigned = agent_api.http(conversation_request("POST", complaint, "assign", body={"to": "Ana@Acme.example"}))
    assert (assigned.status, assigned.json()["assignee"]) == (200, "ana@acme.example")
    note = agent_api.http(
        conversation_request(
            "POST",
            complaint,
            "notes",
            body={"text": "Customer is a regular."},
            user="ana@acme.example",
            headers={"idempotency-key": "n-1"},
        )
    )
    assert note.status == 201
    clock.advance(timedelta(minutes=1))
    agent_api.http(
        conversation_request(
            "POST",
            complaint,
            "notes",
            body={"text": "Customer is a regular."},
            user="ana@acme.example",
            headers={"idempotency-key": "n-1"},
        )
    )  # retried
    clock.advance(timedelta(minutes=1))
    agent_api.http(
        conversation_request("POST", complaint, "resolve", body={"note": "replaced"}, user="ana@acme.example")
    )

    thread = agent_api.http(conversation_request("GET", complaint)).json()["messages"]
    history = [(m["direction"], m["author"], m["body"]) for m in thread if m["direction"] in {"note", "activity"}]
    assert history == [
        ("activity", "agent:dana@acme.example", "assigned to ana@acme.example"),
        ("note", "agent:ana@acme.example", "Customer is a regular."),
        ("activity", "agent:ana@acme.example", "resolved: replaced"),
    ]
    assert twilio.sent == []  # notes and activity are never texted


def test_the_views_of_the_queue(complaint, agent_api):
    def references(view: str, user: str = "dana@acme.example", q: str = "") -> list[str]:
        query = f"view={view}" + (f"&q={q}" if q else "")
        answer = agent_api.http(agent_request("GET", "/conversations", query=query, user=user))
        assert answer.status == 200
        return [c["reference"] for c in answer.json()["conversations"]]

    assert references("unassigned") == [complaint]
    agent_api.http(conversation_request("POST", complaint, "assign", body={"to": "dana@acme.example"}))
    assert (references("mine"), references("unassigned"), references("mine", user="ana@acme.example")) == (
        [complaint],
        [],
        [],
    )
    assert (references("open", q="broken"), references("open", q="umbrella")) == ([complaint], [])
    assert references("open", q=complaint.lower()) == [complaint]
    bad = agent_api.http(agent_request("GET", "/conversations", query="view=everything"))
    assert bad.status == 400
    assert references("resolved") == []
    agent_api.http(conversation_request("POST", complaint, "resolve", body={}))
    assert (references("resolved"), references("open")) == ([complaint], [])


def test_a_request_whose_token_names_nobody_is_refused(complaint, agent_api):
    request = conversation_request("GET", complaint)
    request["requestContext"]["authorizer"]["jwt"]["claims"] = {"client_id": "x", "scope": "openid"}
    answer = agent_api.http(request)
    assert (answer.status, answer.json()["title"]) == (401, "the token names no agent")


def test_canned_responses_are_listed(agent_api, cloud):
    answer = agent_api.http(agent_request("GET", "/canned-responses"))
    titles = [r["title"] for r in answer.json()["canned_responses"]]
    assert answer.status == 200 and "Replacement on its way" in titles


def test_an_agent_clears_a_possible_opt_out_through_the_api(complaint, agent_api, repository):
    request = agent_request(
        "POST",
        f"/customers/{CUSTOMER}/not-an-opt-out",
        route="/customers/{number}/not-an-opt-out",
        params={"number": CUSTOMER},
        body={},
    )
    nothing_to_clear = agent_api.http(request)
    assert (nothing_to_clear.status, nothing_to_clear.content_type) == (409, "application/problem+json")
    customer = repository.customer(CUSTOMER)
    customer.update(actions=[type(customer).consent_hold.set("possible_opt_out")])
    answer = agent_api.http(request)
    assert (answer.status, answer.body) == (204, "")
    assert repository.customer(CUSTOMER).consent_hold is None


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/nothing-here"), ("DELETE", "/conversations/C-ABCD"), ("GET", "/conversations/C-ABCD/replies")],
)
def test_an_unknown_route_is_a_404_problem(agent_api, cloud, method, path):
    answer = agent_api.http(agent_request(method, path))
    assert (answer.status, answer.content_type) == (404, "application/problem+json")
    assert answer.json() == {"status": 404, "title": "not found"}


@pytest.mark.parametrize(
    ("body", "title"),
    [
        ("{not json", "the body is not JSON"),
        ("[1, 2]", "body: Input should be a valid dictionary or object to extract fields from"),
        ({"text": 42}, "text: Input should be a valid string"),
        ({}, "text: Field required"),
        ({"text": "Hello", "urgent": True}, "urgent: Extra inputs are not permitted"),
        ({"text": "   "}, "the reply is empty"),
    ],
)
def test_a_malformed_reply_is_a_400_problem_and_sends_nothing(complaint, agent_api, twilio, body, title):
    answer = agent_api.http(conversation_request("POST", complaint, "replies", body=body))
    assert (answer.status, answer.content_type) == (400, "application/problem+json")
    assert answer.json() == {"status": 400, "title": title}
    assert twilio.attempts == 0


@pytest.mark.parametrize(
    ("query", "title"),
    [
        ("limit=lots", "limit: Input should be a valid integer, unable to parse string as an integer"),
        ("limit=1000", "limit: Input should be less than or equal to 100"),
        ("cursor=not-a-cursor", "invalid cursor"),
    ],
)
def test_a_malformed_listing_is_a_400_problem(agent_api, cloud, query, title):
    answer = agent_api.http(agent_request("GET", "/conversations", query=query))
    assert (answer.status, answer.json()) == (400, {"status": 400, "title": title})


def test_an_unknown_conversation_is_a_404_problem(agent_api, cloud):
    answer = agent_api.http(conversation_request("GET", "C-ZZZZ"))
    assert (answer.status, answer.json()) == (404, {"status": 404, "title": "no such conversation"})


@pytest.fixture
def faulted_agent_api(lambdas, aws_faults):
    """The agent API's cold start after the faults are installed: its DynamoDB clients get them."""
    return lambdas.load("AgentApiFunction")


def test_an_internal_failure_is_a_bare_500_with_no_error_text(faulted_agent_api, aws_faults, complaint):
    aws_faults.fail("dynamodb.Query", THROTTLING, times=4)

    answer = faulted_agent_api.http(conversation_request("GET", complaint))

    # The function fails (API Gateway answers its generic 500); it never answers with the error.
    assert answer.error is not None and "Throttling" in str(answer.error)
    assert (answer.status, answer.body) == (500, '{"message":"Internal Server Error"}')


def test_two_supervisors_recording_one_opt_out_at_once_both_succeed_and_it_is_recorded_once(
    faulted_agent_api, aws_faults, complaint, repository
):
    """DynamoDB cancels a transaction that meets another on the same items (TransactionConflict):
    the desk reads again and decides again instead of answering 500."""
    aws_faults.cancel_transaction(["None", "TransactionConflict", "None"])  # the other supervisor's write

    answer = faulted_agent_api.http(supervisor_opt_out(reason="asked on the phone"))

    assert (answer.status, answer.error) == (204, None)
    assert [record.source for record in repository.consent_history(CUSTOMER)] == ["agent"]
    assert repository.customer(CUSTOMER).consent == "opted_out"


def test_an_agent_action_that_meets_another_at_the_same_moment_is_a_409_and_changes_nothing(
    faulted_agent_api, aws_faults, complaint, repository
):
    aws_faults.cancel_transaction(["TransactionConflict", "None", "None"], times=5)

    resolved = faulted_agent_api.http(conversation_request("POST", complaint, "resolve", body={"note": "refunded"}))

    assert (resolved.status, resolved.error) == (409, None)
    assert resolved.json() == {
        "status": 409,
        "title": "someone else changed this at the same moment; nothing was changed: try again",
    }
    assert repository.conversation(complaint).status != "resolved"


def supervisor_opt_out(reason: str) -> dict:
    # HTTP APIs hand the Lambda the path decoded: the CLI's %2B arrives as "+".
    return agent_request(
        "POST",
        f"/customers/{CUSTOMER}/opt-out",
        route="/customers/{number}/opt-out",
        params={"number": CUSTOMER},
        body={"reason": reason},
        user="sam@acme.example",
        groups="agents supervisors",
    )


# ------------------------------------------------------------------------ the OpenAPI document

OPENAPI = Path(__file__).resolve().parents[3] / "docs" / "openapi.json"


def test_the_committed_openapi_document_is_the_one_the_routes_generate(agent_api):
    generated = agent_api.module.openapi_document()
    if os.environ.get("UPDATE_OPENAPI"):
        OPENAPI.write_text(json.dumps(generated, indent=2) + "\n")
    assert json.loads(OPENAPI.read_text()) == generated, (
        "docs/openapi.json is stale: UPDATE_OPENAPI=1 uv run pytest tests/integration/test_event_handlers.py -k openapi"
    )


def test_the_openapi_document_has_exactly_the_routes_the_template_gives_the_agent_api():
    events = template()["Resources"]["AgentApiFunction"]["Properties"]["Events"].values()
    in_template = {
        (e["Properties"]["Method"].lower(), e["Properties"]["Path"]) for e in events if e["Type"] == "HttpApi"
    }
    document = json.loads(OPENAPI.read_text())
    documented = {(method, path) for path, item in document["paths"].items() for method in item}
    assert documented == in_template


def customer_request(body, **kwargs):
    return agent_request(
        "PATCH", f"/customers/{CUSTOMER}", route="/customers/{number}", params={"number": CUSTOMER}, body=body, **kwargs
    )


def test_an_agent_edits_the_customer_panel_and_the_next_acknowledgement_uses_it(
    complaint, agent_api, repository, text, twilio, clock, acknowledgement, cloud
):
    answer = agent_api.http(
        customer_request({"name": "  Karen   Lopez ", "language": "es", "time_zone": "Europe/Madrid"})
    )

    assert answer.status == 200
    profile = answer.json()
    assert (profile["name"], profile["language"], profile["time_zone"]) == ("Karen Lopez", "es", "Europe/Madrid")
    assert profile["profile_changed_by"] == "agent:dana@acme.example"
    _, messages = repository.conversation_with_messages(complaint)
    assert (
        "agent:dana@acme.example",
        "customer details: name 'Karen Lopez', language es, time zone Europe/Madrid",
    ) in [(m.author, m.body) for m in messages if m.direction == "activity"]

    # Bad input is refused in words and changes nothing, not even the valid fields beside it.
    for body, title in [
        (
            {"name": "Kim", "time_zone": "Mars/Olympus"},
            "'Mars/Olympus' is not a time zone: use an IANA name like America/New_York",
        ),
        ({"language": "xx"}, "unsupported language 'xx'"),
        ({"name": "K" * 61}, "the name is longer than 60 characters"),
        ({"nickname": "K"}, "nickname: Extra inputs are not permitted"),
    ]:
        refused = agent_api.http(customer_request(body))
        assert (refused.status, refused.content_type) == (400, "application/problem+json")
        assert refused.json()["title"].startswith(title)
    assert repository.customer(CUSTOMER).name == "Karen Lopez"

    # A card number typed as a name is never kept.
    assert "4111" not in agent_api.http(customer_request({"name": "4111 1111 1111 1111"})).json()["name"]
    agent_api.http(customer_request({"name": "Karen"}))

    # The customer writes in English: the language the agent chose stays; the next complaint's
    # acknowledgement greets them by name, in Spanish.
    agent_api.http(conversation_request("POST", complaint, "resolve", body={"note": "refunded"}))
    clock.advance(timedelta(days=20))
    text("My second order never arrived either, please help", sid=2)
    assert repository.customer(CUSTOMER).language == "es"
    second = repository.customer(CUSTOMER).open_conversation
    [event] = [e for e in cloud.rules.delivered("AcknowledgementFunction") if e["detail"].get("conversation") == second]
    assert acknowledgement.invoke(event)["outcome"] == "sent"
    assert bodies_to(twilio)[-1].startswith("Hola Karen, le escribe Acme Outdoor")


def test_an_agent_set_time_zone_wins_over_the_numbers(complaint, agent_api, repository):
    from zoneinfo import ZoneInfo

    from smsdesk.time_zones import customer_zones

    customer = repository.customer(CUSTOMER)
    guessed = customer_zones(customer.number, customer.from_state, fallback=ZoneInfo("UTC"), chosen=customer.time_zone)
    assert ZoneInfo("Asia/Tokyo") not in guessed.zones
    agent_api.http(customer_request({"time_zone": "Asia/Tokyo"}))
    customer = repository.customer(CUSTOMER)
    chosen = customer_zones(customer.number, customer.from_state, fallback=ZoneInfo("UTC"), chosen=customer.time_zone)
    assert (chosen.zones, chosen.known) == ((ZoneInfo("Asia/Tokyo"),), True)
    agent_api.http(customer_request({"time_zone": None}))  # back to the number's
    assert repository.customer(CUSTOMER).time_zone is None


def test_the_customer_panel_lists_their_past_conversations_with_csat(complaint, agent_api, repository, text, clock):
    agent_api.http(conversation_request("POST", complaint, "resolve", body={"note": "refunded"}))
    first = repository.conversation(complaint)
    first.update(actions=[type(first).csat_score.set(4)])  # as the survey's answer records it
    clock.advance(timedelta(days=20))
    text("My second order never arrived either, please help", sid=2)
    second = repository.customer(CUSTOMER).open_conversation
    assert second != complaint

    view = agent_api.http(conversation_request("GET", second)).json()
    assert [(p["reference"], p["status"], p["csat_score"]) for p in view["past_conversations"]] == [
        (complaint, "closed", 4)  # a new complaint 20 days on closes the resolved one for good
    ]
    assert agent_api.http(conversation_request("GET", complaint)).json()["past_conversations"][0]["reference"] == second
