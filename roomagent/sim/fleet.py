"""Simulated rooms on a broker: lightweight MQTT clients publishing the agent's real payloads
(the status shape of Agent.status(), availability with a last will, history events).

For the fleet page test and bench/fleet.py; a real agent publishes the same topics.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import aiomqtt

from roomagent import __version__
from roomagent.config.vocab import MeetingState, RoomState


def room_status(
    room_id: str,
    *,
    name: str | None = None,
    state: RoomState = RoomState.IDLE,
    link: str = "ready",
    offline: tuple[str, ...] = (),
    meeting_code: str | None = None,
    meeting_title: str | None = None,
    version: str = __version__,
) -> dict[str, Any]:
    """A status as the room core builds it (roomagent.control.model.RoomStatus, which the
    tests validate it against), for a room with a camera and a keypad."""
    devices = [
        {
            "name": device,
            "kind": kind,
            "profile": profile,
            "port": f"/dev/serial/by-id/{device}",
            "online": device not in offline,
            "reason": "port closed" if device in offline else None,
            "counters": {"frames_in": 0, "errors": 0},
        }
        for device, kind, profile in (
            ("camera", "camera", "sony-visca"),
            ("panel", "panel", "ascii-keypad"),
        )
    ]
    in_meeting = state == RoomState.IN_MEETING
    return {
        "version": version,
        "uptime_s": 3600.0,
        "room": {
            "name": name or room_id,
            "id": room_id,
            "state": state,
            "devices_offline": sorted(offline),
        },
        "rooms": {"link": link, "url": "ws://127.0.0.1:6295", "last_error": None, "counters": {}},
        "meeting": {
            "status": MeetingState.IN_MEETING if in_meeting else MeetingState.IDLE,
            "code": meeting_code if in_meeting else None,
            "title": meeting_title,
            "host_present": in_meeting,
        },
        "devices": devices,
        "calendar": None,
        "clouds": None,  # no cloud meetings configured
        "actions": {},
        "panels": [],  # the page's keypad view: optional, empty as for a room without one
        "cameras": [],
        "last_error": None,
        "last_error_at": None,
        "fleet": {  # the bridge of a room that publishes is connected (status.fleet)
            "state": "connected",
            "since": None,
            "broker": None,
            "topic": None,
            "topic_id": room_id,
            "last_error": None,
            "last_publish": None,
            "outbox": 0,
            "outbox_dropped": 0,
            "commands_accepted": 0,
            "commands_refused": 0,
        },
    }


def room_event(message: str, **fields: Any) -> dict[str, Any]:
    return {
        "ts": datetime.now().astimezone().isoformat(timespec="milliseconds"),
        "source": "agent",
        "kind": "info",
        "message": message,
        **fields,
    }


class SimulatedRoom:
    """One room's MQTT client (made by the caller, e.g. `Broker.client(…)`, with its will
    of `offline` on `{base}/availability`): `async with room:` connects and goes online."""

    def __init__(self, client: aiomqtt.Client, base: str) -> None:
        self.client = client
        self.base = base  # "{prefix}/{site}/{room}"

    async def __aenter__(self) -> SimulatedRoom:
        await self.client.__aenter__()
        await self.client.publish(f"{self.base}/availability", "online", qos=1, retain=True)
        return self

    async def __aexit__(self, *exc: object) -> None:
        try:
            await self.client.publish(f"{self.base}/availability", "offline", qos=1, retain=True)
        finally:
            await self.client.__aexit__(None, None, None)

    async def status(self, status: dict[str, Any]) -> None:
        await self.client.publish(f"{self.base}/status", json.dumps(status), qos=1, retain=True)

    async def event(self, event: dict[str, Any]) -> None:
        await self.client.publish(f"{self.base}/events", json.dumps(event), qos=1)


def room_will(base: str) -> aiomqtt.Will:
    return aiomqtt.Will(f"{base}/availability", "offline", qos=1, retain=True)
