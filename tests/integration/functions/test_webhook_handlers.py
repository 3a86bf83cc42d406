"""The Twilio webhooks, invoked the way Lambda invokes them: an API Gateway HTTP API event
(payload 2.0, base64 form body, lower-cased headers) in, the HTTP answer Twilio gets out.

Fault and bad-input cases beyond the basic ones are in test_faults.py.
"""

from __future__ import annotations

import json

import pytest

from smsdesk.table import Conversation, Message
from tests.integration.conftest import CUSTOMER, callback_route, message_with_sid, outbox_events
from tests.integration.functions.events import inbound_params, message_sid, status_params, twilio_post
from tests.support.api_gateway import form_body

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


def table_items(repository) -> list[tuple[str, str]]:
    return sorted((item.pk, item.sk) for item in repository.iterate_table())


@pytest.fixture
def delivery_status(lambdas):
    return lambdas.load("DeliveryStatusFunction")


# ------------------------------------------------------------------------------- inbound


def test_a_signed_complaint_gets_empty_twiml_and_is_stored_and_announced(inbound, repository):
    event = twilio_post("/sms/inbound", inbound_params("My order 4432 arrived broken and nobody answers"))
    assert event["isBase64Encoded"] is True  # how an HTTP API hands a form body to Lambda

    answer = inbound.http(event)

    assert (answer.status, answer.content_type, answer.body) == (200, "text/xml", EMPTY_TWIML)
    reference = repository.customer(CUSTOMER).open_conversation
    conversation, messages = repository.conversation_with_messages(reference)
    assert conversation.status == "open"
    assert [(m.body, m.twilio_sid) for m in messages] == [
        ("My order 4432 arrived broken and nobody answers", message_sid(1))
    ]
    [(kind, detail)] = outbox_events(repository)
    assert kind == "ComplaintReceived"
    assert (detail["conversation"], detail["customer"], detail["message_sid"]) == (reference, CUSTOMER, message_sid(1))


@pytest.mark.parametrize(
    "how",
    ["signed with another token", "no signature", "signed for other parameters", "signed for another URL"],
)
def test_a_request_not_signed_by_twilio_is_refused_and_changes_nothing(inbound, repository, how):
    params = inbound_params("My order arrived broken")
    if how == "signed with another token":
        event = twilio_post("/sms/inbound", params, auth_token="x" * 32)
    elif how == "no signature":
        event = twilio_post("/sms/inbound", params, auth_token=None)
    elif how == "signed for other parameters":
        event = twilio_post("/sms/inbound", params, body=form_body({**params, "Body": "STOP"}))
    else:
        event = twilio_post("/sms/status", params, raw_path="/sms/inbound")
    before = table_items(repository)

    answer = inbound.http(event)

    assert (answer.status, answer.content_type) == (403, "application/problem+json")
    assert answer.json() == {"status": 403, "title": "signature verification failed"}
    assert table_items(repository) == before == []


@pytest.mark.parametrize("missing", ["MessageSid", "From", "To"])
def test_a_webhook_without_its_identifying_fields_is_a_422_and_changes_nothing(inbound, repository, missing):
    params = {k: v for k, v in inbound_params("My order arrived broken").items() if k != missing}
    answer = inbound.http(twilio_post("/sms/inbound", params))
    assert answer.status == 422 and missing in answer.json()["title"]
    assert table_items(repository) == []


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("application/json", json.dumps(inbound_params("My order arrived broken")).encode()),
        ("text/plain", form_body(inbound_params("My order arrived broken"))),
        ("multipart/form-data; boundary=x", b"--x\r\n--x--"),
    ],
)
def test_a_body_that_is_not_a_form_is_a_415(inbound, repository, content_type, body):
    params = inbound_params("My order arrived broken")
    answer = inbound.http(twilio_post("/sms/inbound", params, body=body, headers={"content-type": content_type}))
    assert answer.status == 415
    assert table_items(repository) == []


def test_an_oversized_body_is_a_413_before_anything_else(inbound, repository):
    params = inbound_params("x" * 40_000)
    answer = inbound.http(twilio_post("/sms/inbound", params))
    assert answer.status == 413
    assert table_items(repository) == []


def test_a_form_content_type_with_a_charset_is_accepted(inbound, repository):
    headers = {"content-type": "application/x-www-form-urlencoded; charset=UTF-8"}
    answer = inbound.http(twilio_post("/sms/inbound", inbound_params("Broken zipper"), headers=headers))
    assert answer.status == 200
    assert repository.customer(CUSTOMER).open_conversation is not None


def test_a_duplicate_delivery_is_answered_200_and_changes_nothing(inbound, repository):
    event = twilio_post("/sms/inbound", inbound_params("My order arrived broken"))
    assert inbound.http(event).status == 200
    before = table_items(repository)
    assert inbound.http(event).body == EMPTY_TWIML  # Twilio must not keep retrying it
    assert table_items(repository) == before
    assert [kind for kind, _ in outbox_events(repository)] == ["ComplaintReceived"]


