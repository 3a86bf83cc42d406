"""A complaint texted in, through the whole local stack: webhook, table, stream, bus, the
acknowledgement function, the send gateway, the Twilio stand-in and its status callbacks."""

from __future__ import annotations

import re
import secrets
from urllib.parse import urlencode

import pytest
from twilio.request_validator import RequestValidator

from smsdesk_cli.http import request
from smsdesk_cli.main import main as smsdesk

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]


def signed_webhook(stack, sender: str, body: str, *, sid: str | None = None, token: str | None = None):
    info = stack.stack.local_info()
    url = info["webhooks"]["inbound"]
    params = {
        "MessageSid": sid or "SM" + secrets.token_hex(16),
        "AccountSid": info["twilio"]["account_sid"],
        "From": sender,
        "To": info["twilio"]["number"],
        "Body": body,
        "NumMedia": "0",
    }
    signature = RequestValidator(token or info["twilio"]["auth_token"]).compute_signature(url, params)
    return request(
        "POST",
        url,
        body=urlencode(params).encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": signature},
    )


def conversations_of(stack, number: str) -> list[dict]:
    answer = stack.stack.agent("GET", "/conversations", query={"status": "open", "limit": "100"})
    assert answer.status == 200
    return [c for c in answer.body["conversations"] if c["customer"] == number]


def test_a_texted_complaint_gets_one_acknowledgement_with_its_reference(local_stack, capsys):
    customer = "+12125550101"
    assert smsdesk(["--api", local_stack.url, "text", "--from", customer, "My order 4432 arrived broken"]) == 0

    [acknowledgement] = local_stack.texts_to(customer)
    [conversation] = conversations_of(local_stack, customer)
    assert conversation["status"] == "acknowledged"
    assert f"Your reference is {conversation['reference']}." in acknowledgement.body
    assert "sorry about your order" in acknowledgement.body
    # 10:00 on a Monday in New York, two business hours to reply.
    assert acknowledgement.body.endswith("A member of our team will reply by 12:05 PM today.")
    assert acknowledgement.status == "delivered"  # the stand-in's status callbacks were recorded
    printed = capsys.readouterr().out
    assert f"<- {acknowledgement.body}" in printed


def test_the_outbox_command_lists_what_was_sent_as_json(local_stack, capsys):
    customer = "+12125550102"
    smsdesk(["--api", local_stack.url, "text", "--from", customer, "The courier never showed up"])
    capsys.readouterr()
    assert smsdesk(["--api", local_stack.url, "outbox", "--to", customer, "--json"]) == 0
    import json

    [row] = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert row["to"] == customer
    assert row["status"] == "delivered"
    assert "sorry about your delivery" in row["body"]
    assert re.fullmatch(r"2026-11-23T15:\d\d:\d\d\.000Z", row["date_created"])


def test_a_forged_signature_is_refused_and_changes_nothing(local_stack):
    customer = "+12125550103"
    answer = signed_webhook(local_stack, customer, "My order is late", token="not-the-auth-token-at-all")
    assert answer.status == 403
    local_stack.stack.settle()
    assert local_stack.texts_to(customer) == []
    assert conversations_of(local_stack, customer) == []


def test_a_duplicate_delivery_of_one_message_is_acknowledged_once(local_stack):
    customer = "+12125550104"
    sid = "SM" + secrets.token_hex(16)
    for _ in range(3):  # Twilio retrying after a timeout
        assert signed_webhook(local_stack, customer, "Nobody answers the phone", sid=sid).status == 200
    local_stack.stack.settle()
    assert len(local_stack.texts_to(customer)) == 1
    assert len(conversations_of(local_stack, customer)) == 1


def test_a_stop_keyword_is_not_acknowledged_as_a_complaint(local_stack):
    customer = "+12125550105"
    assert signed_webhook(local_stack, customer, "STOP").status == 200
    local_stack.stack.settle()
    # Twilio answers STOP itself (its default), so smsdesk sends nothing, and opens no case.
    assert local_stack.texts_to(customer) == []
    assert conversations_of(local_stack, customer) == []


def test_the_agent_api_refuses_requests_without_a_valid_token(local_stack):
    url = f"{local_stack.url}/conversations"
    assert request("GET", url).status == 401
    assert request("GET", f"{local_stack.url}/anything-else").status == 404
    token = local_stack.stack.token()
    assert request("GET", url, headers={"Authorization": f"Bearer {token}"}).status == 200
    header, claims, signature = token.split(".")
    forged = ".".join([header, claims, signature[:-4] + ("AAAA" if not signature.endswith("AAAA") else "BBBB")])
    assert request("GET", url, headers={"Authorization": f"Bearer {forged}"}).status == 401


def test_the_console_never_shows_a_whole_phone_number(local_stack):
    customer = "+12125550106"
    assert signed_webhook(local_stack, customer, "The blender I bought leaks").status == 200
    local_stack.stack.settle()
    console = local_stack.wait_for_output("text to +1******0106")
    assert "text to +1******0106" in console
    assert "+12125550106" not in console


def test_the_local_token_endpoint_gives_tokens_to_the_machine_client_only(local_stack):
    import base64

    client = local_stack.stack.local_info()["machine_client"]

    def token_request(secret: str, grant: str = "client_credentials"):
        basic = base64.b64encode(f"{client['client_id']}:{secret}".encode()).decode()
        return request(
            "POST",
            client["token_url"],
            body=f"grant_type={grant}".encode(),
            headers={"Content-Type": "application/x-www-form-urlencoded", "Authorization": f"Basic {basic}"},
        )

    granted = token_request(client["client_secret"])
    assert (granted.status, granted.body["token_type"]) == (200, "Bearer")
    assert token_request("not-the-secret").body == {"error": "invalid_client"}
    assert token_request(client["client_secret"], "password").body == {"error": "unsupported_grant_type"}


def test_a_spanish_complaint_is_answered_in_spanish(local_stack, capsys):
    customer = "+12125550177"
    assert smsdesk(["--api", local_stack.url, "text", "--from", customer, "Mi pedido llegó roto y nadie contesta"]) == 0
    [acknowledgement] = local_stack.texts_to(customer)
    [conversation] = conversations_of(local_stack, customer)
    assert acknowledgement.body.startswith("Hola, le escribe ")
    assert f"Su referencia es {conversation['reference']}." in acknowledgement.body
    assert "Le responderemos hoy antes de las" in acknowledgement.body
    assert f"<- {acknowledgement.body}" in capsys.readouterr().out  # what the command printed
