"""Text from the Rooms peer, bounded and cleaned before the mirror keeps it or a page shows it.

A peer may send a 200 KB meeting title or a 5,000-digit code: each string field has a length
limit (longer is cut, and counted), and control characters (NUL, ESC, CR …) are dropped, so
what reaches the status, the panel and the log is a plain line of sensible length.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from typing import Annotated

from pydantic import AfterValidator

# [assumption] generous for what the vendor sends: codes are 9-12 digits, titles a line.
CODE_MAX = 32
NAME_MAX = 128
TITLE_MAX = 256
URL_MAX = 2048
LIST_MAX = 100  # meetings in a meeting_list

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_lock = threading.Lock()
_cut = 0


def take_cut_count() -> int:
    """How many texts (or lists) were cut since the last call (the session counts them)."""
    global _cut
    with _lock:
        count, _cut = _cut, 0
    return count


def _note_cut() -> None:
    global _cut
    with _lock:
        _cut += 1


def _bounded(limit: int) -> Callable[[str], str]:
    def clean(value: str) -> str:
        if _CONTROL.search(value):
            value = _CONTROL.sub("", value)
        if len(value) > limit:
            _note_cut()
            value = value[:limit]
        return value

    return clean


def cut_list(limit: int) -> Callable[[list[object]], list[object]]:
    def cut(value: list[object]) -> list[object]:
        if len(value) > limit:
            _note_cut()
            return value[:limit]
        return value

    return cut


Code = Annotated[str, AfterValidator(_bounded(CODE_MAX))]
Name = Annotated[str, AfterValidator(_bounded(NAME_MAX))]
Title = Annotated[str, AfterValidator(_bounded(TITLE_MAX))]
Url = Annotated[str, AfterValidator(_bounded(URL_MAX))]
