"""The room's one typed model: its status and its history events (pydantic).

Every reader builds on these classes: the JSON-RPC API and the page (through their dumps),
`/metrics`, the systemd status line, the fleet bridge and the test fakes. `roomagent schema
status|event` prints their JSON Schemas for integrators (docs/api.md).

The status JSON keeps the keys it had before the model (readers depend on them); fields are
added, never renamed. A dump leaves out event fields that are not set (`exclude_none`), so an
event carries only the fields that apply to it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

# The vocabularies live in config (the config names them); re-exported for the model readers.
from roomagent.config.vocab import ButtonPhase as ButtonPhase
from roomagent.config.vocab import MeetingState as MeetingState
from roomagent.config.vocab import RoomState as RoomState

# defer_build: the status models' validators and serializers are built by the first status
# (a page, API call, scrape or the fleet), not at import: an idle box builds none (issue 10).
_DEFERRED = ConfigDict(defer_build=True)


class _Model(BaseModel):
    model_config = ConfigDict(**_DEFERRED, extra="forbid")


class RoomInfo(_Model):
    # Eager: the core's status event dumps it on every room change (the event path).
    model_config = ConfigDict(defer_build=False)

    name: str
    id: str
    state: RoomState
    devices_offline: list[str] = Field(default_factory=list)


class RoomsLinkStatus(_Model):
    """The session to the room's Rooms client."""

    link: str = Field(description="ready | connecting | disconnected | auth_failed")
    url: str
    last_error: str | None = None
    counters: dict[str, int] = Field(
        default_factory=dict, description="the session's counters: frames_in, reconnects, …"
    )


class KnownMeeting(_Model):
    """The last meeting seen while the Rooms link was ready, and when it was last seen."""

    status: str = Field(description="a meeting status as in `meeting.status`")
    code: str | None = None
    title: str | None = None
    at: datetime = Field(description="when this was last known (the link was ready)")


class MeetingStatusInfo(_Model):
    status: str = Field(
        description="idle | in_meeting | joining | waiting_room | screen_cast | pstn_call "
        "(unknown_<n> for a status newer than this agent) | unknown while the Rooms link "
        "is not ready"
    )
    code: str | None = None
    title: str | None = None
    host_present: bool | None = None
    last_known: KnownMeeting | None = Field(
        default=None,
        description="while status is unknown: the meeting last seen, and when",
    )


class DeviceStatus(_Model):
    name: str
    kind: str = Field(description="camera | panel")
    profile: str
    port: str
    online: bool
    reason: str | None = Field(default=None, description="why it is offline, in words")
    reason_words: dict[str, str] | None = Field(
        default=None,
        description="while offline: {text: a sentence a person can act on, detail: the "
        "technical reason with the path} (control/panels_view.py)",
    )
    counters: dict[str, int] = Field(default_factory=dict)


class BookingInfo(BaseModel):
    # The calendar's own dict: keys a provider adds later are left out, not an error.
    model_config = ConfigDict(**_DEFERRED, extra="ignore")

    order_id: str
    title: str
    start: datetime
    end: datetime
    booked_by: str | None = None
    meeting_code: str | None = None
    meeting_url: str | None = None
    room_name: str | None = None


class CalendarStatus(BaseModel):
    model_config = ConfigDict(**_DEFERRED, extra="ignore")

    provider: str | None = None
    current: BookingInfo | None = None
    next: BookingInfo | None = None
    today: list[BookingInfo] = Field(default_factory=list)
    last_sync: datetime | None = Field(default=None, description="last successful sync")
    last_error: str | None = Field(default=None, description="why the last sync failed")
    last_resync: dict[str, Any] | None = Field(
        default=None, description="the last full read of the feed: {at, pages, s}"
    )
    token: dict[str, Any] | None = Field(
        default=None,
        description="the access token: {credential, renews, valid_until, renewals, last_error}",
    )


class CloudsStatus(BaseModel):
    model_config = ConfigDict(**_DEFERRED, extra="ignore")

    huawei: bool = Field(default=False, description="Huawei Cloud Meeting is configured")
    huawei_conference: dict[str, Any] | None = Field(
        default=None, description="the conference this room booked that is in progress"
    )
    meeting_detail: dict[str, Any] | None = Field(
        default=None, description="the Quanshi meeting behind the current (or next) booking"
    )


