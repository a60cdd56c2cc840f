"""The Tencent meeting code rule for bookings (topic/content → meeting_code, meeting_url)."""

from __future__ import annotations

import pytest

from roomagent.scheduling.calendar import extract_meeting


@pytest.mark.parametrize(
    ("texts", "code", "url"),
    [
        (("Weekly 123456789",), "123456789", None),
        (("会议号: 123 456 789",), "123456789", None),
        (("#腾讯会议:123-456-789",), "123456789", None),
        (("Meeting ID 123 4567 890",), "1234567890", None),
        (("", "join 123456789012 now"), "123456789012", None),
        (("https://meeting.tencent.com/dm/AbCdEf12",), None, "https://meeting.tencent.com/dm/AbCdEf12"),
        (("点击 https://meeting.tencent.com/s/987654321.",), "987654321",
         "https://meeting.tencent.com/s/987654321"),
        (("meet https://meeting.tencent.com/dm/x 会议号 555 666 777",), "555666777",
         "https://meeting.tencent.com/dm/x"),
        (("2026-11-22 10:00-11:00 review",), None, None),
        (("call 12345678",), None, None),  # 8 digits: too short
        (("ref 1234567890123",), None, None),  # 13 digits: too long
        ((None, None), None, None),
    ],
)  # fmt: skip
def test_extract(texts: tuple[str | None, ...], code: str | None, url: str | None) -> None:
    assert extract_meeting(*texts) == (code, url)


def test_labelled_code_wins_over_an_earlier_bare_number() -> None:
    assert extract_meeting("call 400 800 1234, 会议号 111 222 333") == ("111222333", None)
