"""The room's own calendar, fed by Yunzhijia's room-booking feed and persisted on disk.

Sync (the seed's documented pattern): poll `hasNew` with the newest `updateTime` seen as the
cursor; on news page through `bookInfo` from that cursor; apply each page's `add` then its
`delete` by orderId. Every record carries `updateTime`, so applying is idempotent: a record
older than what we hold for its orderId (a duplicate or out-of-order page) changes nothing,
and deletions leave a tombstone so an older `add` cannot bring a booking back.

Persistence: one JSON file in `config.state_dir` holding cursor + bookings + tombstones,
written atomically (tmp, fsync, rename, fsync dir). The cursor only moves when the whole sync
is written, so a kill -9 at any point leaves either the old or the new state: nothing lost,
and on restart only what came after the saved cursor is downloaded.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import anyio

from roomagent.config.model import AgentConfig, YunzhijiaSection
from roomagent.logsetup import kv
from roomagent.scheduling.http import (
    CloudError,
    CloudRefused,
    CloudValidationError,
    from_millis,
    to_millis,
)
from roomagent.scheduling.yunzhijia import (
    PROVIDER,
    Actor,
    FeedBooking,
    Meeting,
    MeetingChange,
    NewMeeting,
    YunzhijiaClient,
)

log = logging.getLogger("roomagent.scheduling.calendar")

STATE_VERSION = 1
PAGE_SIZE = 50
MAX_PAGES = 200  # a feed that keeps returning full pages is cut off rather than looping forever
KEEP_PAST = timedelta(days=2)  # ended bookings and tombstones older than this are dropped
DEFAULT_BOOK_MINUTES = 30
MIN_BOOK_MINUTES = 5

# --- Tencent meeting code in a booking's topic/content -------------------------------------
# Rule (documented in the README): a meeting.tencent.com link wins; a code inside the link
# (9–12 digits in its path or query) is taken from it. Otherwise a labelled code
# ("会议号", "会议ID", "meeting code/ID/number", "#腾讯会议") and then the first bare number
# of 9–12 digits, possibly grouped by single spaces or hyphens ("123 456 789", "123-456-789").
# Groups must be 3–4 digits so dates and times ("2026-11-22", "10:00-11:00") never match.
_TENCENT_LINK = re.compile(r"https?://meeting\.tencent\.com/[^\s\"'<>，。)）]+", re.IGNORECASE)
_LINK_CODE = re.compile(r"(?<!\d)(\d{9,12})(?!\d)")
_GROUPED = r"(\d{3,4}(?:[ \-]\d{3,4}){1,3}|\d{9,12})"
_LABELLED_CODE = re.compile(
    r"(?:会议号|会议ID|会议id|meeting\s*(?:code|id|number|no\.?)|#腾讯会议)\s*[:：#]?\s*"
    + _GROUPED,
    re.IGNORECASE,
)
_BARE_CODE = re.compile(r"(?<![\d\-])" + _GROUPED + r"(?![\d\-])")


def _digits(candidate: str) -> str | None:
    digits = re.sub(r"[ \-]", "", candidate)
    return digits if 9 <= len(digits) <= 12 else None


def extract_meeting(*texts: str | None) -> tuple[str | None, str | None]:
    """(meeting_code, meeting_url) found in the texts, by the rule above."""
    text = "\n".join(t for t in texts if t)
    link = _TENCENT_LINK.search(text)
    url = link.group(0).rstrip(".,;") if link else None
    if url:
        in_link = _LINK_CODE.search(url)
        if in_link:
            return in_link.group(1), url
    for pattern in (_LABELLED_CODE, _BARE_CODE):
        for match in pattern.finditer(text):
            code = _digits(match.group(1))
            if code:
                return code, url
    return None, url


@dataclass(frozen=True)
class Booking:
    order_id: str
    title: str
    start: datetime
    end: datetime
    booked_by: str | None
    meeting_code: str | None = None
    meeting_url: str | None = None
    room_name: str | None = None
    room_id: str | None = None
    content: str | None = None
    update_ms: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "order_id": self.order_id,
            "title": self.title,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "booked_by": self.booked_by,
            "meeting_code": self.meeting_code,
            "meeting_url": self.meeting_url,
            "room_name": self.room_name,
        }

    @classmethod
    def from_feed(cls, item: FeedBooking) -> Booking:
        code, url = extract_meeting(item.topic, item.content)
        return cls(
            order_id=item.order_id,
            title=item.topic or "",
            start=item.start,
            end=item.end,
            booked_by=item.user_name,
            meeting_code=code,
            meeting_url=url,
            room_name=item.room_name,
            room_id=item.room_id,
            content=item.content,
            update_ms=item.update_ms,
        )

    def stored(self) -> dict[str, Any]:
        return {
            "order_id": self.order_id,
            "title": self.title,
            "start_ms": to_millis(self.start),
            "end_ms": to_millis(self.end),
            "booked_by": self.booked_by,
            "room_name": self.room_name,
            "room_id": self.room_id,
            "content": self.content,
            "update_ms": self.update_ms,
        }

    @classmethod
    def from_stored(cls, data: dict[str, Any]) -> Booking:
        code, url = extract_meeting(data.get("title"), data.get("content"))
        return cls(
            order_id=str(data["order_id"]),
            title=str(data.get("title") or ""),
            start=from_millis(data["start_ms"]),
            end=from_millis(data["end_ms"]),
            booked_by=data.get("booked_by"),
            meeting_code=code,
            meeting_url=url,
            room_name=data.get("room_name"),
            room_id=data.get("room_id"),
            content=data.get("content"),
            update_ms=int(data.get("update_ms") or 0),
        )


@dataclass
class _Tombstone:
    update_ms: int
    end_ms: int


@dataclass
class CalendarState:
    """Everything persisted: the feed cursor, this room's bookings, and tombstones."""

    cursor: int | None = None
    bookings: dict[str, Booking] = field(default_factory=dict)
    tombstones: dict[str, _Tombstone] = field(default_factory=dict)


