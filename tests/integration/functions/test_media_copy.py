"""Photos customers text (MMS), from the webhook to the agent's thread: the webhook records what
arrived, the relay announces it, the template's rule delivers MediaReceived to the media copy
function, which fetches each attachment from Twilio (mocked at the HTTP layer with responses,
including its redirect to the CDN) and stores it in the media bucket (moto's S3) or refuses it;
the agent API shows each stored one through a short-lived link.
"""

from __future__ import annotations

import base64
import io
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest
import responses

from smsdesk.media import MAX_MEDIA_BYTES
from tests.integration.conftest import ACCOUNT_SID, API_KEY_SECRET, API_KEY_SID, CUSTOMER, ENVIRON
from tests.integration.functions.events import conversation_request, inbound_params, message_sid, twilio_post

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01" + bytes(range(256)) * 40
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 4000
BUCKET = ENVIRON["MEDIA_BUCKET"]


def media_url(sid: int, n: int) -> str:
    return f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/{message_sid(sid)}/Media/ME{n:032x}"


def cdn_url(n: int) -> str:
    return f"https://mms.twiliocdn.com/{ACCOUNT_SID}/{n:032x}?Expires=1795550000&Signature=abc"


@pytest.fixture
def bucket(cloud):
    boto3.client("s3").create_bucket(Bucket=BUCKET)
    return BUCKET


@pytest.fixture
def media_copy(lambdas, bucket):
    return lambdas.load("MediaCopyFunction")


def serve(twilio, n: int, status: int = 200, body: bytes = JPEG, content_type: str = "image/jpeg", **kwargs) -> None:
    """Twilio's media URL answers with a redirect to its CDN (HTTP auth on media enforced), and
    the CDN with the bytes; or the media URL itself answers ``status``."""
    if status != 200:
        twilio.mock.add(responses.GET, media_url(1, n), status=status, json={"code": 20404, "status": status})
        return
    twilio.mock.add(responses.GET, media_url(1, n), status=307, headers={"Location": cdn_url(n)})
    twilio.mock.add(responses.GET, cdn_url(n).split("?")[0], body=body, content_type=content_type, **kwargs)


def requests_to(twilio, url_prefix: str):
    return [call.request for call in twilio.mock.calls if call.request.url.startswith(url_prefix)]


def text_with_media(inbound, relay, cloud, *media: str, body: str = "The box arrived crushed, see photo") -> None:
    params = inbound_params(body, sid=1, NumMedia=str(len(media)))
    for n, content_type in enumerate(media):
        params[f"MediaUrl{n}"] = media_url(1, n)
        params[f"MediaContentType{n}"] = content_type
    answer = inbound.http(twilio_post("/sms/inbound", params))
    assert answer.status == 200, answer.body
    assert relay.invoke(cloud.stream.lambda_event()) == {"batchItemFailures": []}


def media_events(cloud):
    return cloud.rules.delivered("MediaCopyFunction")


def thread(agent_api, repository):
    reference = repository.customer(CUSTOMER).open_conversation
    answer = agent_api.http(conversation_request("GET", reference))
    assert answer.status == 200
    return answer.json()


def test_a_photo_is_copied_after_the_webhook_answered_and_shown_through_a_short_lived_link(
    inbound, relay, cloud, media_copy, agent_api, twilio, repository
):
    serve(twilio, 0)
    text_with_media(inbound, relay, cloud, "image/jpeg")
    assert requests_to(twilio, "https://api.twilio.com/2010-04-01/Accounts/" + ACCOUNT_SID + "/Messages/SM") == []
    pending = thread(agent_api, repository)["messages"][0]
    assert [a["status"] for a in pending["media"]] == ["pending"]

    [event] = media_events(cloud)
    assert media_copy.invoke(event) == {"handled": True, "stored": 1, "refused": 0}

    # Twilio was asked with the senders' API key; its CDN's pre-signed URL got no credentials.
    [api_request] = requests_to(twilio, media_url(1, 0))
    expected = "Basic " + base64.b64encode(f"{API_KEY_SID}:{API_KEY_SECRET}".encode()).decode()
    assert api_request.headers["Authorization"] == expected
    [cdn_request] = requests_to(twilio, "https://mms.twiliocdn.com/")
    assert "Authorization" not in cdn_request.headers
    key = f"media/in-{message_sid(1)}/0"
    stored = boto3.client("s3").get_object(Bucket=BUCKET, Key=key)
    assert (stored["Body"].read(), stored["ContentType"]) == (JPEG, "image/jpeg")

    view = thread(agent_api, repository)
    [attachment] = view["messages"][0]["media"]
    assert (attachment["status"], attachment["content_type"], attachment["size"]) == ("stored", "image/jpeg", len(JPEG))
    assert (view["messages"][0]["media_stored"], view["media_stored"]) == (1, 1)
    link = urlsplit(attachment["url"])
    assert link.path.endswith(f"/{key}") and BUCKET in attachment["url"]
    assert parse_qs(link.query)["X-Amz-Expires"] == ["300"]