@pytest.mark.parametrize(
    ("body", "media", "summary"), [("", "0", "(an empty message)"), ("", "2", "(2 attachments, no text)")]
)
def test_an_empty_or_media_only_text_is_accepted_and_stored(inbound, repository, body, media, summary):
    extra = {"MediaUrl0": "https://api.twilio.com/m0", "MediaContentType0": "image/jpeg"} if media != "0" else {}
    answer = inbound.http(twilio_post("/sms/inbound", inbound_params(body, NumMedia=media, **extra)))
    assert (answer.status, answer.body) == (200, EMPTY_TWIML)
    conversation, [message] = repository.conversation_with_messages(repository.customer(CUSTOMER).open_conversation)
    assert (conversation.summary, message.body, message.num_media) == (summary, "", int(media))


def test_a_signed_request_for_another_twilio_account_says_so(inbound, repository):
    answer = inbound.http(twilio_post("/sms/inbound", inbound_params("Hello", AccountSid="AC" + "b" * 32)))
    assert answer.status == 403
    assert f"for Twilio account AC{'b' * 32}, not this stack's" in json.loads(answer.body)["title"]
    assert table_items(repository) == []


def test_stop_is_recorded_before_the_webhook_answers(inbound, repository):
    answer = inbound.http(twilio_post("/sms/inbound", inbound_params("STOP")))
    assert answer.status == 200
    customer = repository.customer(CUSTOMER)
    assert (customer.consent, customer.opt_out_confirmation) == ("opted_out", "not_needed")
    assert [kind for kind, _ in outbox_events(repository)] == ["ConsentRevoked"]


# ------------------------------------------------------------------------------- delivery status


def callback(delivery_status, route, sid, status, error_code=None):
    """Twilio posting a status for ``sid`` to ``route`` (the StatusCallback smsdesk gave it)."""
    return delivery_status.http(twilio_post(route, status_params(sid, status, error_code)))


@pytest.fixture
def route(twilio, sent_sid):
    return callback_route(twilio, sent_sid)


def test_the_callback_url_says_which_message_without_any_personal_data(delivery_status, route):
    assert route == "/sms/status?m=k1"  # the number comes back as Twilio's signed `To`


def test_signed_status_callbacks_are_recorded_with_204(delivery_status, repository, sent_sid, route):
    assert [callback(delivery_status, route, sent_sid, s).status for s in ("sent", "delivered")] == [204, 204]
    assert message_with_sid(repository, sent_sid).status == "delivered"


def test_out_of_order_and_repeated_callbacks_never_move_the_status_back(delivery_status, repository, sent_sid, route):
    statuses = ("delivered", "sending", "sent", "delivered")
    answers = [callback(delivery_status, route, sent_sid, s).status for s in statuses]
    assert answers == [204, 204, 204, 204]  # stale ones are acknowledged, so Twilio stops
    message = message_with_sid(repository, sent_sid)
    assert (message.status, message.status_rank) == ("delivered", 4)


def test_a_callback_for_an_unknown_message_is_a_503_so_twilio_retries(delivery_status, repository, route):
    before = table_items(repository)
    answer = callback(delivery_status, route, "SM" + "f" * 32, "delivered")  # not the SID on that message
    assert (answer.status, answer.content_type) == (503, "application/problem+json")
    assert table_items(repository) == before


def test_a_callback_for_a_conversation_that_does_not_exist_is_logged_and_acknowledged(delivery_status, repository):
    before = table_items(repository)
    answer = callback(delivery_status, "/sms/status?m=agent-1&c=C-ZZZZ", "SM" + "f" * 32, "delivered")
    assert answer.status == 204  # not a 503: Twilio would retry it for ever
    assert table_items(repository) == before


def test_a_forged_status_callback_is_refused(delivery_status, repository, sent_sid, route):
    event = twilio_post(route, status_params(sent_sid, "failed", 21610), auth_token="x" * 32)
    assert delivery_status.http(event).status == 403
    assert message_with_sid(repository, sent_sid).status == "queued"
    assert repository.customer(CUSTOMER).consent == "subscribed"


def test_a_callback_without_a_status_or_a_message_is_a_422(delivery_status, repository, sent_sid, route):
    params = {k: v for k, v in status_params(sent_sid, "sent").items() if k not in {"MessageStatus", "SmsStatus"}}
    assert delivery_status.http(twilio_post(route, params)).status == 422
    assert delivery_status.http(twilio_post("/sms/status", status_params(sent_sid, "sent"))).status == 422
    assert message_with_sid(repository, sent_sid).status == "queued"


def test_status_callback_for_an_inbound_message_is_not_ours(inbound, delivery_status, repository):
    inbound.http(twilio_post("/sms/inbound", inbound_params("Broken")))
    [conversation] = [c for c in repository.iterate_table() if isinstance(c, Conversation)]
    route = f"/sms/status?m=in-{message_sid(1)}&c={conversation.reference}"
    answer = callback(delivery_status, route, message_sid(1), "delivered")
    assert answer.status == 204  # acknowledged (and logged): no retry could ever make it ours
    [message] = [i for i in repository.iterate_table() if isinstance(i, Message)]
    assert message.status == "received"


def test_a_cold_start_loads_botocore_once_for_the_table_and_the_secret(inbound, repository):
    """Every model, the transactions and the secret's client share one botocore session, so a
    cold start's first text loads botocore's service data once (make bench: cold webhook)."""
    from smsdesk.aws.clients import session
    from smsdesk.table import Conversation, Customer, table_connection

    assert inbound.http(twilio_post("/sms/inbound", inbound_params("My order arrived broken", sid=1))).status == 200

    assert Customer._get_connection() is Conversation._get_connection()
    assert Customer._get_connection().connection is table_connection()
    assert table_connection().session is session()
