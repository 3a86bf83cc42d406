"""A malformed or forged webhook gets the status and the sentence that say what is wrong: it is
what Twilio's debugger (and whoever reads it) shows for a refused request, and what the logs say.
And what a valid one says about the sender is read as Twilio means it."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from twilio.request_validator import HMAC_SHA256, RequestValidator

from smsdesk.errors import BadWebhookRequest, ForgedWebhookRequest
from smsdesk.twilio_webhook import WebhookRequest, delivery_status, inbound_sms, read_form
from tests.unit.test_twilio_webhook import FORM, SID, TOKEN, URL, signed, verify

CALLBACK_URL = "https://hooks.example.test/sms/status?m=acknowledgement&c=C-7F3K"
CALLBACK = {"MessageSid": "SM" + "2" * 32, "MessageStatus": "delivered", "To": "+12125550123"}
FORM_POST = {"content-type": "application/x-www-form-urlencoded"}


def refusal(read, *args):
    with pytest.raises(BadWebhookRequest) as refused:
        read(*args)
    return refused.value.status, str(refused.value)


@pytest.mark.parametrize(
    ("url", "form", "status", "says"),
    [
        (
            "https://hooks.example.test/sms/status",
            CALLBACK,
            422,
            "the callback URL does not say which message it is about",
        ),
        (CALLBACK_URL, {**CALLBACK, "To": ""}, 422, "To is not an E.164 phone number"),
        (CALLBACK_URL, {**CALLBACK, "MessageSid": "SM123"}, 422, "MessageSid is missing or not a Twilio message SID"),
        (CALLBACK_URL, {**CALLBACK, "MessageStatus": " "}, 422, "MessageStatus is missing"),
        (CALLBACK_URL, {**CALLBACK, "ErrorCode": "30003x"}, 422, "ErrorCode is not a number"),
    ],
)
def test_a_malformed_status_callback_is_refused_saying_what_is_wrong(url, form, status, says):
    assert refusal(delivery_status, read_form(signed(form), 4096), url) == (status, says)


def test_a_status_callback_with_only_the_legacy_sms_names_is_read():
    legacy = {"SmsSid": "SM" + "2" * 32, "SmsStatus": "Delivered", "To": "+12125550123"}
    callback = delivery_status(read_form(signed(legacy), 4096), CALLBACK_URL)
    assert (callback.message_sid, callback.status) == ("SM" + "2" * 32, "delivered")


@pytest.mark.parametrize(
    ("form", "status", "says"),
    [
        ({k: v for k, v in FORM.items() if k not in ("From", "To")}, 422, "missing From, To"),
        ({**FORM, "MessageSid": "SM-not-a-sid"}, 422, "MessageSid is not a Twilio message SID"),
        ({**FORM, "From": "4155550100"}, 422, "From is not an E.164 phone number"),
        ({**FORM, "Body": "a" * 1601}, 413, "Body longer than 1600 characters"),
        ({**FORM, "NumMedia": "two"}, 422, "NumMedia is not a number"),
    ],
)
def test_a_malformed_inbound_text_is_refused_saying_what_is_wrong(form, status, says):
    assert refusal(inbound_sms, read_form(signed(form), 32_768), SID) == (status, says)


@pytest.mark.parametrize(
    ("request_", "status", "says"),
    [
        (WebhookRequest("GET", URL, FORM_POST, b""), 405, "Twilio webhooks are POST requests"),
        (
            WebhookRequest("POST", URL, {"content-type": "text/plain"}, b"Body=hi"),
            415,
            "expected application/x-www-form-urlencoded",
        ),
        (WebhookRequest("POST", URL, FORM_POST, b"Body=" + b"a" * 2000), 413, "body larger than 1024 bytes"),
        (WebhookRequest("POST", URL, FORM_POST, b"Body=%ff"), 400, "body is not valid form encoding"),
    ],
)
def test_a_request_that_is_no_twilio_form_post_is_refused_saying_so(request_, status, says):
    assert refusal(read_form, request_, 1024) == (status, says)


def test_a_forged_or_unsigned_request_is_refused_saying_which():
    with pytest.raises(ForgedWebhookRequest, match=r"^X-Twilio-Signature does not match$"):
        verify(signed(FORM, token="x" * 32))
    unsigned = signed(FORM)
    headers = {k: v for k, v in unsigned.headers.items() if k != "x-twilio-signature"}
    with pytest.raises(ForgedWebhookRequest, match=r"^missing X-Twilio-Signature$"):
        verify(WebhookRequest("POST", URL, headers, unsigned.body))


@pytest.mark.parametrize(("given", "read"), [(" CA ", "CA"), ("", None), (" ", None)])
def test_the_senders_state_is_read_for_their_time_zone(given, read):
    # The state decides the customer's quiet hours when their area code spans zones.
    assert inbound_sms(read_form(signed({**FORM, "FromState": given}), 32_768), SID).from_state == read


def test_a_negative_media_count_is_no_media():
    assert inbound_sms(read_form(signed({**FORM, "NumMedia": "-1"}), 32_768), SID).num_media == 0


@pytest.mark.parametrize("given", ["STOP", "start", " Help "])
def test_twilio_advanced_opt_out_types_are_each_read(given):
    # Twilio's Advanced Opt-Out names the business's own keywords' meaning: STOP, START or HELP.
    params = read_form(signed({**FORM, "Body": "ARRET", "OptOutType": given}), 32_768)
    assert inbound_sms(params, SID).opt_out_type == given.strip().upper()


def test_a_request_signed_with_twilios_sha256_signatures_verifies():
    # Webhooks signed with HMAC-SHA256 say so in X-Twilio-Webhooks-Signature-Settings.
    body = urlencode(FORM).encode()
    signature = RequestValidator(TOKEN).compute_signature(URL, FORM, HMAC_SHA256)
    headers = {
        **FORM_POST,
        "x-twilio-signature": signature,
        "x-twilio-webhooks-signature-settings": "key=webhooks_sharedkey_1,algorithm=HMAC_SHA256",
    }
    assert verify(WebhookRequest("POST", URL, headers, body))["Body"] == FORM["Body"]


def test_a_request_without_a_content_type_is_refused_saying_so():
    assert refusal(read_form, WebhookRequest("POST", URL, {}, b"Body=hi"), 1024) == (
        415,
        "expected application/x-www-form-urlencoded",
    )


def test_a_text_twilio_sends_without_a_media_count_has_no_media():
    form = {k: v for k, v in FORM.items() if k != "NumMedia"}
    assert inbound_sms(read_form(signed(form), 32_768), SID).num_media == 0