class FleetStatus(_Model):
    """The MQTT fleet bridge (docs/fleet.md) while `[mqtt]` is configured: built by the
    bridge, reported to the core through the composition root (control imports no fleet)."""

    state: str = Field(
        description="connected | connecting (first attempt) | reconnecting (the broker "
        "cannot be reached; see last_error) | disabled (the [mqtt] config cannot be used)"
    )
    since: datetime | None = Field(default=None, description="when it entered this state")
    broker: str | None = Field(default=None, description="the broker URL (never a password)")
    topic: str | None = Field(default=None, description="this room's topic base {p}/{s}/{r}")
    topic_id: str | None = Field(
        default=None, description="the room id in topics and Home Assistant (from room.id)"
    )
    last_error: str | None = Field(default=None, description="why the broker is not in use")
    last_publish: datetime | None = Field(
        default=None, description="the last message the broker took from this room"
    )
    outbox: int = Field(default=0, description="events waiting for the broker")
    outbox_dropped: int = Field(default=0, description="events dropped (oldest) while away")
    commands_accepted: int = Field(default=0, description="fleet commands run")
    commands_refused: int = Field(
        default=0, description="fleet commands refused (not allowed) or malformed"
    )


class RoomStatus(_Model):
    """`status` of the API, the page's live updates and `/metrics`' source."""

    version: str
    uptime_s: float
    room: RoomInfo
    rooms: RoomsLinkStatus
    meeting: MeetingStatusInfo
    devices: list[DeviceStatus] = Field(default_factory=list)
    calendar: CalendarStatus | None = None
    clouds: CloudsStatus | None = None
    actions: dict[str, dict[str, int]] = Field(
        default_factory=dict,
        description="actions run since start: {action: {result: count}}, result one of "
        "ok, refused, failed, busy, not_applicable",
    )
    last_error: str | None = None
    last_error_at: str | None = Field(default=None, description="`ts` of the event that set it")
    panels: list[dict[str, Any]] = Field(
        default_factory=list,
        description="per panel: name, online, buttons [{button, press|hold|release: {action, "
        "text}}], leds [{led, mode, colour}] and texts [{line, text}] as the panel shows them "
        "now, led_numbers, hold_ms (control/panels_view.py)",
    )
    cameras: list[dict[str, Any]] = Field(
        default_factory=list,
        description="per camera: name, online, presets [n], report {power, firmware, error}",
    )
    fleet: FleetStatus | None = Field(
        default=None, description="the MQTT fleet bridge, when [mqtt] is configured"
    )

    def dump(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


class HistoryEvent(_Model):
    """One line of the room's history. `message` is prose that may be reworded; clients build
    their words from the structured fields, which are present only where they apply."""

    # Eager: the first press's history line must not build it.
    model_config = ConfigDict(defer_build=False)

    ts: str = Field(description="local time, ISO 8601 with milliseconds")
    source: str = Field(description="rooms, api, agent, web, or a device's name")
    kind: str = Field(description="link, button, action, refused, busy, online, offline, …")
    message: str
    device: str | None = Field(
        default=None, description="the device the event is about (a panel for button events)"
    )
    button: int | None = Field(default=None, description="button number")
    how: ButtonPhase | None = Field(default=None, description="press | hold | release")
    action: str | None = Field(
        default=None, description="action name, e.g. meeting.leave, or macro"
    )
    ok: bool | None = Field(
        default=None, description="true: the action was done; false: refused or failed"
    )
    outcome: str | None = Field(default=None, description="what a done action returned")
    reason: str | None = Field(
        default=None, description="why: refused, offline, link down, device error"
    )
    step: str | None = Field(
        default=None, description="where a macro failed, e.g. step 3 (meeting.layout)"
    )
    port: str | None = Field(default=None, description="the serial port a device came online on")
    link: str | None = Field(
        default=None,
        description="the Rooms link state: ready, connecting, disconnected, auth_failed",
    )
    module: str | None = Field(default=None, description="a Rooms event's module, e.g. ZoomRoom")
    event: str | None = Field(
        default=None, description="a Rooms event's name, e.g. JoinMeetingCompleted"
    )
    result: str | None = Field(
        default=None,
        description="a refused press: not_applicable when the room's state made it pointless "
        "(not the room's last error)",
    )
    command: str | None = Field(default=None, description="a device command sent from the API")
    args: list[Any] | None = Field(default=None, description="that command's arguments")

    def dump(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_none=True)


BASE_EVENT_FIELDS = ("ts", "source", "kind", "message")
# What a history event carries beside its base (docs/api.md, "events"), from the model.
EVENT_FIELDS: dict[str, str] = {
    name: info.description or ""
    for name, info in HistoryEvent.model_fields.items()
    if name not in BASE_EVENT_FIELDS
}
