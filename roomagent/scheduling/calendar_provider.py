"""What a room calendar needs from the cloud that holds the bookings.

RoomCalendar (calendar.py) owns the bookings, the state file and the status; a provider only
talks to its cloud. It opens a session (one HTTP client) in which the calendar can fetch
changes, book the room now, end a booking early and release a no-show. Yunzhijia
(yunzhijia_calendar.py) is the first provider.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from roomagent.scheduling.calendar_store import Booking


@dataclass
class ChangePage:
    """One page of the feed: bookings added/changed and deleted (any room's: the calendar
    keeps its own through `CalendarProvider.is_mine`)."""

    add: list[Booking] = field(default_factory=list)
    delete: list[Booking] = field(default_factory=list)


class ProviderSession(Protocol):
    async def has_changes(self, cursor: int | None) -> bool:
        """Whether anything changed after `cursor` (may miss deletions: see resync)."""
        ...

    def changes(self, cursor: int | None) -> AsyncIterator[ChangePage]:
        """Pages of changes after `cursor`; None: everything the feed holds (a resync)."""
        ...

    async def book_now(self, start: datetime, end: datetime, title: str) -> str:
        """Book this room; the provider's meeting id."""
        ...

    async def end_early(self, booking: Booking, end: datetime) -> datetime:
        """End it at `end` (or the earliest the cloud allows, returned)."""
        ...

    async def release(self, booking: Booking) -> None:
        """Cancel a booking nobody used."""
        ...

    async def attendees(self, booking: Booking) -> list[dict[str, Any]]: ...

    def token_status(self) -> dict[str, Any]: ...


class CalendarProvider(Protocol):
    name: str  # "yunzhijia": in the status and the state file

    def identity(self) -> dict[str, Any]:
        """What makes a saved calendar this one (feed URL, workspace, room)."""
        ...

    def is_mine(self, booking: Booking) -> bool: ...

    def open(self) -> AbstractAsyncContextManager[ProviderSession]: ...
