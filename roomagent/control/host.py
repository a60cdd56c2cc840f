"""What the action runner needs from the room (actions.ActionHost), on the room core's parts:
the Rooms session for Call/Meeting, the cameras, the calendar and the room state."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from roomagent.control.actions import (
    ActionFailed,
    ActionNotConfigured,
    ActionRefused,
    ActionSuperseded,
    RoomsRequest,
)
from roomagent.control.state import RoomState, RoomStateMachine
from roomagent.devices.device import Device
from roomagent.devices.errors import DeviceError, DeviceSuperseded
from roomagent.logsetup import kv
from roomagent.rooms import RoomsError, RoomsRefused, RoomsSession

if TYPE_CHECKING:  # the calendar (and httpx under it) is imported only when configured
    from roomagent.control.actions import HuaweiInvite
    from roomagent.control.cloud_meetings import CloudMeetings
    from roomagent.scheduling.calendar import RoomCalendar

log = logging.getLogger("roomagent.agent")

NO_CALENDAR = "no room calendar configured"


class CoreHost:
    """The ActionHost half of the room core (mixed into RoomCore, which owns the parts)."""

    machine: RoomStateMachine
    session: RoomsSession | None
    devices: dict[str, Device]
    calendar: RoomCalendar | None
    clouds: CloudMeetings | None

    def _view_changed(self) -> None:
        raise NotImplementedError

    def room_state(self) -> RoomState:
        return self.machine.view.state

    def set_join_in_flight(self, flag: bool) -> None:
        if self.machine.set_join_in_flight(flag):
            self._view_changed()

    def join_target(self) -> tuple[str, str] | None:
        calendar = self.calendar
        if calendar is None:
            return None
        bookings = [calendar.current(), calendar.next()]
        if self.clouds is not None:  # a Quanshi link's meeting may carry the code (or say why)
            return self.clouds.join_target(bookings)
        for booking in bookings:
            if booking is not None and booking.meeting_code:
                return booking.meeting_code, booking.title
        return None

    async def rooms_call(self, request: RoomsRequest) -> str:
        session = self.session
        if session is None:
            raise ActionFailed("Rooms client offline")
        try:
            event = await session.call(request.prepared or request.name, request.params, wait=True)
        except RoomsRefused as exc:
            # The panel gets the Rooms client's own words; the log gets the code too.
            log.warning("rooms refused", extra=kv(action=request.name, reason=str(exc)))
            raise ActionRefused(exc.message) from None
        except RoomsError as exc:
            raise ActionFailed(str(exc)) from None
        return f"{request.name}: {event.name if event else 'accepted'}"

    async def book_room(self, minutes: int, title: str | None) -> str:
        from roomagent.scheduling.http import CloudError  # memory: only with a calendar

        calendar = self.calendar
        if calendar is None:
            raise ActionNotConfigured(NO_CALENDAR)
        try:
            if title:
                await calendar.book_now(minutes, title)
            else:  # the calendar's own default title
                await calendar.book_now(minutes)
        except CloudError as exc:
            raise ActionFailed(exc.message) from exc
        booking = calendar.current()
        return f"Room booked until {booking.end.astimezone():%H:%M}" if booking else "Room booked"

    async def end_booking(self) -> str:
        from roomagent.scheduling.http import CloudError  # memory: only with a calendar

        calendar = self.calendar
        if calendar is None:
            raise ActionNotConfigured(NO_CALENDAR)
        try:
            ended = await calendar.end_early()
        except CloudError as exc:
            raise ActionFailed(exc.message) from exc
        return f"Booking ended at {ended.end.astimezone():%H:%M}"

    async def invite(self, action: HuaweiInvite) -> str:
        if self.clouds is None:
            raise ActionNotConfigured("Huawei Cloud Meeting is not configured")
        return await self.clouds.invite(action)

    async def camera_command(self, camera: str, command: str, args: list[Any]) -> str:
        device = self.devices.get(camera)
        if device is None:
            raise ActionFailed(f"no camera named {camera!r}")
        args = clamp_speeds(device, command, args)
        try:
            await device.command(command, *args)
        except DeviceSuperseded as exc:
            raise ActionSuperseded(f"{camera}: {exc.reason}") from None
        except DeviceError as exc:
            raise ActionFailed(f"{camera}: {exc.reason}") from None
        return f"{camera} {command} {' '.join(map(str, args))}".strip()


def clamp_speeds(device: Device, command: str, args: list[Any]) -> list[Any]:
    """Pan/tilt speeds clamped to this camera's ranges: bindings and the page use one scale
    for every model, and a tilt range a step shorter than pan must not fail the move."""
    section = device.profile.visca or device.profile.pelco
    if command != "pt_drive" or section is None or len(args) != 3:
        return args
    pan, tilt = section.pan_speed, section.tilt_speed
    return [args[0], min(max(args[1], pan.min), pan.max), min(max(args[2], tilt.min), tilt.max)]
