"""The Prometheus families of `GET /metrics`, read from one typed status per scrape (so the
figures always agree with the page). Imported by roomagent.web.metrics.render on the first
scrape.
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from roomagent import __version__
from roomagent.control.history import ACTION_RESULTS
from roomagent.control.model import ButtonPhase, FleetStatus, RoomStatus
from roomagent.rooms import LinkState
from roomagent.web.metrics import WEB_COUNTERS, ServerCounters


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
    # Every bound action with every result from the start, zeros included: a rate or an
    # alert on failures then works from the first press, not from the first failure.
    for action in sorted(_bound_actions(status) | status.actions.keys()):
        counted = status.actions.get(action, {})
        for result in ACTION_RESULTS:
            actions.add_metric([action, result], counted.get(result, 0))
    yield actions
    if status.fleet is not None:
        yield from _fleet_families(status.fleet)


def _bound_actions(status: RoomStatus) -> set[str]:
    """The actions the panels' buttons are bound to (status.panels[].buttons[].<phase>)."""
    return {
        bound["action"]
        for panel in status.panels
        for button in panel.get("buttons", [])
        for phase in ButtonPhase
        if isinstance(bound := button.get(phase.value), dict) and "action" in bound
    }


def _fleet_families(fleet: FleetStatus) -> Iterator[Metric]:
    """The MQTT fleet bridge (status.fleet): an alert on a room cut off from its broker
    needs no fleet-wide view."""
    yield GaugeMetricFamily(
        "roomagent_fleet_up",
        "1 when the fleet broker takes this room's messages.",
        1 if fleet.state == "connected" and fleet.last_error is None else 0,
    )
    state = GaugeMetricFamily(
        "roomagent_fleet_state", "Fleet bridge state (1 = current).", labels=["state"]
    )
    state.add_metric([fleet.state], 1)
    yield state
    yield GaugeMetricFamily(
        "roomagent_fleet_outbox", "Events waiting for the fleet broker.", fleet.outbox
    )
    yield CounterMetricFamily(
        "roomagent_fleet_events_dropped_total",
        "Events dropped (oldest first) while the fleet broker was away.",
        fleet.outbox_dropped,
    )
    commands = CounterMetricFamily(
        "roomagent_fleet_commands_total", "Fleet commands, by result.", labels=["result"]
    )
    commands.add_metric(["accepted"], fleet.commands_accepted)
    commands.add_metric(["refused"], fleet.commands_refused)
    yield commands


def exposition(status: RoomStatus | None, server: ServerCounters) -> str:
    """The exposition text; without a status only the server's own figures."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Scrape(status, server))
    return generate_latest(registry).decode("utf-8")