def write_atomic(path: Path, data: bytes) -> None:
    """tmp + fsync + rename + fsync(dir): readers see the old file or the new one, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


class RoomCalendar:
    """This room's bookings, kept in sync with the feed. See the module docstring."""

    def __init__(
        self, section: YunzhijiaSection, state_dir: Path, *, timeout: float | None = None
    ) -> None:
        self.section = section
        self.state_path = Path(state_dir) / "calendar-yunzhijia.json"
        self.timeout = timeout
        self.last_error: str | None = None
        self.last_sync: datetime | None = None
        self._state = CalendarState()
        self._watchers: list[Callable[[], None]] = []
        self._lock = anyio.Lock()
        self._in_use_since: datetime | None = None
        self._released: set[str] = set()
        self._elsewhere: dict[str, int] = {}  # other rooms' orderId → updateTime, this sync
        self._written: bytes | None = None  # what the state file holds, as last written here
        self._load()

    @classmethod
    def from_config(cls, config: AgentConfig) -> RoomCalendar | None:
        section = config.calendar.yunzhijia
        return None if section is None else cls(section, config.state_dir)

    # --- queries ---------------------------------------------------------------------------

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
            "provider": "yunzhijia",
            "current": current.as_dict() if current else None,
            "next": upcoming.as_dict() if upcoming else None,
            "today": [b.as_dict() for b in self.today(now)],
            "last_sync": self.last_sync.isoformat() if self.last_sync else None,
            "last_error": self.last_error,
        }

    def watch(self, callback: Callable[[], None]) -> Callable[[], None]:
        self._watchers.append(callback)

        def unsubscribe() -> None:
            with contextlib.suppress(ValueError):
                self._watchers.remove(callback)

        return unsubscribe

    def _notify(self) -> None:
        for callback in list(self._watchers):
            try:
                callback()
            except Exception:  # a watcher's bug must not stop the calendar
                log.exception("calendar watcher failed")

    # --- applying the feed -------------------------------------------------------------------

    def _is_mine(self, item: FeedBooking) -> bool:
        if self.section.room_id and item.room_id is not None:
            return item.room_id == self.section.room_id
        if self.section.room_name:
            return (item.room_name or "").strip() == self.section.room_name.strip()
        return False  # room_id only, and the feed gave no roomId: cannot be ours

    def _seen_ms(self, order_id: str) -> int:
        held = self._state.bookings.get(order_id)
        tomb = self._state.tombstones.get(order_id)
        return max(
            held.update_ms if held else -1,
            tomb.update_ms if tomb else -1,
            self._elsewhere.get(order_id, -1),
        )

    def _bury(self, item: FeedBooking) -> None:
        """Forget a booking. Ours (held, or deleted in our room) leave a persisted tombstone;
        other rooms' are only remembered for the current sync: later syncs start after the
        cursor, so their older versions cannot come back, and the state file stays small."""
        held = self._state.bookings.pop(item.order_id, None)
        if held is None and not self._is_mine(item) and item.order_id not in self._state.tombstones:
            self._elsewhere[item.order_id] = max(
                self._elsewhere.get(item.order_id, -1), item.update_ms
            )
            return
        old = self._state.tombstones.get(item.order_id)
        if old is None or old.update_ms < item.update_ms:
            self._state.tombstones[item.order_id] = _Tombstone(item.update_ms, to_millis(item.end))

    def apply_page(self, adds: list[FeedBooking], deletes: list[FeedBooking]) -> bool:
        """Apply one bookInfo page (add, then delete); True when this room's bookings changed."""
        before = dict(self._state.bookings)
        for item in adds:
            if item.update_ms <= self._seen_ms(item.order_id):
                continue  # duplicate or older than what we hold
            if self._is_mine(item):
                self._state.bookings[item.order_id] = Booking.from_feed(item)
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

    def open_client(self) -> YunzhijiaClient:
        return YunzhijiaClient(self.section, timeout=self.timeout)

    @contextlib.asynccontextmanager
    async def _client(self, client: YunzhijiaClient | None) -> AsyncIterator[YunzhijiaClient]:
        """The caller's client as it is, or one of our own, closed when done."""
        if client is not None:
            yield client
            return
        async with self.open_client() as own:
            yield own

    async def sync_once(self, client: YunzhijiaClient | None = None) -> bool:
        """One poll; True when this room's bookings changed. Raises CloudError (and keeps the
        last good calendar) on failure."""
        async with self._lock, self._client(client) as active:
            try:
                changed = await self._sync(active)
            except CloudError as exc:
                self.last_error = str(exc)
                raise
            self.last_error = None
            self.last_sync = datetime.now(UTC)
        if changed:
            self._notify()
        return changed

    async def _sync(self, client: YunzhijiaClient) -> bool:
        start_cursor = self._state.cursor
        if start_cursor is not None and not await client.has_new(start_cursor):
            return False
        # Work on a copy so a failure half-way leaves the last good calendar untouched.
        saved = self._snapshot()
        pages = 0
        try:
            for page_index in range(1, MAX_PAGES + 1):
                page = await client.book_info(start_cursor, page_index, PAGE_SIZE)
                self.apply_page(page.add, page.delete)
                pages = page_index
                if len(page.add) + len(page.delete) + page.skipped < PAGE_SIZE:
                    break  # [assumption] a short page is the last one
            self._prune(datetime.now(UTC))
            await self._save()
        except BaseException:
            self._state = saved
            raise
        finally:
            self._elsewhere.clear()
        log.info(
            "calendar synced",
            extra=kv(pages=pages, bookings=len(self._state.bookings), cursor=self._state.cursor),
        )
        return self._state.bookings != saved.bookings

    async def run(self) -> None:
        """Poll every `poll_seconds` until cancelled; failures are recorded in last_error."""
        client: YunzhijiaClient | None = None
        reported: str | None = None
        try:
            while True:
                try:
                    client = client or self.open_client()
                    await self.sync_once(client)
                    if self.section.no_show_release_minutes:
                        await self.release_no_show(client=client)
                except CloudError as exc:
                    if str(exc) != reported:  # once per new problem, not every poll
                        log.warning("calendar sync failed", extra=kv(error=str(exc)))
                    self.last_error = reported = str(exc)
                except Exception as exc:  # a bug must not take the whole agent down
                    log.exception("calendar sync crashed")
                    self.last_error = reported = f"internal error: {type(exc).__name__}"
                else:
                    if reported:
                        log.info("calendar sync recovered")
                    reported = None
                await anyio.sleep(self.section.poll_seconds)
        finally:
            if client is not None:
                with anyio.CancelScope(shield=True):
                    await client.aclose()

    # --- persistence -------------------------------------------------------------------------

    def _identity(self) -> dict[str, Any]:
        s = self.section
        return {
            "base_url": s.base_url,
            "eid": s.eid,
            "room_name": s.room_name,
            "room_id": s.room_id,
        }

    def _snapshot(self) -> CalendarState:
        return CalendarState(
            self._state.cursor, dict(self._state.bookings), dict(self._state.tombstones)
        )

    def _encode(self) -> bytes:
        state = self._state
        doc = {
            "version": STATE_VERSION,
            "source": self._identity(),
            "cursor": state.cursor,
            "bookings": [b.stored() for b in self.bookings()],
            "tombstones": {k: [t.update_ms, t.end_ms] for k, t in state.tombstones.items()},
        }
        return json.dumps(doc, ensure_ascii=False, indent=1).encode("utf-8")

    async def _save(self) -> None:
        data = self._encode()
        if data == self._written:
            return  # nothing new: spare the SD card a write and an fsync every poll
        try:
            await anyio.to_thread.run_sync(write_atomic, self.state_path, data)
            self._written = data
        except OSError as exc:
            raise CloudError(
                "calendar", f"cannot save the calendar to {self.state_path}: {exc.strerror}"
            ) from None

    def _load(self) -> None:
        tmp = self.state_path.with_name(self.state_path.name + ".tmp")
        if tmp.exists():
            # Left by a write that was killed before its rename; the real file is intact.
            log.info("removing an interrupted calendar write", extra=kv(file=str(tmp)))
            tmp.unlink(missing_ok=True)
        try:
            raw = self.state_path.read_bytes()
        except FileNotFoundError:
            return
        except OSError as exc:
            self.last_error = f"cannot read the saved calendar {self.state_path}: {exc.strerror}"
            return
        try:
            doc = json.loads(raw)
            if doc.get("version") != STATE_VERSION or doc.get("source") != self._identity():
                log.info("saved calendar is for another room or feed; starting afresh")
                return
            self._state = CalendarState(
                cursor=doc.get("cursor"),
                bookings={b.order_id: b for b in (Booking.from_stored(x) for x in doc["bookings"])},
                tombstones={
                    k: _Tombstone(int(v[0]), int(v[1])) for k, v in doc["tombstones"].items()
                },
            )
            self._written = raw
        except (ValueError, KeyError, TypeError, AttributeError, IndexError):
            aside = self.state_path.with_name(self.state_path.name + ".corrupt")
            with contextlib.suppress(OSError):  # kept for a post-mortem when possible
                os.replace(self.state_path, aside)
            self._state = CalendarState()
            self.last_error = (
                f"the saved calendar was unreadable (kept as {aside.name}); downloading it again"
            )
            log.warning("saved calendar unreadable", extra=kv(file=str(aside)))

    # --- actions for the panel ---------------------------------------------------------------

    def _open_id(self) -> str:
        if not self.section.open_id:
            raise CloudValidationError(
                PROVIDER, ["set calendar.yunzhijia.open_id (the account that books for this room)"]
            )
        return self.section.open_id

    async def book_now(
        self,
        minutes: int = DEFAULT_BOOK_MINUTES,
        title: str = "Ad-hoc meeting",
        now: datetime | None = None,
    ) -> str:
        """Book this room from now for `minutes` (shortened to the next booking); meeting id."""
        now = _now(now)
        open_id = self._open_id()
        current = self.current(now)
        if current is not None:
            raise CloudValidationError(
                PROVIDER, [f"the room is booked until {current.end.astimezone():%H:%M}"]
            )
        end = now + timedelta(minutes=minutes)
        upcoming = self.next(now)
        if upcoming is not None and upcoming.start < end:
            end = upcoming.start
        if end - now < timedelta(minutes=MIN_BOOK_MINUTES):
            raise CloudValidationError(
                PROVIDER, [f"the room is booked from {end.astimezone():%H:%M}"]
            )
        async with self.open_client() as client:
            room_id = self.section.room_id or await self._free_room_id(client, open_id, now, end)
            meeting = NewMeeting(
                openid=open_id,
                title=title,
                start=now,
                end=end,
                room_id=room_id,
                meeting_place=self.section.room_name,
                notice_time=-1,
            )
            meeting_id = await client.create(meeting)
            log.info("room booked from the panel", extra=kv(meeting_id=meeting_id))
            with contextlib.suppress(CloudError):
                await self.sync_once(client)  # show it now rather than at the next poll
        return meeting_id

    async def _free_room_id(
        self, client: YunzhijiaClient, open_id: str, start: datetime, end: datetime
    ) -> str:
        for room in await client.free_rooms(open_id, start, end):
            if (room.room_name or "").strip() == (self.section.room_name or "").strip():
                return room.room_id
        raise CloudRefused(PROVIDER, f"{self.section.room_name} is not free for that time")

    async def _meeting_behind(
        self, client: YunzhijiaClient, booking: Booking
    ) -> tuple[Meeting, list[str]]:
        for meeting in await client.query_by_day(booking.start):
            if meeting.room_order_id == booking.order_id and meeting.openid:
                actors = [a.open_id for a in await client.get_actors(booking.order_id)]
                return meeting, actors
        raise CloudRefused(PROVIDER, f"cannot find the meeting behind booking {booking.order_id}")

    async def end_early(self, now: datetime | None = None) -> Booking:
        """End the booking in progress now (modify endDate); returns the shortened booking."""
        now = _now(now)
        current = self.current(now)
        if current is None:
            raise CloudValidationError(PROVIDER, ["no booking is in progress"])
        async with self.open_client() as client:
            meeting, actors = await self._meeting_behind(client, current)
            notice = meeting.notice_time if meeting.notice_time in (-1, 0, 15, 60) else -1
            kind = meeting.type if meeting.type in ("sign", "voice") else None
            change = MeetingChange(
                id=meeting.id,
                openid=meeting.openid or "",
                title=meeting.title or current.title,
                content=meeting.content or "",
                start=meeting.start,
                end=max(now, meeting.start + timedelta(minutes=1)),
                room_id=meeting.room_id,
                meeting_place=meeting.meeting_place,
                notice_time=notice,  # type: ignore[arg-type]
                type=kind,  # type: ignore[arg-type]
                actors=actors,
            )
            await client.modify(change)
            shortened = replace(current, end=change.end)
            self._state.bookings[current.order_id] = shortened
            await self._save()
            self._notify()
            with contextlib.suppress(CloudError):
                await self.sync_once(client)
        return shortened

    async def attendees(self, booking: Booking) -> list[Actor]:
        """Who is invited to a booking (getActors), e.g. for the page's current meeting."""
        async with self.open_client() as client:
            return await client.get_actors(booking.order_id)

    def note_in_use(self, now: datetime | None = None) -> None:
        """The control side calls this when the room is actually used (a meeting started)."""
        self._in_use_since = _now(now)

    async def release_no_show(
        self, now: datetime | None = None, client: YunzhijiaClient | None = None
    ) -> Booking | None:
        """Cancel the current booking when nobody used the room within N minutes of its start
        (`no_show_release_minutes`; off when unset). Returns the released booking."""
        minutes = self.section.no_show_release_minutes
        now = _now(now)
        current = self.current(now)
        if not minutes or current is None or current.order_id in self._released:
            return None
        if now < current.start + timedelta(minutes=minutes):
            return None
        if self._in_use_since is not None and self._in_use_since >= current.start:
            return None
        try:
            async with self._client(client) as active:
                meeting, _ = await self._meeting_behind(active, current)
                await active.cancel(meeting.id, meeting.openid or "")
        except CloudRefused:
            self._released.add(current.order_id)  # report once, not on every poll
            raise
        self._released.add(current.order_id)
        self._state.bookings.pop(current.order_id, None)
        # The feed's own delete will be newer; until then this version stays gone.
        self._state.tombstones[current.order_id] = _Tombstone(
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
