import pytest

from smsdesk.sms_segments import Encoding, count_segments, non_gsm_characters


@pytest.mark.parametrize(
    ("text", "encoding", "segments"),
    [
        ("", Encoding.GSM7, 0),
        ("a" * 160, Encoding.GSM7, 1),
        ("a" * 161, Encoding.GSM7, 2),
        ("a" * 306, Encoding.GSM7, 2),  # 2 x 153
        ("a" * 307, Encoding.GSM7, 3),
        ("€" * 80, Encoding.GSM7, 1),  # extension characters count twice
        ("€" * 81, Encoding.GSM7, 2),
        ("café à Zürich", Encoding.GSM7, 1),  # these accents are in GSM-7
        ("ł" * 70, Encoding.UCS2, 1),
        ("ł" * 71, Encoding.UCS2, 2),
        ("😀" * 35, Encoding.UCS2, 1),  # emoji are two UTF-16 units
        ("😀" * 36, Encoding.UCS2, 2),
    ],
)
def test_segments_are_counted_as_carriers_count_them(text, encoding, segments):
    count = count_segments(text)
    assert (count.encoding, count.segments) == (encoding, segments)


def test_one_curly_quote_switches_the_whole_text_to_ucs2():
    text = "We’re sorry" + "a" * 100
    assert count_segments(text).encoding is Encoding.UCS2
    assert count_segments(text).segments == 2
    assert non_gsm_characters(text) == "’"
