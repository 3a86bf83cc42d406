"""Reading and verifying Twilio's webhooks, with the twilio library's own signing."""

from urllib.parse import urlencode

import pytest
from twilio.request_validator import RequestValidator

from smsdesk.errors import BadWebhookRequest, ForgedWebhookRequest
from smsdesk.twilio_credentials import TwilioCredentials
from smsdesk.twilio_webhook import (
    WebhookRequest,
    delivery_status,
    inbound_sms,
    normalise_text,
    public_url,
    read_form,
    verify_signature,
)

SID = "AC" + "a" * 32
TOKEN = "t" * 32
CREDENTIALS = TwilioCredentials(SID, TOKEN)
URL = "https://abc123.execute-api.us-east-1.amazonaws.com/sms/inbound"
FORM = {
    "MessageSid": "SM" + "1" * 32,
    "AccountSid": SID,
    "From": "+14155550100",
    "To": "+15005550006",
    "Body": "My order arrived broken",
    "NumMedia": "0",
}


def signed(params, url=URL, token=TOKEN, body=None, headers=None):
    body = body if body is not None else urlencode(params).encode()
    signature = RequestValidator(token).compute_signature(url, params)
    all_headers = {"content-type": "application/x-www-form-urlencoded", "x-twilio-signature": signature}
    all_headers.update(headers or {})
    return WebhookRequest("POST", url, all_headers, body)


def no_refresh():
    return None


def verify(request, url=URL, refresh=no_refresh):
    params = read_form(request, 32_768)
    verify_signature(request, params, url, CREDENTIALS, refresh)
    return params


def test_a_correctly_signed_request_verifies_and_reads():
    params = verify(signed(FORM))
    sms = inbound_sms(params, SID)
    assert (sms.sender, sms.text, sms.message_sid) == ("+14155550100", "My order arrived broken", FORM["MessageSid"])


def test_a_forged_signature_is_refused():
    request = signed(FORM, token="x" * 32)
    with pytest.raises(ForgedWebhookRequest):
        verify(request)


def test_a_missing_signature_is_refused():
    request = signed(FORM)
    headers = {k: v for k, v in request.headers.items() if k != "x-twilio-signature"}
    with pytest.raises(ForgedWebhookRequest):
        verify(WebhookRequest("POST", URL, headers, request.body))


def test_a_tampered_body_is_refused():
    request = signed(FORM)
    tampered = request.body.replace(b"broken", b"fine")
    with pytest.raises(ForgedWebhookRequest):
        verify(WebhookRequest("POST", URL, request.headers, tampered))


def test_a_rotated_token_is_re_read_once():
    new_token = "n" * 32
    request = signed(FORM, token=new_token)
    calls = []

    def refresh():
        calls.append(1)
        return TwilioCredentials(SID, new_token)

    verify(request, refresh=refresh)
    assert calls == [1]


def test_plus_and_percent_20_both_mean_a_space():
    for body in (b"Body=order+broken", b"Body=order%20broken"):
        params = read_form(
            WebhookRequest("POST", URL, {"content-type": "application/x-www-form-urlencoded"}, body), 1024
        )
        assert params["Body"] == "order broken"


def test_repeated_keys_are_signed_as_twilio_signs_them():
    pairs = [*FORM.items(), ("MediaUrl0", "https://a"), ("Tag", "b"), ("Tag", "a")]
    body = urlencode(pairs).encode()
    validator_params = {**FORM, "MediaUrl0": "https://a"}
    # Twilio sorts and concatenates every value of a repeated key
    text = URL + "".join(
        k + v for k, v in sorted([(k, v) for k, v in validator_params.items()] + [("Tag", "a"), ("Tag", "b")])
    )
    import base64
    import hmac
    from hashlib import sha1

    signature = base64.b64encode(hmac.new(TOKEN.encode(), text.encode(), sha1).digest()).decode()
    request = WebhookRequest(
        "POST", URL, {"content-type": "application/x-www-form-urlencoded", "x-twilio-signature": signature}, body
    )
    params = verify(request)
    assert params.getall("Tag") == ["b", "a"]


def test_unknown_new_twilio_parameters_are_ignored_but_signed():
    params = verify(signed({**FORM, "SomeFutureParameter": "x"}))
    assert inbound_sms(params, SID).text == "My order arrived broken"


