"""`GET /metrics`: the agent's status in Prometheus text exposition format (version 0.0.4)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


@dataclass
class ServerCounters:
    """What the web server itself counts."""

    http_requests: int = 0
    auth_failures: int = 0
    rate_limited: int = 0
    origin_refused: int = 0
    bad_requests: int = 0  # malformed or duplicate headers: 400
    api_requests: int = 0
    api_errors: int = 0
    api_connections: int = 0
    updates_dropped: int = 0
    extra: dict[str, int] = field(default_factory=dict)


def _escape(value: object) -> str:
    return str(value).replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _labels(labels: Mapping[str, object]) -> str:
    if not labels:
        return ""
    return "{" + ",".join(f'{k}="{_escape(v)}"' for k, v in labels.items()) + "}"


def _number(value: object) -> str | None:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int | float):
        return repr(float(value)) if isinstance(value, float) else str(value)
    return None


class _Family:
    def __init__(self, name: str, kind: str, help_text: str) -> None:
        self.name, self.kind, self.help_text = name, kind, help_text
        self.samples: list[tuple[dict[str, object], str]] = []

    def add(self, value: object, **labels: object) -> None:
        number = _number(value)
        if number is not None:
            self.samples.append((labels, number))

    def lines(self) -> Iterator[str]:
        if not self.samples:
            return
        yield f"# HELP {self.name} {self.help_text}"
        yield f"# TYPE {self.name} {self.kind}"
        for labels, number in self.samples:
            yield f"{self.name}{_labels(labels)} {number}"


def render(status: Mapping[str, Any], server: ServerCounters) -> str:
    """Text for Prometheus; unknown or missing status fields are simply left out."""
    room = status.get("room") or {}
    rooms = status.get("rooms") or {}
    meeting = status.get("meeting") or {}

    info = _Family("roomagent_info", "gauge", "Agent version and room.")
    info.add(1, version=status.get("version", ""), room=room.get("name", ""))
    uptime = _Family("roomagent_uptime_seconds", "gauge", "Seconds since the agent started.")
    uptime.add(status.get("uptime_s"))
    link = _Family("roomagent_rooms_link_up", "gauge", "1 when the Rooms client session is ready.")
    link.add(str(rooms.get("link", "")).lower() == "ready")
    link_state = _Family(
        "roomagent_rooms_link_state", "gauge", "Rooms session state (1 = current)."
    )
    if rooms.get("link"):
        link_state.add(1, state=str(rooms["link"]).lower())
    rooms_counters = _Family("roomagent_rooms_counter_total", "counter", "Rooms session counters.")
    for name, value in (rooms.get("counters") or {}).items():
        rooms_counters.add(value, counter=name)
    room_state = _Family("roomagent_room_state", "gauge", "Room state (1 = current).")
    if room.get("state"):
        room_state.add(1, state=room["state"])
    in_meeting = _Family("roomagent_meeting_status", "gauge", "Meeting status (1 = current).")
    if meeting.get("status"):
        in_meeting.add(1, status=str(meeting["status"]).lower())

    online = _Family("roomagent_device_online", "gauge", "1 when the serial device answers.")
    device_counters = _Family(
        "roomagent_device_counter_total", "counter", "Serial device counters."
    )
    for device in status.get("devices") or []:
        name = device.get("name", "")
        online.add(bool(device.get("online")), device=name, kind=device.get("kind", ""))
        for counter, value in (device.get("counters") or {}).items():
            device_counters.add(value, device=name, counter=counter)

    web = _Family("roomagent_web_total", "counter", "Diagnostics server counters.")
    for counter in (
        "http_requests",
        "auth_failures",
        "rate_limited",
        "origin_refused",
        "bad_requests",
        "api_requests",
        "api_errors",
        "updates_dropped",
    ):
        web.add(getattr(server, counter), counter=counter)
    for counter, value in server.extra.items():
        web.add(value, counter=counter)
    sockets = _Family("roomagent_web_api_connections", "gauge", "Open API WebSockets.")
    sockets.add(server.api_connections)

    families = (
        info,
        uptime,
        link,
        link_state,
        rooms_counters,
        room_state,
        in_meeting,
        online,
        device_counters,
        web,
        sockets,
    )
    return "\n".join(line for family in families for line in family.lines()) + "\n"
