"""The room's own calendar: bookings from a provider's feed, persisted on disk.

Provider-neutral: a `CalendarProvider` (calendar_provider.py; Yunzhijia is the first) fetches
changes and books; this class owns the bookings, the state file and the status.

Sync: ask the provider whether anything changed after the cursor (the newest version stamp
seen); on news, apply its pages of changes — each page's adds, then its deletes, by order id.
Every record carries a version stamp, so applying is idempotent: a record older than what we
hold for its id (a duplicate or out-of-order page) changes nothing, and deletions leave a
tombstone so an older add cannot bring a booking back.

Resync: a feed's "anything new?" may report additions only, so a cancellation could be
missed. Every `resync_hours` — and at start-up when the saved calendar's last resync is older
than that — the feed is read from scratch and bookings it no longer holds are dropped.

Persistence (calendar_store.py): the cursor only moves when the whole sync is written, so a
kill -9 at any point leaves the old or the new state: nothing lost, and after a restart only
what came after the saved cursor is downloaded.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import anyio

from roomagent.config.model import AgentConfig, YunzhijiaSection
from roomagent.logsetup import kv
from roomagent.scheduling.calendar_provider import CalendarProvider, ProviderSession
from roomagent.scheduling.calendar_store import (
    Booking,
    CalendarState,
    StateFile,
    Tombstone,
    write_atomic,
)
from roomagent.scheduling.http import CloudError, CloudRefused, CloudValidationError, to_millis
from roomagent.scheduling.meeting_code import extract_meeting
from roomagent.scheduling.yunzhijia_calendar import PAGE_SIZE, YunzhijiaProvider
from roomagent.watchers import Watchers

__all__ = ["PAGE_SIZE", "Booking", "RoomCalendar", "extract_meeting", "write_atomic"]

log = logging.getLogger("roomagent.scheduling.calendar")

KEEP_PAST = timedelta(days=2)  # ended bookings and tombstones older than this are dropped
DEFAULT_BOOK_MINUTES = 30
MIN_BOOK_MINUTES = 5


class RoomCalendar:
    """This room's bookings, kept in sync with the provider. See the module docstring."""

    def __init__(
        self,
        provider: CalendarProvider,
        state_dir: Path,
        *,
        poll_seconds: float = 30,
        resync_hours: float = 3,
        no_show_release_minutes: int | None = None,
    ) -> None:
        self.provider = provider
        self.poll_seconds = poll_seconds
        self.resync_ms = int(resync_hours * 3_600_000)
        self.no_show_release_minutes = no_show_release_minutes
        self.last_error: str | None = None
        self.last_sync: datetime | None = None
        self.last_resync: dict[str, Any] | None = None  # figures of the last full read
        self._token_status: dict[str, Any] | None = None
        self._reported: str | None = None
        self._watchers: Watchers[[]] = Watchers(log, "calendar")
        self._lock = anyio.Lock()
        self._in_use_since: datetime | None = None
        self._released: set[str] = set()
        self._elsewhere: dict[str, int] = {}  # other rooms' order id → version, this sync
        self._file = StateFile(state_dir, provider.name, provider.identity())
        self._state, self.last_error = self._file.load()

    @classmethod
    def yunzhijia(
        cls, section: YunzhijiaSection, state_dir: Path, *, timeout: float | None = None
    ) -> RoomCalendar:
        return cls(
            YunzhijiaProvider(section, timeout),
            state_dir,
            poll_seconds=section.poll_seconds,
            resync_hours=section.resync_hours,
            no_show_release_minutes=section.no_show_release_minutes,
        )

    @classmethod
    def from_config(cls, config: AgentConfig) -> RoomCalendar | None:
        section = config.calendar.yunzhijia
        return None if section is None else cls.yunzhijia(section, config.state_dir)

    # --- queries ---------------------------------------------------------------------------

    @property
    def state_path(self) -> Path:
        return self._file.path

    @property
    def cursor(self) -> int | None:
        return self._state.cursor

    def bookings(self) -> list[Booking]:
        return sorted(self._state.bookings.values(), key=lambda b: (b.start, b.order_id))

    def current(self, now: datetime | None = None) -> Booking | None:
        now = _now(now)
        return next((b for b in self.bookings() if b.start <= now < b.end), None)

    def next(self, now: datetime | None = None) -> Booking | None:
        now = _now(now)
        return next((b for b in self.bookings() if b.start > now), None)

    def today(self, now: datetime | None = None) -> list[Booking]:
        """Bookings overlapping `now`'s calendar day in `now`'s timezone."""
        now = _now(now)
        day_start = now.replace(hour=0, minute=0, second=0, microsecond=0)
        day_end = day_start + timedelta(days=1)
        return [b for b in self.bookings() if b.start < day_end and b.end > day_start]

    def status(self, now: datetime | None = None) -> dict[str, Any]:
        current, upcoming = self.current(now), self.next(now)
        return {
            "provider": self.provider.name,
            "current": current.as_dict() if current else None,
            "next": upcoming.as_dict() if upcoming else None,
            "today": [b.as_dict() for b in self.today(now)],
            "last_sync": self.last_sync.isoformat() if self.last_sync else None,
            "last_error": self.last_error,
            "last_resync": self.last_resync,
            "token": self._token_status,
        }

    def watch(self, callback: Callable[[], None]) -> Callable[[], None]:
        return self._watchers.watch(callback)

    def _notify(self) -> None:
        self._watchers.emit()  # a watcher's bug is logged, never the calendar's failure

    # --- applying the feed -------------------------------------------------------------------

    def _seen_ms(self, order_id: str) -> int:
        held = self._state.bookings.get(order_id)
        tomb = self._state.tombstones.get(order_id)
        return max(
            held.update_ms if held else -1,
            tomb.update_ms if tomb else -1,
            self._elsewhere.get(order_id, -1),
        )

    def _bury(self, item: Booking) -> None:
        """Forget a booking. Ours (held, or deleted in our room) leave a persisted tombstone;
        other rooms' are only remembered for the current sync: later syncs start after the
        cursor, so their older versions cannot come back, and the state file stays small."""
        held = self._state.bookings.pop(item.order_id, None)
        mine = self.provider.is_mine(item)
        if held is None and not mine and item.order_id not in self._state.tombstones:
            self._elsewhere[item.order_id] = max(
                self._elsewhere.get(item.order_id, -1), item.update_ms
            )
            return
        old = self._state.tombstones.get(item.order_id)
        if old is None or old.update_ms < item.update_ms:
            self._state.tombstones[item.order_id] = Tombstone(item.update_ms, to_millis(item.end))

    def apply_page(self, adds: list[Booking], deletes: list[Booking]) -> bool:
        """Apply one page of changes (add, then delete); True when this room's bookings
        changed."""
        before = dict(self._state.bookings)
        for item in adds:
            if item.update_ms <= self._seen_ms(item.order_id):
                continue  # duplicate or older than what we hold
            if self.provider.is_mine(item):
                self._state.bookings[item.order_id] = item
                self._state.tombstones.pop(item.order_id, None)
            else:
                self._bury(item)  # another room's, or moved away from ours
        for item in deletes:
            held = self._state.bookings.get(item.order_id)
            if held is not None and item.update_ms < held.update_ms:
                continue  # a stale delete must not remove a newer booking
            self._bury(item)
        stamps = [i.update_ms for i in (*adds, *deletes)]
        if stamps:
            self._state.cursor = max(self._state.cursor or 0, *stamps)
        return self._state.bookings != before

    def _prune(self, now: datetime) -> None:
        horizon = to_millis(now - KEEP_PAST)
        state = self._state
        state.bookings = {k: b for k, b in state.bookings.items() if to_millis(b.end) >= horizon}
        state.tombstones = {k: t for k, t in state.tombstones.items() if t.end_ms >= horizon}

    # --- sync ------------------------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def _session(self, session: ProviderSession | None) -> AsyncIterator[ProviderSession]:
        """The caller's session as it is, or one of our own, closed when done."""
        if session is not None:
            yield session
            return
        async with self.provider.open() as own:
            yield own

    def resync_due(self, now_ms: int | None = None) -> bool:
        last = self._state.resynced_ms
        now_ms = now_ms if now_ms is not None else to_millis(datetime.now(UTC))
        return last is None or now_ms - last >= self.resync_ms

    async def sync_once(
        self, session: ProviderSession | None = None, *, full: bool | None = None
    ) -> bool:
        """One poll (a full resync when `full`, or when due if None); True when this room's
        bookings changed. Raises CloudError (and keeps the last good calendar) on failure."""
        async with self._lock, self._session(session) as active:
            try:
                changed = await self._sync(active, self.resync_due() if full is None else full)
            except CloudError as exc:
                self.last_error = str(exc)
                raise
            finally:
                self._token_status = active.token_status()
            self.last_error = None
            self.last_sync = datetime.now(UTC)
        if changed:
            self._notify()
        return changed

    async def _sync(self, session: ProviderSession, full: bool) -> bool:
        start_cursor = None if full else self._state.cursor
        if start_cursor is not None and not await session.has_changes(start_cursor):
            return False
        # Work on a copy so a failure half-way leaves the last good calendar untouched.
        saved = self._state.copy()
        if full:  # from scratch: what the feed no longer holds is gone; tombstones stay
            self._state = CalendarState(None, {}, dict(saved.tombstones), saved.resynced_ms)
        pages, started = 0, time.perf_counter()
        try:
            async for page in session.changes(start_cursor):
                self.apply_page(page.add, page.delete)
                pages += 1
            if full:
                self._state.cursor = max(self._state.cursor or 0, saved.cursor or 0) or None
                self._state.resynced_ms = to_millis(datetime.now(UTC))
            self._prune(datetime.now(UTC))
            await self._save()
        except BaseException:
            self._state = saved
            raise
        finally:
            self._elsewhere.clear()
        seconds = round(time.perf_counter() - started, 3)
        if full:
            self.last_resync = {"at": datetime.now(UTC).isoformat(), "pages": pages, "s": seconds}
        log.info(
            "calendar synced",
            extra=kv(full=full, pages=pages, bookings=len(self._state.bookings), s=seconds),
        )
        return self._state.bookings != saved.bookings

    async def run(self) -> None:
        """Poll every `poll_seconds` until cancelled; failures are recorded in last_error
        (a renewal failure included: reported once, retried at the next poll, never a loop)."""
        while True:
            try:
                async with self.provider.open() as session:
                    while True:
                        await self._poll(session)
                        await anyio.sleep(self.poll_seconds)
            except CloudError as exc:  # the session could not open (e.g. no token configured)
                self._report(str(exc))
            await anyio.sleep(self.poll_seconds)

    async def _poll(self, session: ProviderSession) -> None:
        try:
            await self.sync_once(session)
            if self.no_show_release_minutes:
                await self.release_no_show(session=session)
        except CloudError as exc:
            self._report(str(exc))
        except Exception as exc:  # a bug must not take the whole agent down
            log.exception("calendar sync crashed")
            self.last_error = self._reported = f"internal error: {type(exc).__name__}"
        else:
            if self._reported:
                log.info("calendar sync recovered")
            self._reported = None

    def _report(self, error: str) -> None:
        if error != self._reported:  # once per new problem, not every poll
            log.warning("calendar sync failed", extra=kv(error=error))
        self.last_error = self._reported = error

    async def _save(self) -> None:
        data = self._file.encode(self._state, self.bookings())
        if data == self._file.written:
            return  # nothing new: spare the SD card a write and an fsync every poll
        try:
            await anyio.to_thread.run_sync(write_atomic, self._file.path, data)
            self._file.written = data
        except OSError as exc:
            raise CloudError(
                "calendar", f"cannot save the calendar to {self._file.path}: {exc.strerror}"
            ) from None

    # --- actions for the panel ---------------------------------------------------------------

    async def book_now(
        self,
        minutes: int = DEFAULT_BOOK_MINUTES,
        title: str = "Ad-hoc meeting",
        now: datetime | None = None,
    ) -> str:
        """Book this room from now for `minutes` (shortened to the next booking); meeting id."""
        now = _now(now)
        current = self.current(now)
        if current is not None:
            raise CloudValidationError(
                "calendar", [f"the room is booked until {current.end.astimezone():%H:%M}"]
            )
        end = now + timedelta(minutes=minutes)
        upcoming = self.next(now)
        if upcoming is not None and upcoming.start < end:
            end = upcoming.start
        if end - now < timedelta(minutes=MIN_BOOK_MINUTES):
            raise CloudValidationError(
                "calendar", [f"the room is booked from {end.astimezone():%H:%M}"]
            )
        async with self.provider.open() as session:
            meeting_id = await session.book_now(now, end, title)
            with contextlib.suppress(CloudError):
                await self.sync_once(session)  # show it now rather than at the next poll
        return meeting_id

    async def end_early(self, now: datetime | None = None) -> Booking:
        """End the booking in progress now; returns the shortened booking."""
        now = _now(now)
        current = self.current(now)
        if current is None:
            raise CloudValidationError("calendar", ["no booking is in progress"])
        async with self.provider.open() as session:
            end = await session.end_early(current, now)
            shortened = replace(current, end=end)
            self._state.bookings[current.order_id] = shortened
            await self._save()
            self._notify()
            with contextlib.suppress(CloudError):
                await self.sync_once(session)
        return shortened

    async def attendees(self, booking: Booking) -> list[dict[str, Any]]:
        """Who is invited to a booking, e.g. for the page's current meeting."""
        async with self.provider.open() as session:
            return await session.attendees(booking)

    def note_in_use(self, now: datetime | None = None) -> None:
        """The control side calls this when the room is actually used (a meeting started)."""
        self._in_use_since = _now(now)

    async def release_no_show(
        self, now: datetime | None = None, session: ProviderSession | None = None
    ) -> Booking | None:
        """Cancel the current booking when nobody used the room within N minutes of its start
        (`no_show_release_minutes`; off when unset). Returns the released booking."""
        minutes = self.no_show_release_minutes
        now = _now(now)
        current = self.current(now)
        if not minutes or current is None or current.order_id in self._released:
            return None
        if now < current.start + timedelta(minutes=minutes):
            return None
        if self._in_use_since is not None and self._in_use_since >= current.start:
            return None
        try:
            async with self._session(session) as active:
                await active.release(current)
        except CloudRefused:
            self._released.add(current.order_id)  # report once, not on every poll
            raise
        self._released.add(current.order_id)
        self._state.bookings.pop(current.order_id, None)
        # The feed's own delete will be newer; until then this version stays gone.
        self._state.tombstones[current.order_id] = Tombstone(
            current.update_ms, to_millis(current.end)
        )
        await self._save()
        log.info("released a no-show booking", extra=kv(order_id=current.order_id))
        self._notify()
        return current


def _now(now: datetime | None) -> datetime:
    if now is None:
        return datetime.now().astimezone()
    if now.tzinfo is None:
        raise ValueError("`now` must be timezone-aware")
    return now