def test_behind_a_custom_domain_the_public_url_is_what_was_signed():
    public = "https://sms.acme.example"
    request = signed(FORM, url=public + "/sms/inbound")
    internal = WebhookRequest("POST", URL, request.headers, request.body)
    url = public_url(internal, public, "/sms/inbound")
    assert url == "https://sms.acme.example/sms/inbound"
    verify(internal, url=url)


@pytest.mark.parametrize(
    ("headers", "body", "status"),
    [
        ({"content-type": "application/json"}, b"{}", 415),
        ({"content-type": "application/x-www-form-urlencoded"}, b"Body=" + b"a" * 40_000, 413),
        ({"content-type": "application/x-www-form-urlencoded"}, b"Body=%ff%fe", 400),
    ],
)
def test_malformed_bodies_get_a_clear_4xx(headers, body, status):
    with pytest.raises(BadWebhookRequest) as error:
        read_form(WebhookRequest("POST", URL, headers, body), 32_768)
    assert error.value.status == status


def test_only_post_is_accepted():
    with pytest.raises(BadWebhookRequest) as error:
        read_form(WebhookRequest("GET", URL, {}, b""), 32_768)
    assert error.value.status == 405


@pytest.mark.parametrize("missing", ["MessageSid", "From", "To"])
def test_missing_fields_are_a_422(missing):
    params = read_form(signed({k: v for k, v in FORM.items() if k != missing}), 32_768)
    with pytest.raises(BadWebhookRequest) as error:
        inbound_sms(params, SID)
    assert error.value.status == 422 and missing in str(error.value)


def test_an_empty_body_with_media_is_a_message():
    params = read_form(signed({**FORM, "Body": "", "NumMedia": "2"}), 32_768)
    sms = inbound_sms(params, SID)
    assert (sms.text, sms.num_media) == ("", 2)


def test_an_empty_body_without_media_is_accepted_as_an_empty_text():
    params = read_form(signed({**FORM, "Body": "  "}), 32_768)
    assert (inbound_sms(params, SID).text, inbound_sms(params, SID).num_media) == ("", 0)


def test_another_accounts_request_is_refused_saying_so():
    params = read_form(signed({**FORM, "AccountSid": "AC" + "b" * 32}), 32_768)
    with pytest.raises(BadWebhookRequest, match=f"for Twilio account AC{'b' * 32}, not this stack's") as refused:
        inbound_sms(params, SID)
    assert refused.value.status == 403


def test_odd_unicode_is_normalised_not_rejected():
    text = "\u200bMy ｏrder\u0000 arrived broken 😡\u202e"
    assert normalise_text(text) == "My ｏrder arrived broken 😡"


def test_optout_type_is_read_only_when_it_is_a_known_value():
    params = read_form(signed({**FORM, "OptOutType": "stop"}), 32_768)
    assert inbound_sms(params, SID).opt_out_type == "STOP"
    params = read_form(signed({**FORM, "OptOutType": "SOMETHING"}), 32_768)
    assert inbound_sms(params, SID).opt_out_type is None


CALLBACK = "https://hooks.example.test/sms/status?m=acknowledgement&c=C-7F3K"


def test_status_callbacks_are_read_with_the_message_their_url_names():
    form = {"MessageSid": "SM" + "2" * 32, "MessageStatus": "undelivered", "ErrorCode": "30003", "To": "+12125550123"}
    status = delivery_status(read_form(signed(form), 1024), CALLBACK)
    assert (status.status, status.error_code) == ("undelivered", 30003)
    assert (status.message_key, status.conversation, status.recipient) == ("acknowledgement", "C-7F3K", "+12125550123")
    on_the_customer = delivery_status(read_form(signed(form), 1024), "https://hooks.example.test/sms/status?m=help-SM1")
    assert (on_the_customer.message_key, on_the_customer.conversation) == ("help-SM1", None)


@pytest.mark.parametrize(
    "url",
    [
        "https://hooks.example.test/sms/status",
        "https://hooks.example.test/sms/status?m=a%20b",
        "https://hooks.example.test/sms/status?m=k1&c=not-a-reference",
    ],
)
def test_a_callback_url_that_names_no_message_is_a_422(url):
    form = {"MessageSid": "SM" + "2" * 32, "MessageStatus": "sent", "To": "+12125550123"}
    with pytest.raises(BadWebhookRequest) as refused:
        delivery_status(read_form(signed(form), 1024), url)
    assert refused.value.status == 422
