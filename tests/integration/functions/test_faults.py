"""Faults and bad input at the Twilio webhooks: signatures, credentials, encodings, sizes, odd text.

Every case asserts what Twilio (or an attacker) gets back and that nothing was stored, lost or
duplicated. Where each fault case of the product brief is covered:

=============================================  =====================================================
fault                                          tests
=============================================  =====================================================
forged / missing signature                     test_webhook_handlers (403, nothing stored),
                                               unit/test_twilio_webhook (the verifier itself)
stale signatures: replayed, old token          here: replayed_genuine..., previous_token...
rotated auth token, one re-fetch, fail closed  here: rotated_token..., forgery_storm...
custom domain (PUBLIC_BASE_URL), stage path    here: *_behind_*; unit/test_twilio_webhook (public_url)
base64 and plain bodies, invalid base64/UTF-8  here: body_encodings...
``+`` vs ``%20``, ``%2B``                      here: plus_and_percent...; unit/test_twilio_webhook
repeated keys                                  here: repeated_keys...; unit/test_twilio_webhook
unknown new Twilio parameters                  here (handler); unit/test_twilio_webhook (verifier)
emoji, UCS-2, odd unicode                      here: unicode...; unit/test_twilio_webhook (normalise)
1 MB bodies, long texts                        here: bodies_over_the_largest..., oversized_request...,
                                               a_text_of_ten_ucs2_segments...
empty body with media (NumMedia=1, no Body)    here: a_photo_without_text...; integration/test_inbound
missing MessageSid/From/To, wrong content type test_webhook_handlers
concurrent duplicate MessageSids (threads)     test_faults_in_dependencies (handlers);
                                               integration/test_inbound (service)
Twilio 429/20429 backoff and jitter            test_faults_in_dependencies; test_send_gateway (count)
Twilio 5xx, timeouts                           test_faults_in_dependencies; test_send_gateway (5xx after
                                               create, Twilio staying down)
21610, 21211 when sending                      test_faults_in_dependencies (handlers);
                                               test_send_gateway (gateway)
30003-30008, 21610 via status callbacks        test_faults_in_dependencies (handlers);
                                               integration/test_delivery_status (recorder)
status callbacks duplicated, out of order      test_webhook_handlers
DynamoDB throttling, conditional-check races   test_faults_in_dependencies; test_send_gateway (opt-out
                                               between read and claim)
EventBridge / Scheduler duplicate deliveries   test_event_handlers (ack, keyword, consent, HELP, SLA);
                                               test_faults_in_dependencies (concurrent)
EventBridge failures in the relay              test_event_handlers
Lambda crash between claim and send            test_faults_in_dependencies (handler);
                                               test_send_gateway (gateway)
past ``at()`` times, DST edges in scheduling   test_faults_in_dependencies; unit/test_quiet_hours
nothing sent to an opted-out number            test_faults_in_dependencies, test_event_handlers,
                                               test_send_gateway, test_consent_processing
no number unmasked / no card number in logs    every test (tests/support/privacy.py, checked by
                                               unit/test_log_privacy_check)
=============================================  =====================================================
"""

from __future__ import annotations

import json
from datetime import timedelta
from urllib.parse import urlencode

import boto3
import pytest

from smsdesk.table import Conversation, Message
from tests.integration.conftest import ACCOUNT_SID, AUTH_TOKEN, CUSTOMER, ENVIRON, outbox_events
from tests.integration.functions.events import inbound_params, message_sid, twilio_post
from tests.support.api_gateway import EXECUTE_API_DOMAIN, form_body, twilio_signature, twilio_webhook_event

NEW_TOKEN = "rotated-auth-token-fedcba9876543210"
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


def table_items(repository) -> list[tuple[str, str]]:
    return sorted((item.pk, item.sk) for item in repository.iterate_table())


def messages(repository) -> list[Message]:
    return sorted((i for i in repository.iterate_table() if isinstance(i, Message)), key=lambda m: m.key)


def rotate_secret(token: str, previous: str | None = None) -> None:
    value = {"account_sid": ACCOUNT_SID, "auth_token": token} | ({"previous_auth_token": previous} if previous else {})
    boto3.client("secretsmanager").put_secret_value(
        SecretId=ENVIRON["TWILIO_SECRET_ID"], SecretString=json.dumps(value)
    )


