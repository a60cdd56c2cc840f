"""The Huawei conferences this room booked, kept in the state directory.

`roomagent book --provider huawei` records each booking (id, subject, times, guest link: no
password, no chair link), so the agent's "invite into this room's Huawei meeting" acts only on
a conference the room booked, and by default on the one in progress.
"""

from __future__ import annotations

import contextlib
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from roomagent.scheduling.calendar_store import write_atomic
from roomagent.scheduling.huawei import Conference

FILE_NAME = "huawei-conferences.json"
KEEP = timedelta(days=2)  # ended conferences older than this are dropped


def _path(state_dir: Path) -> Path:
    return Path(state_dir) / FILE_NAME


def booked(state_dir: Path) -> list[dict[str, Any]]:
    """What the room booked (as `Conference.as_dict()`), oldest first; [] when none/unreadable."""
    with contextlib.suppress(OSError, ValueError):
        data = json.loads(_path(state_dir).read_text(encoding="utf-8"))
        if isinstance(data, list):
            return [c for c in data if isinstance(c, dict) and c.get("conference_id")]
    return []


def remember(state_dir: Path, conference: Conference, now: datetime | None = None) -> None:
    now = now or datetime.now(UTC)
    kept = [
        c
        for c in booked(state_dir)
        if c["conference_id"] != conference.conference_id and not _ended(c, now - KEEP)
    ]
    kept.append(conference.as_dict())
    write_atomic(_path(state_dir), json.dumps(kept, ensure_ascii=False, indent=1).encode())


def _ended(conference: dict[str, Any], before: datetime) -> bool:
    end = _moment(conference.get("end"))
    return end is not None and end < before


def _moment(value: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def choose(state_dir: Path, conference_id: str | None, now: datetime | None = None) -> str:
    """The conference to act on: the given one if the room booked it, else the one in
    progress now. ValueError (a sentence) when there is none."""
    now = now or datetime.now(UTC)
    mine = booked(state_dir)
    if conference_id:
        if any(c["conference_id"] == conference_id for c in mine):
            return conference_id
        raise ValueError(f"conference {conference_id} was not booked by this room")
    for conference in reversed(mine):
        start, end = _moment(conference.get("start")), _moment(conference.get("end"))
        if start is not None and end is not None and start <= now < end:
            return str(conference["conference_id"])
    raise ValueError("this room has no Huawei meeting in progress")