def test_what_twilio_no_longer_has_is_refused_with_the_reason(
    inbound, relay, cloud, media_copy, agent_api, twilio, repository
):
    serve(twilio, 0, status=404)
    text_with_media(inbound, relay, cloud, "image/jpeg")
    [event] = media_events(cloud)

    assert media_copy.invoke(event) == {"handled": True, "stored": 0, "refused": 1}

    [attachment] = thread(agent_api, repository)["messages"][0]["media"]
    assert (attachment["status"], attachment["reason"], attachment["url"]) == (
        "refused",
        "Twilio no longer has it (404)",
        None,
    )
    assert boto3.client("s3").list_objects_v2(Bucket=BUCKET).get("KeyCount") == 0


def test_an_exe_declared_as_a_jpeg_is_refused_and_never_stored(
    inbound, relay, cloud, media_copy, agent_api, twilio, repository
):
    serve(twilio, 0, body=EXE, content_type="image/jpeg")
    text_with_media(inbound, relay, cloud, "image/jpeg")
    [event] = media_events(cloud)

    media_copy.invoke(event)

    [attachment] = thread(agent_api, repository)["messages"][0]["media"]
    assert (attachment["status"], attachment["reason"]) == (
        "refused",
        "declared image/jpeg but it is not a file of an accepted type",
    )
    assert boto3.client("s3").list_objects_v2(Bucket=BUCKET).get("KeyCount") == 0


class EndlessPhoto(io.RawIOBase):
    """A download with no end (no Content-Length): a JPEG header, then zeros, counting reads."""

    def __init__(self) -> None:
        self.given = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        chunk = (b"\xff\xd8\xff\xe0" if self.given == 0 else b"") + b"\x00" * (
            len(buffer) - (4 if self.given == 0 else 0)
        )
        buffer[: len(chunk)] = chunk
        self.given += len(chunk)
        return len(chunk)


def test_an_oversize_file_is_refused_and_its_download_stopped_just_past_the_cap(
    inbound, relay, cloud, media_copy, agent_api, twilio, repository
):
    endless = EndlessPhoto()
    serve(twilio, 0, body=io.BufferedReader(endless), auto_calculate_content_length=False)
    text_with_media(inbound, relay, cloud, "image/jpeg")
    [event] = media_events(cloud)

    media_copy.invoke(event)

    [attachment] = thread(agent_api, repository)["messages"][0]["media"]
    assert (attachment["status"], attachment["reason"]) == ("refused", "larger than the 5 MB limit")
    assert MAX_MEDIA_BYTES < endless.given < MAX_MEDIA_BYTES + 1024 * 1024
    assert boto3.client("s3").list_objects_v2(Bucket=BUCKET).get("KeyCount") == 0


def test_a_file_announced_above_the_cap_is_refused_without_reading_it(
    inbound, relay, cloud, media_copy, agent_api, twilio, repository
):
    endless = EndlessPhoto()
    serve(twilio, 0, body=io.BufferedReader(endless), headers={"Content-Length": str(20 * 1024 * 1024)})
    text_with_media(inbound, relay, cloud, "image/jpeg")

    media_copy.invoke(media_events(cloud)[0])

    [attachment] = thread(agent_api, repository)["messages"][0]["media"]
    assert attachment["reason"] == "larger than the 5 MB limit"
    assert endless.given < 1024 * 1024


def test_types_off_the_allow_list_are_refused_without_downloading_them(
    inbound, relay, cloud, media_copy, agent_api, twilio, repository
):
    serve(twilio, 0)
    serve(twilio, 1)
    text_with_media(inbound, relay, cloud, "video/mp4", "image/jpeg")

    assert media_copy.invoke(media_events(cloud)[0]) == {"handled": True, "stored": 1, "refused": 1}

    assert requests_to(twilio, media_url(1, 0)) == []
    video, photo = thread(agent_api, repository)["messages"][0]["media"]
    assert (video["status"], video["reason"]) == (
        "refused",
        "video/mp4 is not accepted (only JPEG, PNG, GIF, HEIC, PDF)",
    )
    assert photo["status"] == "stored"