@pytest.fixture
def secret_reads(aws_faults):
    """Counts GetSecretValue calls (the credentials client is created once per process)."""
    from smsdesk.aws.clients import client

    aws_faults.watch(client("secretsmanager"))
    return lambda: aws_faults.calls["secrets-manager.GetSecretValue"]


@pytest.fixture
def inbound(lambdas, secret_reads):
    return lambdas.load("InboundSmsFunction")


# ------------------------------------------------------------------------------- stale signatures


def test_a_replayed_genuine_request_days_later_changes_nothing(inbound, repository, clock):
    captured = twilio_post("/sms/inbound", inbound_params("My order arrived broken"))
    assert inbound.http(captured).status == 200
    before = table_items(repository)
    clock.advance(timedelta(days=3))

    replay = inbound.http(captured)

    assert (replay.status, replay.body) == (200, EMPTY_TWIML)  # a duplicate: Twilio stops retrying
    assert table_items(repository) == before
    assert [kind for kind, _ in outbox_events(repository)] == ["ComplaintReceived"]


def test_a_request_signed_with_the_previous_token_is_refused_after_rotation(inbound, repository, clock, secret_reads):
    assert inbound.http(twilio_post("/sms/inbound", inbound_params("First", sid=1))).status == 200
    rotate_secret(NEW_TOKEN)
    clock.advance(timedelta(minutes=2))

    stale = inbound.http(twilio_post("/sms/inbound", inbound_params("Forged", sid=2), auth_token=AUTH_TOKEN))

    # The cached (old) token still verifies it until the cache is refreshed: that is the
    # window Secrets Manager caching allows. After the 5-minute max age it is refused.
    assert stale.status == 200
    clock.advance(timedelta(minutes=5))
    refused = inbound.http(twilio_post("/sms/inbound", inbound_params("Forged", sid=3), auth_token=AUTH_TOKEN))
    assert refused.status == 403
    assert message_sid(3) not in {m.twilio_sid for m in messages(repository)}


# ------------------------------------------------------------------------------- rotated token


def test_a_rotated_token_is_re_read_once_and_the_request_accepted(inbound, repository, clock, secret_reads):
    assert inbound.http(twilio_post("/sms/inbound", inbound_params("First", sid=1))).status == 200
    assert secret_reads() == 1  # the cold start's read
    rotate_secret(NEW_TOKEN)  # the business rotated the token in Twilio and in the secret
    clock.advance(timedelta(minutes=2))

    answers = [
        inbound.http(twilio_post("/sms/inbound", inbound_params(f"Text {n}", sid=n), auth_token=NEW_TOKEN)).status
        for n in (2, 3, 4)
    ]

    assert answers == [200, 200, 200]
    assert secret_reads() == 2  # one forced re-read, then the new token is cached
    assert {m.twilio_sid for m in messages(repository)} == {message_sid(n) for n in (1, 2, 3, 4)}


def test_a_rollover_as_the_readme_describes_it_refuses_no_webhook(inbound, repository, clock, secret_reads):
    assert inbound.http(twilio_post("/sms/inbound", inbound_params("First", sid=1))).status == 200
    # 1-2. A secondary token is created in Twilio and stored as auth_token, the current one as
    # previous_auth_token; Twilio still signs with the current one.
    rotate_secret(NEW_TOKEN, previous=AUTH_TOKEN)
    signed_with = {2: AUTH_TOKEN, 3: AUTH_TOKEN, 4: NEW_TOKEN, 5: AUTH_TOKEN, 6: NEW_TOKEN}
    answers = []
    for n, token in signed_with.items():
        clock.advance(timedelta(minutes=3))  # 3. after the cache's 5 minutes, Twilio promotes the new token;
        # requests signed before the switch may still arrive (Twilio's retries)
        answers.append(
            inbound.http(twilio_post("/sms/inbound", inbound_params(f"Text {n}", sid=n), auth_token=token)).status
        )

    assert answers == [200] * 5
    assert secret_reads() == 3  # the cold start, then once per expired cache: no forced re-read
    # 4. previous_auth_token is removed: once the cache turns over, the old token is refused.
    rotate_secret(NEW_TOKEN)
    clock.advance(timedelta(minutes=6))
    stale = inbound.http(twilio_post("/sms/inbound", inbound_params("Old", sid=7), auth_token=AUTH_TOKEN))
    assert stale.status == 403


