"""The room's cloud meetings beside its calendar: the Huawei meeting it booked (invite into
it) and the Quanshi meeting behind a booking's link (detail for the page, a Tencent code for
`meeting.join_next` when it carries one).

Built by the app only when `[cloud.huawei]` or `[cloud.quanshi]` is configured. `run` keeps
the page's view fresh: the conference in progress (from the state directory, where `book`
records what the room booked) and the detail of the current/next booking's Quanshi link,
each fetched once per link and refreshed every few minutes.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import anyio

from roomagent.config.model import AgentConfig
from roomagent.control.actions import ActionFailed, ActionNotApplicable, HuaweiInvite
from roomagent.logsetup import kv
from roomagent.scheduling import huawei_booked
from roomagent.scheduling.calendar import Booking, RoomCalendar
from roomagent.scheduling.http import CloudError
from roomagent.scheduling.huawei import Attendee, HuaweiClient
from roomagent.scheduling.meeting_code import extract_meeting, find_link
from roomagent.scheduling.quanshi import QuanshiClient
from roomagent.watchers import Watchers

log = logging.getLogger("roomagent.clouds")

REFRESH_SECONDS = 30.0
DETAIL_MAX_AGE = 300.0  # a Quanshi detail is fetched again after five minutes
NOT_TENCENT = (
    "the booked meeting is a Quanshi meeting without a Tencent meeting code; the Rooms "
    "client joins Tencent meetings only"
)


class CloudMeetings:
    def __init__(self, config: AgentConfig) -> None:
        self.huawei = config.cloud.huawei
        self.quanshi = config.cloud.quanshi
        self.state_dir = config.state_dir
        self.room_names = [
            n
            for n in (
                config.room.name,
                config.calendar.yunzhijia and config.calendar.yunzhijia.room_name,
            )
            if n
        ]
        self.conference: dict[str, Any] | None = None  # the booked one in progress
        self._details: dict[str, tuple[float, dict[str, Any]]] = {}  # link → (when, detail)
        self._watchers: Watchers[[]] = Watchers(log, "cloud meetings")

    def watch(self, callback: Callable[[], None]) -> Callable[[], None]:
        return self._watchers.watch(callback)

    def _changed(self) -> None:
        self._watchers.emit()  # a watcher's bug is logged, never the refresh's failure

    # --- Huawei ------------------------------------------------------------------------------

    def _in_progress(self) -> dict[str, Any] | None:
        try:
            chosen = huawei_booked.choose(self.state_dir, None)
        except ValueError:
            return None
        return next(
            (c for c in huawei_booked.booked(self.state_dir) if c["conference_id"] == chosen),
            None,
        )

    async def invite(self, action: HuaweiInvite) -> str:
        if self.huawei is None:
            raise ActionNotApplicable("Huawei Cloud Meeting is not configured")
        try:
            conference = huawei_booked.choose(self.state_dir, action.conference)
        except ValueError as exc:
            raise ActionNotApplicable(str(exc)) from None
        attendee = Attendee.invitee(
            action.name, action.phone, action.email, action.sms, action.role == "host"
        )
        try:
            async with HuaweiClient(self.huawei) as client:
                result = await client.invite(conference, [attendee])
        except CloudError as exc:
            raise ActionFailed(exc.message) from exc
        words = f"invited {action.name} into conference {conference}"
        return "; ".join([words, *result.notes])

    # --- Quanshi -----------------------------------------------------------------------------

    def link_of(self, booking: Booking | None) -> str | None:
        if booking is None or self.quanshi is None:
            return None
        return find_link(self.quanshi.link_hosts, booking.title, booking.content)

    def detail_for(self, booking: Booking | None) -> dict[str, Any] | None:
        link = self.link_of(booking)
        held = self._details.get(link) if link else None
        return held[1] if held else None

    async def _fetch_detail(self, link: str) -> dict[str, Any]:
        assert self.quanshi is not None
        try:
            async with QuanshiClient(self.quanshi) as client:
                meeting = await client.meeting_by_join_link(link)
        except CloudError as exc:
            log.warning("meeting detail unavailable", extra=kv(error=str(exc)))
            return {"link": link, "error": exc.message}
        shown = meeting.as_dict()
        ours = next((h for h in map(meeting.room_booking, self.room_names) if h), None)
        shown["this_room"] = ours.as_dict() if ours else None
        code, _ = extract_meeting(meeting.title)
        shown["tencent_code"] = code
        return {"link": link, **shown}

    async def refresh(self, calendar: RoomCalendar | None) -> bool:
        """Bring the conference in progress and the bookings' details up to date; True when
        something the page shows changed."""
        before = (self.conference, {k: v[1] for k, v in self._details.items()})
        self.conference = await anyio.to_thread.run_sync(self._in_progress)
        bookings = [calendar.current(), calendar.next()] if calendar is not None else []
        links = {link for link in map(self.link_of, bookings) if link}
        now = time.monotonic()
        for link in links:
            held = self._details.get(link)
            if held is None or now - held[0] > DETAIL_MAX_AGE:
                self._details[link] = (now, await self._fetch_detail(link))
        self._details = {k: v for k, v in self._details.items() if k in links}
        return before != (self.conference, {k: v[1] for k, v in self._details.items()})

    async def run(self, calendar: RoomCalendar | None) -> None:
        """Refresh every REFRESH_SECONDS and whenever the calendar changes."""
        wake = anyio.Event()

        def calendar_changed() -> None:
            wake.set()

        unsubscribe = calendar.watch(calendar_changed) if calendar is not None else None
        try:
            while True:
                if await self.refresh(calendar):
                    self._changed()
                with anyio.move_on_after(REFRESH_SECONDS):
                    await wake.wait()
                wake = anyio.Event()
        finally:
            if unsubscribe is not None:
                unsubscribe()

    def join_target(self, bookings: list[Booking | None]) -> tuple[str, str] | None:
        """(code, title) of the first booking with a Tencent code — its own, or the one its
        Quanshi meeting carries. A Quanshi meeting without one is said plainly."""
        quanshi_only = False
        for booking in bookings:
            if booking is None:
                continue
            if booking.meeting_code:
                return booking.meeting_code, booking.title
            detail = self.detail_for(booking)
            if detail and detail.get("tencent_code"):
                return str(detail["tencent_code"]), booking.title
            quanshi_only = quanshi_only or self.link_of(booking) is not None
        if quanshi_only:
            raise ActionNotApplicable(NOT_TENCENT)
        return None

    def status(self, calendar: RoomCalendar | None) -> dict[str, Any]:
        current = calendar.current() if calendar is not None else None
        upcoming = calendar.next() if calendar is not None else None
        booking = current if self.link_of(current) else upcoming
        detail = self.detail_for(booking)
        return {
            "huawei": self.huawei is not None,
            "huawei_conference": self.conference,
            "meeting_detail": {**detail, "booking": "current" if booking is current else "next"}
            if detail
            else None,
        }
