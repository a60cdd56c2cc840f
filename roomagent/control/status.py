"""The one builder of the typed room status (control.model.RoomStatus) from the core's parts."""

from __future__ import annotations

import functools
import socket
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from roomagent import __version__
from roomagent.config.model import AgentConfig
from roomagent.control.model import (
    CalendarStatus,
    CloudsStatus,
    DeviceStatus,
    KnownMeeting,
    MeetingState,
    MeetingStatusInfo,
    RoomInfo,
    RoomsLinkStatus,
    RoomStatus,
)
from roomagent.rooms import LinkState

if TYPE_CHECKING:
    from roomagent.control.core import RoomCore


@functools.cache
def machine_id() -> str:
    """A stable id for discovery: /etc/machine-id (shortened), else the host name. Read
    once: every status update names the room, and a file read per update is waste."""
    try:
        return Path("/etc/machine-id").read_text().strip()[:12] or socket.gethostname()
    except OSError:
        return socket.gethostname()


def room_id(config: AgentConfig) -> str:
    """The room's one id, in the status, mDNS, fleet topics and Home Assistant: `[room] id`,
    else the machine id, so that renaming the room moves nothing (docs/fleet.md, "Room id")."""
    return config.room.id or machine_id()


def room_info(core: RoomCore) -> RoomInfo:
    view = core.machine.view
    return RoomInfo(
        name=core.config.room.name,
        id=room_id(core.config),
        state=view.state,
        devices_offline=sorted(view.devices_offline),
    )


def meeting_info(core: RoomCore, known: KnownMeeting | None) -> MeetingStatusInfo:
    """The meeting as the Rooms client reports it; `unknown` (with the last known meeting)
    while the link is not ready: a meeting seen before the link dropped may have ended."""
    session = core.session
    if session is None or session.link is not LinkState.READY:
        return MeetingStatusInfo(status=MeetingState.UNKNOWN, last_known=known)
    view = core.machine.view
    return MeetingStatusInfo(
        status=session.mirror.status.label,
        code=view.meeting_code,
        title=view.meeting_title,
        host_present=view.host_present,
    )


def calendar_status(calendar: Any) -> CalendarStatus | None:
    if calendar is None:
        return None
    return CalendarStatus.model_validate(calendar.status())


def clouds_status(core: RoomCore) -> CloudsStatus | None:
    if core.clouds is None:
        return None
    return CloudsStatus.model_validate(core.clouds.status(core.calendar))


def build_status(core: RoomCore, known: KnownMeeting | None) -> RoomStatus:
    session = core.session
    sections = {section.name: section for section in core.config.devices}
    devices = []
    for name, device in core.devices.items():
        section = sections.get(name)
        devices.append(
            DeviceStatus(
                name=name,
                kind=device.kind,
                profile=section.profile if section else device.profile.name,
                port=device.port,
                online=device.online,
                reason=device.offline_reason,
                reason_words=core.views.device_words(name),
                counters=dict(device.counters),
            )
        )
    return RoomStatus(
        version=__version__,
        uptime_s=round(time.monotonic() - core.started_at, 1),
        room=room_info(core),
        rooms=RoomsLinkStatus(
            link=session.link.value if session else LinkState.DISCONNECTED.value,
            url=core.config.rooms.url,
            last_error=session.last_error if session else None,
            counters=dict(session.counters) if session else {},
        ),
        meeting=meeting_info(core, known),
        devices=devices,
        calendar=calendar_status(core.calendar),
        clouds=clouds_status(core),
        actions={action: dict(results) for action, results in core.history.actions.items()},
        last_error=core.history.last_error,
        last_error_at=core.history.last_error_at,
        fleet=core.fleet_report() if core.fleet_report is not None else None,
        **core.views.status(),
    )