def test_a_token_rotated_in_twilio_but_not_yet_in_the_secret_fails_closed(inbound, repository, clock, secret_reads):
    inbound.http(twilio_post("/sms/inbound", inbound_params("First", sid=1)))
    clock.advance(timedelta(minutes=2))

    answer = inbound.http(twilio_post("/sms/inbound", inbound_params("Second", sid=2), auth_token=NEW_TOKEN))

    assert answer.status == 403
    assert secret_reads() == 2  # it looked once for a new token, found none, refused
    assert [m.twilio_sid for m in messages(repository)] == [message_sid(1)]


def test_a_forgery_storm_costs_one_secret_read_a_minute_not_one_per_request(inbound, repository, clock, secret_reads):
    answers = set()
    for n in range(1, 101):  # 100 forged requests, one a second
        event = twilio_post("/sms/inbound", inbound_params("Send me money", sid=n), auth_token="f" * 32)
        answers.add(inbound.http(event).status)
        clock.advance(timedelta(seconds=1))

    assert answers == {403}
    assert secret_reads() == 2  # the cold start's, and one re-read after a minute
    assert table_items(repository) == []


def test_an_oversized_request_is_refused_before_the_secret_is_read(inbound, repository, secret_reads):
    answer = inbound.http(twilio_post("/sms/inbound", inbound_params("x" * 1_048_576)))
    assert answer.status == 413
    assert secret_reads() == 0
    assert table_items(repository) == []


# ------------------------------------------------------------------------------- the public URL


@pytest.fixture
def no_public_base_url(lambdas):
    """The template's default: no custom domain, so the webhook rebuilds its URL from the request."""
    lambdas.environ["PUBLIC_BASE_URL"] = ""


def test_on_the_execute_api_domain_the_url_is_rebuilt_from_the_request(no_public_base_url, lambdas, repository):
    inbound = lambdas.load("InboundSmsFunction")
    url = f"https://{EXECUTE_API_DOMAIN}/sms/inbound"
    answer = inbound.http(twilio_webhook_event(url, inbound_params("Broken"), auth_token=AUTH_TOKEN))
    assert answer.status == 200
    assert len(messages(repository)) == 1


def test_behind_a_stage_path_the_signed_url_includes_the_stage(no_public_base_url, lambdas, repository):
    inbound = lambdas.load("InboundSmsFunction")
    url = f"https://{EXECUTE_API_DOMAIN}/prod/sms/inbound?tenant=acme&region=east"
    event = twilio_webhook_event(
        url, inbound_params("Broken"), auth_token=AUTH_TOKEN, stage="prod", route="/sms/inbound"
    )
    assert event["rawPath"] == "/prod/sms/inbound"
    assert inbound.http(event).status == 200
    assert len(messages(repository)) == 1


def test_behind_a_custom_domain_mapping_only_public_base_url_verifies(no_public_base_url, lambdas, repository):
    # Twilio calls the custom domain; its API mapping key ("twilio") is not in rawPath.
    url = "https://sms.acme.example/twilio/sms/inbound"

    def post(sid):
        return twilio_webhook_event(
            url,
            inbound_params("Broken", sid=sid),
            auth_token=AUTH_TOKEN,
            raw_path="/sms/inbound",
            domain="sms.acme.example",
            route="/sms/inbound",
        )

    rebuilt = lambdas.load("InboundSmsFunction").http(post(1))
    lambdas.environ["PUBLIC_BASE_URL"] = "https://sms.acme.example/twilio"
    configured = lambdas.load("InboundSmsFunction").http(post(2))

    assert (rebuilt.status, configured.status) == (403, 200)
    assert [m.twilio_sid for m in messages(repository)] == [message_sid(2)]


