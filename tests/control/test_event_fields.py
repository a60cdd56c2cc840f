"""The real Agent's history events carry structured fields beside their message (over real
sockets and ptys): the page and API clients build their words from these, so rewording a
message must never be what tells a client that a link is up or an action failed."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
import pytest

from roomagent.control.core import RoomCore as Agent
from roomagent.control.history import EVENT_HISTORY
from roomagent.control.model import EVENT_FIELDS
from tests.control.conftest import WAIT_S, running_room

pytestmark = pytest.mark.anyio

Event = dict[str, Any]
BASE = {"ts", "source", "kind", "message"}


async def recorded(agent: Agent, predicate: Callable[[Event], bool], since: int = 0) -> Event:
    """The newest history event matching `predicate` (among those from index `since` on: the
    test's history stays far below EVENT_HISTORY), awaiting the agent's updates."""
    with anyio.fail_after(WAIT_S):
        while True:
            for event in reversed(agent.recent_events(EVENT_HISTORY)[since:]):
                if predicate(event):
                    return event
            changed = anyio.Event()
            unsubscribe = agent.watch(lambda _update, changed=changed: changed.set())
            try:
                await changed.wait()
            finally:
                unsubscribe()


def mark(agent: Agent) -> int:
    """Where the history stands now: events from here on are new."""
    return len(agent.recent_events(EVENT_HISTORY))


def fields(event: Event, *names: str) -> dict[str, Any]:
    return {name: event.get(name) for name in names}


async def test_room_events_carry_documented_fields(tmp_path: Path) -> None:
    # A slow join (0.8 s to its outcome) leaves time for a second press while it runs.
    async with running_room(tmp_path, event_delay=0.8) as room:
        agent = room.agent
        ready = await recorded(agent, lambda e: e["kind"] == "link")
        assert ready["source"] == "rooms" and ready["link"] == "ready" and "reason" not in ready

        await room.panel.tap(3)  # leave, but the room is idle: refused
        refused = await recorded(agent, lambda e: e["kind"] == "refused")
        assert fields(refused, "device", "button", "action", "ok", "reason") == {
            "device": "panel",
            "button": 3,
            "action": "meeting.leave",
            "ok": False,
            "reason": "Not in a meeting",
        }
        # A press the room's state makes pointless is marked so, and it is history, not the
        # room's last error (nothing is wrong with the room; issue 13).
        assert refused["result"] == "not_applicable"
        status = agent.status()
        assert status["last_error"] is None and status["last_error_at"] is None
        presses = [e for e in agent.recent_events() if e["kind"] == "button"]
        assert [fields(e, "source", "device", "button", "how") for e in presses][:1] == [
            {"source": "panel", "device": "panel", "button": 3, "how": "press"}
        ]

        await room.panel.tap(1)  # start: runs until the simulator's outcome event
        await room.panel_shows(lambda p: p.text.get(1) == "Joining...")
        await room.panel.tap(1)  # the same key again while its start is in flight
        busy = await recorded(agent, lambda e: e["kind"] == "busy")
        assert fields(busy, "device", "button", "action") == {
            "device": "panel",
            "button": 1,
            "action": "meeting.start",
        }
        done = await recorded(agent, lambda e: e["kind"] == "action" and e.get("button") == 1)
        assert fields(done, "device", "action", "ok") == {
            "device": "panel",
            "action": "meeting.start",
            "ok": True,
        }
        assert isinstance(done["outcome"], str) and done["outcome"]
        event = await recorded(agent, lambda e: e["kind"] == "event")
        assert event["source"] == "rooms" and event["module"] and event["event"]

        room.camera.unplug()
        offline = await recorded(agent, lambda e: e["kind"] == "offline")
        assert offline["device"] == "camera" and offline["reason"]
        since = mark(agent)
        room.camera.replug()
        online = await recorded(agent, lambda e: e["kind"] == "online", since)
        camera_port = next(d["port"] for d in agent.status()["devices"] if d["name"] == "camera")
        assert fields(online, "device", "port") == {"device": "camera", "port": camera_port}

        since = mark(agent)
        await room.sim.kill()
        down = await recorded(agent, lambda e: e["kind"] == "link", since)
        assert down["reason"] and down["link"] in ("connecting", "disconnected")
        since = mark(agent)
        await room.sim.restart()
        up = await recorded(agent, lambda e: e["kind"] == "link" and e["link"] == "ready", since)
        assert up["link"] == "ready" and "reason" not in up

        # Every field any event carried is one the README documents (EVENT_FIELDS).
        for each in agent.recent_events(EVENT_HISTORY):
            assert set(each) - BASE <= set(EVENT_FIELDS), each


async def test_api_events_carry_fields(tmp_path: Path) -> None:
    async with running_room(tmp_path) as room:
        agent = room.agent
        await agent.perform({"action": "camera.preset", "camera": "camera", "preset": 2})
        action = await recorded(agent, lambda e: e["source"] == "api" and e["kind"] == "action")
        assert fields(action, "action", "ok") == {"action": "camera.preset", "ok": True}
        await agent.press("panel", 5, "hold")
        press = await recorded(agent, lambda e: e["source"] == "api" and e["kind"] == "button")
        assert fields(press, "device", "button", "how") == {
            "device": "panel",
            "button": 5,
            "how": "hold",
        }
        await agent.device_command("camera", "inquire_power", [])
        command = await recorded(agent, lambda e: e["kind"] == "device")
        assert fields(command, "device", "command", "args") == {
            "device": "camera",
            "command": "inquire_power",
            "args": [],
        }
