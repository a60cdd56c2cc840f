"""`roomagent schema status|event` print JSON Schemas that what the agent sends conforms to."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import jsonschema

from roomagent.control.model import (
    HistoryEvent,
    KnownMeeting,
    MeetingStatusInfo,
    RoomInfo,
    RoomsLinkStatus,
    RoomStatus,
)
from roomagent.control.state import RoomState


def schema(what: str) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, "-m", "roomagent", "schema", what],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    printed: dict[str, Any] = json.loads(proc.stdout)
    return printed


def test_status_schema_describes_the_status_sent() -> None:
    printed = schema("status")
    assert printed["$schema"].endswith("2020-12/schema")
    assert {"room", "rooms", "meeting", "devices", "calendar", "actions"} <= set(
        printed["properties"]
    )
    status = RoomStatus(
        version="1",
        uptime_s=1.0,
        room=RoomInfo(name="A", id="a", state=RoomState.ROOMS_OFFLINE),
        rooms=RoomsLinkStatus(link="disconnected", url="ws://x", counters={"frames_in": 3}),
        meeting=MeetingStatusInfo(
            status="unknown",
            last_known=KnownMeeting(status="in_meeting", code="1", at="2026-01-01T10:00:00Z"),
        ),
    ).dump()
    jsonschema.validate(status, printed)
    status["meeting"]["status"] = 7
    try:
        jsonschema.validate(status, printed)
    except jsonschema.ValidationError:
        pass
    else:
        raise AssertionError("a numeric meeting status passed the schema")


def test_event_schema_describes_a_history_event() -> None:
    printed = schema("event")
    assert printed["required"] == ["ts", "source", "kind", "message"]
    event = HistoryEvent(
        ts="2026-01-01T10:00:00.000+08:00", source="panel", kind="button", message="b", button=3
    ).dump()
    jsonschema.validate(event, printed)
    assert printed["$defs"]["ButtonPhase"]["enum"] == ["press", "hold", "release"]


def test_unknown_schema_is_a_usage_error() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "roomagent", "schema", "nope"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert proc.returncode == 2 and "invalid choice" in proc.stderr