def test_behind_cloudfront_public_base_url_wins_over_the_host_api_gateway_saw(lambdas, repository):
    # ENVIRON's PUBLIC_BASE_URL (https://hooks.example.test) fronts the execute-api domain.
    inbound = lambdas.load("InboundSmsFunction")
    event = twilio_post("/sms/inbound", inbound_params("Broken"), domain=EXECUTE_API_DOMAIN)
    assert event["headers"]["host"] == EXECUTE_API_DOMAIN
    assert inbound.http(event).status == 200


# ------------------------------------------------------------------------------- encodings


def test_body_encodings(inbound, repository):
    """Base64 (what an HTTP API sends for a form) and plain text (a REST API, a test tool) both
    verify; a body that is not valid base64, or not UTF-8, is a 400 that changes nothing."""
    plain = twilio_post("/sms/inbound", inbound_params("Plain body", sid=1), base64_body=False)
    encoded = twilio_post("/sms/inbound", inbound_params("Encoded body", sid=2))
    assert (plain["isBase64Encoded"], encoded["isBase64Encoded"]) == (False, True)
    assert [inbound.http(plain).status, inbound.http(encoded).status] == [200, 200]

    not_base64 = twilio_post("/sms/inbound", inbound_params("x", sid=3))
    not_base64["body"] = "not*base64!"
    latin1 = inbound_params("caf\xe9", sid=4)
    not_utf8 = twilio_post("/sms/inbound", latin1, body=urlencode(latin1, encoding="latin-1").encode())
    answers = [inbound.http(not_base64), inbound.http(not_utf8)]

    assert [(a.status, a.json()["title"]) for a in answers] == [
        (400, "body is not valid base64"),
        (400, "body is not valid form encoding"),
    ]
    assert [m.body for m in messages(repository)] == ["Plain body", "Encoded body"]


def test_plus_and_percent_20_are_spaces_and_percent_2b_is_a_plus(inbound, repository):
    params = inbound_params("order broken + lid cracked", sid=1)
    signature = twilio_signature(ENVIRON["PUBLIC_BASE_URL"] + "/sms/inbound", params, AUTH_TOKEN)
    with_plus = form_body(params)  # Twilio's own encoding: "+" for spaces, "%2B" for "+"
    assert b"From=%2B12125550123" in with_plus and b"Body=order+broken+%2B+lid+cracked" in with_plus
    with_percent_20 = with_plus.replace(b"+", b"%20")

    first = inbound.http(twilio_post("/sms/inbound", params, body=with_plus, signature=signature))
    again = inbound.http(twilio_post("/sms/inbound", params, body=with_percent_20, signature=signature))

    assert (first.status, again.status) == (200, 200)  # the same parameters, the same signature
    [message] = messages(repository)  # the same MessageSid: the second is a duplicate
    assert (message.body, message.customer) == ("order broken + lid cracked", CUSTOMER)


def test_a_raw_plus_in_from_is_a_space_and_the_signature_no_longer_matches(inbound, repository):
    params = inbound_params("Broken", sid=1)
    body = form_body(params).replace(b"From=%2B", b"From=+")
    assert inbound.http(twilio_post("/sms/inbound", params, body=body)).status == 403
    assert table_items(repository) == []


def test_repeated_keys_are_all_signed_and_the_first_one_is_read(inbound, repository):
    pairs = [*inbound_params("Photo of the damage", sid=1).items(), ("Tag", "b"), ("Tag", "a")]
    answer = inbound.http(twilio_post("/sms/inbound", pairs))
    tampered = twilio_post("/sms/inbound", pairs, body=urlencode([*pairs, ("Tag", "c")]).encode())
    assert (answer.status, inbound.http(tampered).status) == (200, 403)
    assert [m.body for m in messages(repository)] == ["Photo of the damage"]


def test_unknown_new_twilio_parameters_are_signed_and_ignored(inbound, repository):
    params = inbound_params(
        "My order arrived broken",
        sid=1,
        MessagingServiceSid="MG" + "a" * 32,
        ChannelMetadata=json.dumps({"type": "rcs", "data": {"profile": "x"}}),
        SomethingTwilioAddsNext="1",
    )
    assert inbound.http(twilio_post("/sms/inbound", params)).status == 200
    assert [m.body for m in messages(repository)] == ["My order arrived broken"]


# ------------------------------------------------------------------------------- text and size


