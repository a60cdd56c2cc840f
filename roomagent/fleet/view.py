"""The fleet as seen from the broker: every room's retained status and availability, and its
last events. Fed one MQTT message at a time by the tools and the fleet page; no I/O here."""

from __future__ import annotations

import json
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from roomagent.fleet.topics import ONLINE, TopicName, parse_topic

EVENTS_KEPT = 20  # per room, for "a room's last events" on the page
MAX_ROOMS = 100_000  # bound memory if a broker is full of other things under our prefix


@dataclass
class RoomRecord:
    site: str
    room: str
    online: bool | None = None  # None: no availability seen yet
    status: dict[str, Any] | None = None
    last_seen: float | None = None  # wall clock of the last message from the room
    events: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=EVENTS_KEPT))

    @property
    def key(self) -> str:
        return f"{self.site}/{self.room}"

    def summary(self) -> dict[str, Any]:
        """One row of `fleet status --json` and of the page (the fields the spec names)."""
        status = self.status or {}
        room, rooms, meeting = (status.get(k) or {} for k in ("room", "rooms", "meeting"))
        offline = [d.get("name") for d in status.get("devices") or [] if not d.get("online")]
        row: dict[str, Any] = {
            "room_id": self.room,
            "site": self.site,
            "name": room.get("name") or self.room,
            "online": bool(self.online),
            "state": room.get("state"),
            "meeting": {
                "status": meeting.get("status"),
                "code": meeting.get("code"),
                "title": meeting.get("title"),
            },
            "link": rooms.get("link"),
            "devices_offline": offline,
            "version": status.get("version"),
            "last_error": status.get("last_error"),
            "last_seen": _iso(self.last_seen),
        }
        row["problems"] = problems(row)
        return row


def problems(row: dict[str, Any]) -> list[str]:
    """What a facilities engineer must look at, in words; empty when the room is fine."""
    found: list[str] = []
    if not row["online"]:
        found.append("agent offline")
    elif row["link"] not in (None, "ready"):
        found.append(f"Rooms link {row['link']}")
    if row["online"] and row["devices_offline"]:
        found.append("offline: " + ", ".join(str(d) for d in row["devices_offline"]))
    return found


def _iso(ts: float | None) -> str | None:
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds")


@dataclass(frozen=True)
class Change:
    """What one message changed: the room, the kind, and the event for `events`."""

    record: RoomRecord
    kind: str
    event: dict[str, Any] | None = None


class FleetView:
    def __init__(self, prefix: str = "roomagent", site: str | None = None) -> None:
        self.prefix = prefix
        self.site = site
        self.rooms: dict[str, RoomRecord] = {}
        self.ignored = 0  # messages that were not fleet payloads

    def apply(self, topic: str, payload: bytes) -> Change | None:
        name = parse_topic(self.prefix, topic)
        if name is None or (self.site and name.site != self.site):
            return None
        if name.kind == "cmd":
            return None  # commands are requests, not room state
        record = self._record(name)
        if record is None:
            return None
        if name.kind == "availability":
            record.online = payload.decode("utf-8", "replace").strip() == ONLINE
            if not payload:
                del self.rooms[record.key]  # an emptied retained topic: the room is gone
                return Change(record, "removed")
        else:
            data = _json_object(payload)
            if data is None:
                self.ignored += 1
                return None
            if name.kind == "status":
                record.status = data
            elif name.kind == "events":
                record.events.append(data)
            return Change(record, name.kind, data if name.kind != "status" else None)
        return Change(record, name.kind)

    def _record(self, name: TopicName) -> RoomRecord | None:
        key = f"{name.site}/{name.room}"
        record = self.rooms.get(key)
        if record is None:
            if len(self.rooms) >= MAX_ROOMS:
                return None
            record = self.rooms[key] = RoomRecord(name.site, name.room)
        record.last_seen = time.time()
        return record

    def rows(self) -> list[dict[str, Any]]:
        """Problems first, then by site and room."""
        rows = [r.summary() for r in self.rooms.values()]
        rows.sort(key=lambda r: (not r["problems"], r["site"], r["room_id"]))
        return rows

    def find(self, room: str, site: str | None = None) -> list[RoomRecord]:
        return [r for r in self.rooms.values() if r.room == room and site in (None, r.site)]


def _json_object(payload: bytes) -> dict[str, Any] | None:
    try:
        data = json.loads(payload)
    except (ValueError, UnicodeDecodeError):
        return None
    return data if isinstance(data, dict) else None