def test_a_redelivered_event_fetches_nothing_again_and_changes_nothing(
    inbound, relay, cloud, media_copy, agent_api, twilio, repository
):
    serve(twilio, 0)
    serve(twilio, 1, status=404)
    text_with_media(inbound, relay, cloud, "image/jpeg", "image/png")
    [event] = media_events(cloud)
    first = media_copy.invoke(event)
    before = thread(agent_api, repository)["messages"][0]["media"]

    again = media_copy.invoke(event)

    assert first == again == {"handled": True, "stored": 1, "refused": 1}
    assert len(requests_to(twilio, media_url(1, 0))) == 1 and len(requests_to(twilio, media_url(1, 1))) == 1
    after = thread(agent_api, repository)["messages"][0]["media"]
    assert [(a["status"], a["reason"], a["size"]) for a in after] == [
        (a["status"], a["reason"], a["size"]) for a in before
    ]
    assert boto3.client("s3").list_objects_v2(Bucket=BUCKET)["KeyCount"] == 1


def test_when_twilio_fails_for_now_the_invocation_fails_for_a_retry_and_the_photo_waits(
    inbound, relay, cloud, media_copy, agent_api, twilio, repository
):
    twilio.mock.add(responses.GET, media_url(1, 0), status=503)
    text_with_media(inbound, relay, cloud, "image/jpeg")
    [event] = media_events(cloud)

    with pytest.raises(Exception, match="could not be fetched now"):
        media_copy.invoke(event)
    assert [a["status"] for a in thread(agent_api, repository)["messages"][0]["media"]] == ["pending"]

    twilio.mock.replace(responses.GET, media_url(1, 0), status=307, headers={"Location": cdn_url(0)})
    twilio.mock.add(responses.GET, cdn_url(0).split("?")[0], body=JPEG, content_type="image/jpeg")
    assert media_copy.invoke(event) == {"handled": True, "stored": 1, "refused": 0}


def test_a_text_without_media_announces_none(inbound, relay, cloud, media_copy, twilio):
    answer = inbound.http(twilio_post("/sms/inbound", inbound_params("My order is late", sid=1)))
    assert answer.status == 200
    relay.invoke(cloud.stream.lambda_event())
    assert media_events(cloud) == []


def test_a_media_url_outside_this_twilio_account_is_never_fetched(
    inbound, relay, cloud, media_copy, agent_api, twilio, repository
):
    params = inbound_params("See the photo", sid=1, NumMedia="2")
    params |= {
        "MediaUrl0": "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
        "MediaContentType0": "image/jpeg",
        "MediaUrl1": media_url(1, 1).replace(ACCOUNT_SID, "AC" + "f" * 32),
        "MediaContentType1": "image/png",
    }
    assert inbound.http(twilio_post("/sms/inbound", params)).status == 200
    relay.invoke(cloud.stream.lambda_event())

    assert media_copy.invoke(media_events(cloud)[0]) == {"handled": True, "stored": 0, "refused": 2}

    assert [
        call.request.url for call in twilio.mock.calls if "Media" in call.request.url or "169.254" in call.request.url
    ] == []
    reasons = [a["reason"] for a in thread(agent_api, repository)["messages"][0]["media"]]
    assert reasons == ["not a media URL of this Twilio account"] * 2


def test_after_the_retention_period_the_thread_says_the_photo_was_deleted(
    inbound, relay, cloud, media_copy, agent_api, twilio, repository, clock
):
    from datetime import timedelta

    serve(twilio, 0)
    text_with_media(inbound, relay, cloud, "image/jpeg")
    media_copy.invoke(media_events(cloud)[0])

    clock.advance(timedelta(days=90, seconds=1))  # MediaRetentionDays: the bucket's lifecycle rule deletes it

    [attachment] = thread(agent_api, repository)["messages"][0]["media"]
    assert (attachment["status"], attachment["url"]) == ("expired", None)
    assert attachment["kept_until"].startswith("2027-02-21")


def test_a_redirect_to_plain_http_is_not_followed(inbound, relay, cloud, media_copy, agent_api, twilio, repository):
    twilio.mock.add(responses.GET, media_url(1, 0), status=307, headers={"Location": "http://mms.twiliocdn.com/x"})
    text_with_media(inbound, relay, cloud, "image/jpeg")

    media_copy.invoke(media_events(cloud)[0])

    assert requests_to(twilio, "http://mms.twiliocdn.com/") == []
    [attachment] = thread(agent_api, repository)["messages"][0]["media"]
    assert attachment["reason"] == "Twilio redirected the media to a URL that is not https"
