"""`GET /metrics`: the typed room status (control.model.RoomStatus) and the server's own
counters, exposed through prometheus_client in the text format (version 0.0.4).

A custom collector reads one status per scrape, so the figures always agree with the page.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from roomagent import __version__
from roomagent.control.history import ACTION_RESULTS
from roomagent.control.model import RoomStatus
from roomagent.rooms import LinkState

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
WEB_COUNTERS = (
    "http_requests",
    "auth_failures",
    "rate_limited",
    "origin_refused",
    "bad_requests",
    "api_requests",
    "api_errors",
    "updates_dropped",
)


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


class _Scrape:
    """One scrape's families: the room status (None when the agent could not give one) and
    the server counters."""

    def __init__(self, status: RoomStatus | None, server: ServerCounters) -> None:
        self.status, self.server = status, server

    def collect(self) -> Iterator[Metric]:
        status = self.status
        room = status.room.name if status else ""
        info = GaugeMetricFamily(
            "roomagent_info", "Agent version and room.", labels=["version", "room"]
        )
        info.add_metric([status.version if status else __version__, room], 1)
        yield info
        if status is not None:
            yield from _room_families(status)
        web = CounterMetricFamily(
            "roomagent_web_total", "Diagnostics server counters.", labels=["counter"]
        )
        for counter in WEB_COUNTERS:
            web.add_metric([counter], getattr(self.server, counter))
        for counter, value in self.server.extra.items():
            web.add_metric([counter], value)
        yield web
        yield GaugeMetricFamily(
            "roomagent_web_api_connections", "Open API WebSockets.", self.server.api_connections
        )


def _room_families(status: RoomStatus) -> Iterator[Metric]:
    yield GaugeMetricFamily(
        "roomagent_uptime_seconds", "Seconds since the agent started.", status.uptime_s
    )
    link = status.rooms.link.lower()
    yield GaugeMetricFamily(
        "roomagent_rooms_link_up",
        "1 when the Rooms client session is ready.",
        1 if link == LinkState.READY else 0,
    )
    state = GaugeMetricFamily(
        "roomagent_rooms_link_state", "Rooms session state (1 = current).", labels=["state"]
    )
    state.add_metric([link], 1)
    yield state
    rooms = CounterMetricFamily(
        "roomagent_rooms_counter_total", "Rooms session counters.", labels=["counter"]
    )
    for name, value in status.rooms.counters.items():
        rooms.add_metric([name], value)
    yield rooms
    room_state = GaugeMetricFamily(
        "roomagent_room_state", "Room state (1 = current).", labels=["state"]
    )
    room_state.add_metric([status.room.state.value], 1)
    yield room_state
    meeting = GaugeMetricFamily(
        "roomagent_meeting_status", "Meeting status (1 = current).", labels=["status"]
    )
    meeting.add_metric([status.meeting.status.lower()], 1)
    yield meeting
    online = GaugeMetricFamily(
        "roomagent_device_online", "1 when the serial device answers.", labels=["device", "kind"]
    )
    device_counters = CounterMetricFamily(
        "roomagent_device_counter_total", "Serial device counters.", labels=["device", "counter"]
    )
    for device in status.devices:
        online.add_metric([device.name, device.kind], 1 if device.online else 0)
        for counter, value in device.counters.items():
            device_counters.add_metric([device.name, counter], value)
    yield online
    yield device_counters
    actions = CounterMetricFamily(
        "roomagent_actions_total",
        "Actions run, by result: " + ", ".join(ACTION_RESULTS) + ".",
        labels=["action", "result"],
    )
    for action, results in sorted(status.actions.items()):
        for result, count in sorted(results.items()):
            actions.add_metric([action, result], count)
    yield actions


def render(status: RoomStatus | None, server: ServerCounters) -> str:
    """The exposition text; without a status only the server's own figures."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Scrape(status, server))
    return generate_latest(registry).decode("utf-8")
