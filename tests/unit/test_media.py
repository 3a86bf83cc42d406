"""What is kept of the media customers text, and what is refused (smsdesk.media.decide): the
declared type on the allow-list, the bytes what they claim to be, the size under the cap."""

from __future__ import annotations

import pytest

from smsdesk.media import MAX_MEDIA_BYTES, arrived_media, decide, media_key, sniff

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01" + b"\x00" * 100
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 100
GIF = b"GIF89a\x01\x00\x01\x00" + b"\x00" * 100
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n" + b"\x00" * 100
HEIC = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 100
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 100
MP4 = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"\x00" * 100


@pytest.mark.parametrize(
    ("declared", "body", "stored_as"),
    [
        ("image/jpeg", JPEG, "image/jpeg"),
        ("image/png", PNG, "image/png"),
        ("image/gif", GIF, "image/gif"),
        ("image/heic", HEIC, "image/heic"),
        ("image/heif", HEIC, "image/heic"),
        ("application/pdf", PDF, "application/pdf"),
        ("IMAGE/JPEG; charset=binary", JPEG, "image/jpeg"),  # Twilio's case and parameters vary
    ],
)
def test_the_allowed_types_are_kept_as_what_their_bytes_are(declared, body, stored_as):
    decision = decide(declared, body, len(body))
    assert (decision.accepted, decision.content_type, decision.reason) == (True, stored_as, None)


def test_an_exe_declared_as_a_jpeg_is_refused_by_its_bytes():
    decision = decide("image/jpeg", EXE, len(EXE))
    assert not decision.accepted
    assert decision.reason == "declared image/jpeg but it is not a file of an accepted type"


def test_a_png_declared_as_a_jpeg_is_refused_too():
    decision = decide("image/jpeg", PNG, len(PNG))
    assert (decision.accepted, decision.reason) == (False, "declared image/jpeg but it is a PNG file")


@pytest.mark.parametrize("declared", ["video/mp4", "text/vcard", "application/octet-stream", "image/svg+xml", ""])
def test_types_off_the_allow_list_are_refused_whatever_the_bytes(declared):
    decision = decide(declared, JPEG, len(JPEG))
    assert not decision.accepted
    assert decision.reason == f"{declared or 'no type'} is not accepted (only JPEG, PNG, GIF, HEIC, PDF)"


def test_a_video_whose_box_looks_like_heic_is_not_heic():
    assert sniff(MP4) is None
    assert not decide("image/heic", MP4, len(MP4)).accepted


def test_the_size_cap_is_inclusive_and_one_byte_over_is_refused():
    assert decide("image/jpeg", JPEG, MAX_MEDIA_BYTES).accepted
    over = decide("image/jpeg", JPEG, MAX_MEDIA_BYTES + 1)
    assert (over.accepted, over.reason) == (False, "larger than the 5 MB limit")


def test_an_empty_file_is_refused():
    assert decide("image/png", b"", 0).reason == "the file is empty"


def test_the_webhooks_media_parameters_are_read_up_to_num_media():
    params = {
        "MediaUrl0": "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1",
        "MediaContentType0": "image/JPEG",
        "MediaUrl1": "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME2",
        "MediaContentType1": "application/pdf",
        "MediaUrl2": "https://example.test/not-announced",  # beyond NumMedia: ignored
    }
    media = arrived_media(params, 2)
    assert [(m.url[-3:], m.declared_type) for m in media] == [("ME1", "image/jpeg"), ("ME2", "application/pdf")]


def test_a_missing_url_is_recorded_empty_rather_than_dropping_the_text():
    assert [(m.url, m.declared_type) for m in arrived_media({}, 1)] == [("", "")]


def test_each_attachment_has_its_own_key_derived_from_message_and_index():
    assert media_key("in-MM1", 0) == "media/in-MM1/0"
    assert media_key("in-MM1", 0) != media_key("in-MM1", 1)