@pytest.mark.parametrize(
    ("sent", "stored"),
    [
        ("Mi pedido llegó roto 😡😡", "Mi pedido llegó roto 😡😡"),
        ("我的订单坏了，请帮忙", "我的订单坏了，请帮忙"),
        ("طلبي وصل مكسور", "طلبي وصل مكسور"),
        ("cafe\u0301 order broken", "café order broken"),  # decomposed accent, stored NFC
        ("\u200bbroken\u200d zipper\u202e", "broken zipper"),  # zero-width and direction marks
        ("🙃", "🙃"),
    ],
)
def test_unicode_texts_are_kept_and_normalised(inbound, repository, sent, stored):
    assert inbound.http(twilio_post("/sms/inbound", inbound_params(sent))).status == 200
    [message] = messages(repository)
    assert message.body == stored
    [(_, detail)] = outbox_events(repository)
    assert detail["text"] == stored


def test_a_text_of_ten_ucs2_segments_is_accepted_and_longer_is_a_413(inbound, repository):
    longest = "é" * 1600  # Twilio's limit for one message: 1,600 characters
    assert inbound.http(twilio_post("/sms/inbound", inbound_params(longest, sid=1))).status == 200
    answer = inbound.http(twilio_post("/sms/inbound", inbound_params(longest + "é", sid=2)))
    assert answer.status == 413
    assert [m.twilio_sid for m in messages(repository)] == [message_sid(1)]


@pytest.mark.parametrize(("size", "status"), [(1_048_576, 200), (1_048_577, 413), (4 * 1_048_576, 413)])
def test_bodies_over_the_largest_configurable_limit_are_a_413(lambdas, repository, size, status):
    lambdas.environ["WEBHOOK_MAX_BODY_BYTES"] = str(1_048_576)  # the most WebhookSettings allows
    inbound = lambdas.load("InboundSmsFunction")
    pairs = list(inbound_params("Broken").items())
    padding = size - len(form_body([*pairs, ("Padding", "")]))
    pairs.append(("Padding", "x" * padding))  # an unknown parameter, signed like the rest
    assert len(form_body(pairs)) == size

    answer = inbound.http(twilio_post("/sms/inbound", pairs))

    assert answer.status == status
    assert len(messages(repository)) == (1 if status == 200 else 0)


def test_a_photo_without_text_opens_a_conversation(inbound, repository):
    params = inbound_params(
        None,
        sid=1,
        NumMedia="1",
        MediaUrl0="https://api.twilio.com/2010-04-01/Accounts/AC/Messages/MM/Media/ME1",
        MediaContentType0="image/jpeg",
    )
    assert "Body" not in params
    assert inbound.http(twilio_post("/sms/inbound", params)).status == 200
    [conversation] = [i for i in repository.iterate_table() if isinstance(i, Conversation)]
    [message] = messages(repository)
    assert (conversation.summary, message.body, message.num_media) == ("(1 attachment, no text)", "", 1)
    [(kind, detail)] = outbox_events(repository)
    assert (kind, detail["num_media"]) == ("ComplaintReceived", 1)


def test_no_text_and_no_media_is_stored_as_an_empty_message(inbound, repository):
    answer = inbound.http(twilio_post("/sms/inbound", inbound_params("   \u200b ", NumMedia="0")))
    assert answer.status == 200
    [message] = messages(repository)
    assert (message.body, message.num_media) == ("", 0)


def test_a_body_that_is_not_a_form_is_a_400(inbound, repository):
    params = inbound_params("x")
    answer = inbound.http(twilio_post("/sms/inbound", params, body=b"this is not a form"))
    assert answer.status == 400
    assert table_items(repository) == []


def test_a_card_number_in_a_text_is_redacted_before_it_is_stored_announced_or_logged(inbound, repository):
    text = "You charged card 4111 1111 1111 1111 twice"
    assert inbound.http(twilio_post("/sms/inbound", inbound_params(text))).status == 200
    [message] = messages(repository)
    assert message.body == "You charged card [card ending 1111] twice"
    assert "4111 1111" not in json.dumps([d for _, d in outbox_events(repository)])
    # (and the privacy check on this test's captured output shows it was not logged)
