"""What the room calendar persists, whoever its provider: bookings, tombstones, the cursor.

One JSON file in `config.state_dir` (`calendar.json`), written atomically (tmp, fsync, rename,
fsync dir): a kill -9 at any point leaves either the old or the new file. The file names its
provider and that provider's identity (feed URL, workspace, room); a file for another room or
feed is not reused.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from roomagent.logsetup import kv
from roomagent.scheduling.http import from_millis, to_millis
from roomagent.scheduling.meeting_code import extract_meeting

log = logging.getLogger("roomagent.scheduling.calendar")

STATE_VERSION = 2
FILE_NAME = "calendar.json"
LEGACY_NAME = "calendar-yunzhijia.json"  # version 1 named the file after its only provider


@dataclass(frozen=True)
class Booking:
    order_id: str
    title: str
    start: datetime
    end: datetime
    booked_by: str | None
    meeting_code: str | None = None
    meeting_url: str | None = None
    room_name: str | None = None
    room_id: str | None = None
    content: str | None = None
    update_ms: int = 0  # the provider's version stamp: newer wins

    def as_dict(self) -> dict[str, Any]:
        return {
            "order_id": self.order_id,
            "title": self.title,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "booked_by": self.booked_by,
            "meeting_code": self.meeting_code,
            "meeting_url": self.meeting_url,
            "room_name": self.room_name,
        }

    @classmethod
    def of(cls, order_id: str, title: str, start: datetime, end: datetime, **more: Any) -> Booking:
        """A booking whose meeting code/link is read from its title and content."""
        code, url = extract_meeting(title, more.get("content"))
        return cls(order_id, title, start, end, more.pop("booked_by", None), code, url, **more)

    def stored(self) -> dict[str, Any]:
        return {
            "order_id": self.order_id,
            "title": self.title,
            "start_ms": to_millis(self.start),
            "end_ms": to_millis(self.end),
            "booked_by": self.booked_by,
            "room_name": self.room_name,
            "room_id": self.room_id,
            "content": self.content,
            "update_ms": self.update_ms,
        }

    @classmethod
    def from_stored(cls, data: dict[str, Any]) -> Booking:
        return cls.of(
            str(data["order_id"]),
            str(data.get("title") or ""),
            from_millis(data["start_ms"]),
            from_millis(data["end_ms"]),
            booked_by=data.get("booked_by"),
            room_name=data.get("room_name"),
            room_id=data.get("room_id"),
            content=data.get("content"),
            update_ms=int(data.get("update_ms") or 0),
        )


@dataclass
class Tombstone:
    update_ms: int
    end_ms: int


@dataclass
class CalendarState:
    """Everything persisted: the feed cursor, this room's bookings, and tombstones."""

    cursor: int | None = None
    bookings: dict[str, Booking] = field(default_factory=dict)
    tombstones: dict[str, Tombstone] = field(default_factory=dict)
    resynced_ms: int | None = None  # when the feed was last read from scratch

    def copy(self) -> CalendarState:
        return CalendarState(
            self.cursor, dict(self.bookings), dict(self.tombstones), self.resynced_ms
        )


def write_atomic(path: Path, data: bytes) -> None:
    """tmp + fsync + rename + fsync(dir): readers see the old file or the new one, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


class StateFile:
    """Encode/decode the calendar state for one provider identity."""

    def __init__(self, state_dir: Path, provider: str, identity: dict[str, Any]) -> None:
        self.path = Path(state_dir) / FILE_NAME
        self.provider = provider
        self.identity = identity
        self.written: bytes | None = None  # what the file holds, as last written here

    def encode(self, state: CalendarState, bookings: list[Booking]) -> bytes:
        doc = {
            "version": STATE_VERSION,
            "provider": self.provider,
            "source": self.identity,
            "cursor": state.cursor,
            "resynced_ms": state.resynced_ms,
            "bookings": [b.stored() for b in bookings],
            "tombstones": {k: [t.update_ms, t.end_ms] for k, t in state.tombstones.items()},
        }
        return json.dumps(doc, ensure_ascii=False, indent=1).encode("utf-8")

    def load(self) -> tuple[CalendarState, str | None]:
        """(state, problem): a fresh state and a sentence when the file cannot be used."""
        tmp = self.path.with_name(self.path.name + ".tmp")
        if tmp.exists():
            # Left by a write that was killed before its rename; the real file is intact.
            log.info("removing an interrupted calendar write", extra=kv(file=str(tmp)))
            tmp.unlink(missing_ok=True)
        legacy = self.path.with_name(LEGACY_NAME)
        if not self.path.exists() and legacy.exists():
            with contextlib.suppress(OSError):
                os.replace(legacy, self.path)
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return CalendarState(), None
        except OSError as exc:
            return CalendarState(), f"cannot read the saved calendar {self.path}: {exc.strerror}"
        try:
            doc = json.loads(raw)
            version = doc.get("version")
            provider = doc.get("provider", "yunzhijia") if version == 1 else doc.get("provider")
            if version not in (1, STATE_VERSION) or (provider, doc.get("source")) != (
                self.provider,
                self.identity,
            ):
                log.info("saved calendar is for another room or feed; starting afresh")
                return CalendarState(), None
            state = CalendarState(
                cursor=doc.get("cursor"),
                bookings={b.order_id: b for b in map(Booking.from_stored, doc["bookings"])},
                tombstones={
                    k: Tombstone(int(v[0]), int(v[1])) for k, v in doc["tombstones"].items()
                },
                resynced_ms=doc.get("resynced_ms"),
            )
            self.written = raw if version == STATE_VERSION else None
            return state, None
        except (ValueError, KeyError, TypeError, AttributeError, IndexError):
            aside = self.path.with_name(self.path.name + ".corrupt")
            with contextlib.suppress(OSError):  # kept for a post-mortem when possible
                os.replace(self.path, aside)
            log.warning("saved calendar unreadable", extra=kv(file=str(aside)))
            return CalendarState(), (
                f"the saved calendar was unreadable (kept as {aside.name}); downloading it again"
            )
