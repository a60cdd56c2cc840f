"""A Tencent meeting code or link in a booking's free text (topic/content).

Rule (documented in docs/calendar.md): a meeting.tencent.com link wins; a code inside the link
(9–12 digits in its path or query) is taken from it. Otherwise a labelled code ("会议号",
"会议ID", "meeting code/ID/number", "#腾讯会议") and then the first bare number of 9–12 digits,
possibly grouped by single spaces or hyphens ("123 456 789", "123-456-789"). Groups must be
3–4 digits so dates and times ("2026-11-22", "10:00-11:00") never match.
"""

from __future__ import annotations

import re

_TENCENT_LINK = re.compile(r"https?://meeting\.tencent\.com/[^\s\"'<>，。)）]+", re.IGNORECASE)
_LINK_CODE = re.compile(r"(?<!\d)(\d{9,12})(?!\d)")
_GROUPED = r"(\d{3,4}(?:[ \-]\d{3,4}){1,3}|\d{9,12})"
_LABELLED_CODE = re.compile(
    r"(?:会议号|会议ID|会议id|meeting\s*(?:code|id|number|no\.?)|#腾讯会议)\s*[:：#]?\s*"
    + _GROUPED,
    re.IGNORECASE,
)
_BARE_CODE = re.compile(r"(?<![\d\-])" + _GROUPED + r"(?![\d\-])")


def _digits(candidate: str) -> str | None:
    digits = re.sub(r"[ \-]", "", candidate)
    return digits if 9 <= len(digits) <= 12 else None


def extract_meeting(*texts: str | None) -> tuple[str | None, str | None]:
    """(meeting_code, meeting_url) found in the texts, by the rule above."""
    text = "\n".join(t for t in texts if t)
    link = _TENCENT_LINK.search(text)
    url = link.group(0).rstrip(".,;") if link else None
    if url:
        in_link = _LINK_CODE.search(url)
        if in_link:
            return in_link.group(1), url
    for pattern in (_LABELLED_CODE, _BARE_CODE):
        for match in pattern.finditer(text):
            code = _digits(match.group(1))
            if code:
                return code, url
    return None, url


_ANY_LINK = re.compile(r"https?://[^\s\"'<>，。)）]+", re.IGNORECASE)


def find_link(hosts: list[str], *texts: str | None) -> str | None:
    """The first http(s) link in the texts whose host is one of `hosts` (or a subdomain)."""
    text = "\n".join(t for t in texts if t)
    for match in _ANY_LINK.finditer(text):
        url = match.group(0).rstrip(".,;")
        host = re.sub(r"^https?://", "", url, flags=re.IGNORECASE).split("/")[0].split(":")[0]
        if any(host == h or host.endswith("." + h) for h in hosts):
            return url
    return None
