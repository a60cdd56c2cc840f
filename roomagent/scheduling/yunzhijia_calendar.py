"""Yunzhijia as a room-calendar provider: the room-booking feed and the meeting API.

Feed (the seed's documented pattern): `hasNew` with the newest `updateTime` seen; on news, page
through `bookInfo` from that cursor until a short page ([assumption]: the seed gives no total).
`hasNew` is worded as "new bookings", so a cancellation may go unnoticed: the calendar reads
the feed from scratch every `resync_hours` and at start-up. Booking goes through the meeting API
with the room's id (configured, or found by name in the paged `freeRooms`).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

from roomagent.config.model import YunzhijiaSection
from roomagent.logsetup import kv
from roomagent.scheduling.calendar_provider import ChangePage
from roomagent.scheduling.calendar_store import Booking
from roomagent.scheduling.http import CloudRefused, CloudValidationError
from roomagent.scheduling.yunzhijia import (
    DEFAULT_PAGE_SIZE,
    MAX_PAGES,
    PROVIDER,
    FeedBooking,
    Meeting,
    MeetingChange,
    NewMeeting,
    YunzhijiaClient,
    log,
)
from roomagent.scheduling.yunzhijia_auth import token_source

PAGE_SIZE = DEFAULT_PAGE_SIZE


def booking_of(item: FeedBooking) -> Booking:
    return Booking.of(
        item.order_id,
        item.topic or "",
        item.start,
        item.end,
        booked_by=item.user_name,
        room_name=item.room_name,
        room_id=item.room_id,
        content=item.content,
        update_ms=item.update_ms,
    )


class YunzhijiaProvider:
    name = "yunzhijia"

    def __init__(self, section: YunzhijiaSection, timeout: float | None = None) -> None:
        self.section = section
        self.timeout = timeout
        self.tokens = token_source(section)  # one cache and back-off for every session
        self.pages_fetched = 0  # bookInfo requests, for the status and the bench

    def identity(self) -> dict[str, Any]:
        s = self.section
        return {
            "base_url": s.base_url,
            "eid": s.eid,
            "room_name": s.room_name,
            "room_id": s.room_id,
        }

    def is_mine(self, booking: Booking) -> bool:
        if self.section.room_id and booking.room_id is not None:
            return booking.room_id == self.section.room_id
        if self.section.room_name:
            return (booking.room_name or "").strip() == self.section.room_name.strip()
        return False  # room_id only, and the feed gave no roomId: cannot be ours

    @contextlib.asynccontextmanager
    async def open(self, client: YunzhijiaClient | None = None) -> AsyncIterator[YunzhijiaSession]:
        """A session on `client` as it is, or on one of our own, closed when done."""
        if client is not None:
            yield YunzhijiaSession(self, client)
            return
        async with YunzhijiaClient(self.section, timeout=self.timeout, tokens=self.tokens) as own:
            yield YunzhijiaSession(self, own)


class YunzhijiaSession:
    def __init__(self, provider: YunzhijiaProvider, client: YunzhijiaClient) -> None:
        self.provider = provider
        self.section = provider.section
        self.client = client

    def token_status(self) -> dict[str, Any]:
        return self.client.tokens.status()

    async def has_changes(self, cursor: int | None) -> bool:
        return await self.client.has_new(cursor)

    async def changes(self, cursor: int | None) -> AsyncIterator[ChangePage]:
        for page_index in range(1, MAX_PAGES + 1):
            page = await self.client.book_info(cursor, page_index, PAGE_SIZE)
            self.provider.pages_fetched += 1
            yield ChangePage(
                [booking_of(b) for b in page.add], [booking_of(b) for b in page.delete]
            )
            if len(page.add) + len(page.delete) + page.skipped < PAGE_SIZE:
                return

    def _open_id(self) -> str:
        if not self.section.open_id:
            raise CloudValidationError(
                PROVIDER, ["set calendar.yunzhijia.open_id (the account that books for this room)"]
            )
        return self.section.open_id

    async def book_now(self, start: datetime, end: datetime, title: str) -> str:
        open_id = self._open_id()
        room_id = self.section.room_id or await self.free_room_id(open_id, start, end)
        meeting = NewMeeting(
            openid=open_id,
            title=title,
            start=start,
            end=end,
            room_id=room_id,
            meeting_place=self.section.room_name,
            notice_time=-1,
        )
        meeting_id = await self.client.create(meeting)
        log.info("room booked from the panel", extra=kv(meeting_id=meeting_id))
        return meeting_id

    async def free_room_id(self, open_id: str, start: datetime, end: datetime) -> str:
        """This room's id from the paged freeRooms list (found by name)."""
        wanted = (self.section.room_name or "").strip()
        async for room in self.client.all_free_rooms(open_id, start, end):
            if (room.room_name or "").strip() == wanted:
                return room.room_id
        raise CloudRefused(PROVIDER, f"{self.section.room_name} is not free for that time")

    async def _meeting_behind(self, booking: Booking) -> tuple[Meeting, list[str]]:
        for meeting in await self.client.query_by_day(booking.start):
            if meeting.room_order_id == booking.order_id and meeting.openid:
                actors = [a.open_id for a in await self.client.get_actors(booking.order_id)]
                return meeting, actors
        raise CloudRefused(PROVIDER, f"cannot find the meeting behind booking {booking.order_id}")

    async def end_early(self, booking: Booking, end: datetime) -> datetime:
        meeting, actors = await self._meeting_behind(booking)
        notice = meeting.notice_time if meeting.notice_time in (-1, 0, 15, 60) else -1
        kind = meeting.type if meeting.type in ("sign", "voice") else None
        change = MeetingChange(
            id=meeting.id,
            openid=meeting.openid or "",
            title=meeting.title or booking.title,
            content=meeting.content or "",
            start=meeting.start,
            end=max(end, meeting.start + timedelta(minutes=1)),
            room_id=meeting.room_id,
            meeting_place=meeting.meeting_place,
            notice_time=notice,  # type: ignore[arg-type]
            type=kind,  # type: ignore[arg-type]
            actors=actors,
        )
        await self.client.modify(change)
        return change.end

    async def release(self, booking: Booking) -> None:
        meeting, _ = await self._meeting_behind(booking)
        await self.client.cancel(meeting.id, meeting.openid or "")

    async def attendees(self, booking: Booking) -> list[dict[str, Any]]:
        actors = await self.client.get_actors(booking.order_id)
        return [{"open_id": a.open_id, "name": a.user_name} for a in actors]
