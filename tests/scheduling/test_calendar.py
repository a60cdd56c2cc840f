"""RoomCalendar: feed sync, persistence across restarts and crashes, idempotency, actions."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import anyio
import pytest

from roomagent.config.model import YunzhijiaSection
from roomagent.scheduling.calendar import PAGE_SIZE, Booking, RoomCalendar
from roomagent.scheduling.http import CloudError, CloudRefused, CloudValidationError
from roomagent.scheduling.yunzhijia import FeedBooking, YunzhijiaClient
from roomagent.scheduling.yunzhijia_calendar import booking_of
from roomagent.sim.clouds import YunzhijiaCloud

from .conftest import ROOM, agent_config

NOW = datetime.now(UTC).replace(second=0, microsecond=0)


def _book(cloud: YunzhijiaCloud, hours: float, length: float = 1, room: str = ROOM, **kw: str):
    start = NOW + timedelta(hours=hours)
    return cloud.add_booking(room, start, start + timedelta(hours=length), **kw)


def _calendar(section: YunzhijiaSection, tmp_path: Path) -> RoomCalendar:
    calendar = RoomCalendar.from_config(agent_config(tmp_path, section))
    assert calendar is not None
    return calendar


def test_from_config_is_none_when_not_configured(tmp_path: Path) -> None:
    from roomagent.config.model import AgentConfig

    assert RoomCalendar.from_config(AgentConfig(state_dir=tmp_path)) is None


@pytest.mark.anyio
async def test_sync_keeps_only_this_rooms_bookings(
    yzj_section: YunzhijiaSection, yzj_cloud: YunzhijiaCloud, tmp_path: Path
) -> None:
    mine_later = _book(yzj_cloud, 3, topic="Design review 会议号: 123 456 789")
    _book(yzj_cloud, 1, room="A304")
    mine_now = _book(yzj_cloud, -0.5, topic="Ops sync", user="符**")
    calendar = _calendar(yzj_section, tmp_path)
    assert await calendar.sync_once() is True
    orders = [b.order_id for b in calendar.bookings()]
    assert orders == [mine_now["orderId"], mine_later["orderId"]]
    current = calendar.current(NOW)
    upcoming = calendar.next(NOW)
    assert current is not None and current.title == "Ops sync" and current.booked_by == "符**"
    assert upcoming is not None and upcoming.meeting_code == "123456789"
    assert upcoming.start == NOW + timedelta(hours=3) and upcoming.start.tzinfo is not None
    assert calendar.last_error is None
    assert upcoming.as_dict()["start"] == (NOW + timedelta(hours=3)).isoformat()


@pytest.mark.anyio
async def test_today_is_the_local_day_of_now(
    yzj_section: YunzhijiaSection, yzj_cloud: YunzhijiaCloud, tmp_path: Path
) -> None:
    noon = datetime(2030, 5, 6, 12, 0, tzinfo=UTC)
    yzj_cloud.add_booking(ROOM, noon + timedelta(hours=1), noon + timedelta(hours=2))
    yzj_cloud.add_booking(ROOM, noon + timedelta(days=1), noon + timedelta(days=1, hours=1))
    yzj_cloud.add_booking(ROOM, noon - timedelta(days=1), noon - timedelta(days=1, hours=-1))
    calendar = _calendar(yzj_section, tmp_path)
    await calendar.sync_once()
    assert [b.start for b in calendar.today(noon)] == [noon + timedelta(hours=1)]


@pytest.mark.anyio
async def test_pages_through_book_info_and_then_polls_has_new_with_the_cursor(
    yzj_section: YunzhijiaSection, yzj_cloud: YunzhijiaCloud, tmp_path: Path
) -> None:
    for i in range(PAGE_SIZE * 2 + 7):
        _book(yzj_cloud, 1 + i, length=0.5, room=ROOM if i % 2 else "A304")
    calendar = _calendar(yzj_section, tmp_path)
    await calendar.sync_once()
    assert len(yzj_cloud.requests_to("bookInfo")) == 3
    assert len(calendar.bookings()) == PAGE_SIZE + 3
    newest = max(r.booking["updateTime"] for r in yzj_cloud.feed)
    assert calendar.cursor == newest
    # Nothing new: one hasNew with the cursor, no bookInfo.
    assert await calendar.sync_once() is False
    assert yzj_cloud.requests_to("hasNew")[-1].body["lastTime"] == str(newest)
    assert len(yzj_cloud.requests_to("bookInfo")) == 3
    # News: only what came after the cursor is fetched.
    added = _book(yzj_cloud, 0.5)
    assert await calendar.sync_once() is True
    assert yzj_cloud.requests_to("bookInfo")[-1].body["lastTime"] == str(newest)
    assert calendar.next(NOW) is not None and calendar.next(NOW).order_id == added["orderId"]


@pytest.mark.anyio
async def test_updates_deletes_and_moves_apply_by_order_id(
    yzj_section: YunzhijiaSection, yzj_cloud: YunzhijiaCloud, tmp_path: Path
) -> None:
    a, b, c = (_book(yzj_cloud, h) for h in (1, 2, 3))
    calendar = _calendar(yzj_section, tmp_path)
    await calendar.sync_once()
    yzj_cloud.update_booking(a["orderId"], meetingTopic="Renamed")
    yzj_cloud.delete_booking(b["orderId"])
    yzj_cloud.update_booking(c["orderId"], roomName="A304")  # moved to another room
    await calendar.sync_once()
    assert [(x.order_id, x.title) for x in calendar.bookings()] == [(a["orderId"], "Renamed")]


@pytest.mark.anyio
async def test_restart_neither_loses_nor_redownloads(
    yzj_section: YunzhijiaSection, yzj_cloud: YunzhijiaCloud, tmp_path: Path
) -> None:
    for h in (1, 2, 3):
        _book(yzj_cloud, h)
    first = _calendar(yzj_section, tmp_path)
    await first.sync_once()
    calls = len(yzj_cloud.requests_to("bookInfo"))
    second = _calendar(yzj_section, tmp_path)  # a restart: same state dir
    assert [b.as_dict() for b in second.bookings()] == [b.as_dict() for b in first.bookings()]
    assert second.cursor == first.cursor
    await second.sync_once()
    assert len(yzj_cloud.requests_to("bookInfo")) == calls  # hasNew said no; nothing fetched


@pytest.mark.anyio
async def test_duplicate_and_out_of_order_pages_converge(
    yzj_section: YunzhijiaSection, yzj_cloud: YunzhijiaCloud, tmp_path: Path
) -> None:
    orders = [_book(yzj_cloud, 1 + i, length=0.5)["orderId"] for i in range(PAGE_SIZE + 20)]
    for order in orders[:10]:
        yzj_cloud.update_booking(order, meetingTopic="updated")
    for order in orders[10:15]:
        yzj_cloud.delete_booking(order)
    reference = _calendar(yzj_section, tmp_path / "forward")
    await reference.sync_once()
    yzj_cloud.record_order = "newest_first"  # updates and deletes before their adds
    yzj_cloud.overlap = 7  # and records repeated across pages
    shuffled = _calendar(yzj_section, tmp_path / "shuffled")
    await shuffled.sync_once()
    await shuffled.sync_once()
    expected = [b.as_dict() for b in reference.bookings()]
    assert [b.as_dict() for b in shuffled.bookings()] == expected
    assert len(expected) == PAGE_SIZE + 15
    assert all(b.title == "updated" for b in reference.bookings()[:10])


def _feed(order: str, update_ms: int, room: str = ROOM) -> Booking:
    start = int((NOW + timedelta(hours=1)).timestamp() * 1000)
    return _as_booking(
        {
            "orderId": order,
            "roomName": room,
            "startTime": start,
            "endTime": start + 3_600_000,
            "updateTime": update_ms,
            "meetingTopic": f"v{update_ms}",
        }
    )


def test_apply_is_idempotent_by_order_id_and_update_time(
    yzj_section: YunzhijiaSection, tmp_path: Path
) -> None:
    calendar = _calendar(yzj_section, tmp_path)
    assert calendar.apply_page([_feed("o1", 10)], []) is True
    assert calendar.apply_page([_feed("o1", 10)], []) is False  # duplicate
    assert calendar.apply_page([_feed("o1", 5)], []) is False  # older
    assert calendar.bookings()[0].title == "v10"
    assert calendar.apply_page([], [_feed("o1", 8)]) is False  # stale delete
    assert calendar.apply_page([], [_feed("o1", 12)]) is True
    assert calendar.apply_page([_feed("o1", 11)], []) is False  # older add cannot resurrect
    assert calendar.bookings() == []
    # add then delete in the same page: the delete wins
    assert calendar.apply_page([_feed("o2", 20)], [_feed("o2", 20)]) is False
    assert calendar.bookings() == []
    assert calendar.cursor == 20


@pytest.mark.anyio
async def test_stale_tmp_file_from_a_killed_write_is_ignored(
    yzj_section: YunzhijiaSection, yzj_cloud: YunzhijiaCloud, tmp_path: Path
) -> None:
    _book(yzj_cloud, 1)
    first = _calendar(yzj_section, tmp_path)
    await first.sync_once()
    # kill -9 during the next write: the tmp file is half-written, the rename never happened.
    tmp = first.state_path.with_name(first.state_path.name + ".tmp")
    tmp.write_bytes(first.state_path.read_bytes()[:40])
    second = _calendar(yzj_section, tmp_path)
    assert not tmp.exists()
    assert [b.order_id for b in second.bookings()] == [b.order_id for b in first.bookings()]
    assert second.cursor == first.cursor and second.last_error is None


@pytest.mark.anyio
async def test_truncated_state_file_is_set_aside_and_downloaded_again(
    yzj_section: YunzhijiaSection, yzj_cloud: YunzhijiaCloud, tmp_path: Path
) -> None:
    booking = _book(yzj_cloud, 1)
    first = _calendar(yzj_section, tmp_path)
    await first.sync_once()
    data = first.state_path.read_bytes()
    first.state_path.write_bytes(data[: len(data) // 2])  # a torn write by something else
    second = _calendar(yzj_section, tmp_path)
    assert second.bookings() == [] and second.cursor is None
    assert second.last_error is not None and "unreadable" in second.last_error
    assert first.state_path.with_name(first.state_path.name + ".corrupt").exists()
    await second.sync_once()
    assert [b.order_id for b in second.bookings()] == [booking["orderId"]]
    assert second.last_error is None
    json.loads(second.state_path.read_text(encoding="utf-8"))  # whole again


@pytest.mark.anyio
async def test_state_of_another_room_is_not_reused(
    yzj_section: YunzhijiaSection, yzj_cloud: YunzhijiaCloud, tmp_path: Path
) -> None:
    _book(yzj_cloud, 1)
    await _calendar(yzj_section, tmp_path).sync_once()
    other = _calendar(yzj_section.model_copy(update={"room_name": "A304"}), tmp_path)
    assert other.bookings() == [] and other.cursor is None


@pytest.mark.anyio
async def test_failure_keeps_the_last_good_calendar(
    yzj_section: YunzhijiaSection, yzj_cloud: YunzhijiaCloud, tmp_path: Path
) -> None:
    for i in range(PAGE_SIZE + 5):
        _book(yzj_cloud, 1 + i, length=0.5)
    calendar = _calendar(yzj_section, tmp_path)
    await calendar.sync_once()
    good = [b.as_dict() for b in calendar.bookings()]
    cursor = calendar.cursor
    for i in range(PAGE_SIZE + 5):
        _book(yzj_cloud, 100 + i, length=0.5)
    # page 1 arrives, page 2 fails: nothing of the half sync may stick
    yzj_cloud.fail_next(
        "bookInfo", status=200, body={"success": False, "errorCode": 500, "error": "系统繁忙"}
    )
    calls_before = len(yzj_cloud.requests_to("bookInfo"))
    with pytest.raises(CloudRefused, match="系统繁忙"):
        await calendar.sync_once()
    assert len(yzj_cloud.requests_to("bookInfo")) == calls_before + 1
    assert [b.as_dict() for b in calendar.bookings()] == good
    assert calendar.cursor == cursor
    assert calendar.last_error == "Yunzhijia: 系统繁忙 (errorCode 500)"
    reloaded = _calendar(yzj_section, tmp_path)
    assert reloaded.cursor == cursor
    await calendar.sync_once()
    assert calendar.last_error is None and len(calendar.bookings()) == 2 * (PAGE_SIZE + 5)


@pytest.mark.anyio
async def test_failure_on_a_later_page_rolls_back(
    yzj_section: YunzhijiaSection, yzj_cloud: YunzhijiaCloud, tmp_path: Path
) -> None:
    calendar = _calendar(yzj_section, tmp_path)
    for i in range(PAGE_SIZE + 5):
        _book(yzj_cloud, 1 + i, length=0.5)

    # Let page 1 through, then fail page 2 with a vendor error.
    async with YunzhijiaClient(yzj_section) as client:
        page1 = await client.book_info(None, 1, PAGE_SIZE)
    assert len(page1.add) == PAGE_SIZE
    yzj_cloud.requests.clear()
    original = yzj_cloud.handle

    def failing_page_two(path, query, headers, body):  # type: ignore[no-untyped-def]
        if path.endswith("bookInfo") and body.get("pageIndex") == 2:
            return 200, {"success": False, "errorCode": 1, "error": "page two failed"}
        return original(path, query, headers, body)

    yzj_cloud.handle = failing_page_two  # type: ignore[method-assign]
    with pytest.raises(CloudError, match="page two failed"):
        await calendar.sync_once()
    assert calendar.bookings() == [] and calendar.cursor is None
    assert not calendar.state_path.exists()


@pytest.mark.anyio
async def test_watch_and_run_until_cancelled(
    yzj_section: YunzhijiaSection, yzj_cloud: YunzhijiaCloud, tmp_path: Path
) -> None:
    _book(yzj_cloud, 1)
    calendar = _calendar(yzj_section.model_copy(update={"poll_seconds": 1}), tmp_path)
    changed = anyio.Event()
    calls: list[int] = []
    unsubscribe = calendar.watch(lambda: (calls.append(1), changed.set()))
    with anyio.fail_after(5):
        async with anyio.create_task_group() as tg:
            tg.start_soon(calendar.run)
            await changed.wait()
            tg.cancel_scope.cancel()
    assert len(calendar.bookings()) == 1 and calls == [1]
    unsubscribe()
    _book(yzj_cloud, 2)
    await calendar.sync_once()
    assert calls == [1]


@pytest.mark.anyio
async def test_run_records_plain_last_error_and_keeps_going(
    yzj_section: YunzhijiaSection, yzj_cloud: YunzhijiaCloud, tmp_path: Path
) -> None:
    yzj_cloud.fail_next(
        "bookInfo", status=200, body={"success": False, "errorCode": 7, "error": "维护中"}
    )
    calendar = _calendar(yzj_section.model_copy(update={"poll_seconds": 1}), tmp_path)
    _book(yzj_cloud, 1)
    changed = anyio.Event()
    calendar.watch(changed.set)
    with anyio.fail_after(5):
        async with anyio.create_task_group() as tg:
            tg.start_soon(calendar.run)
            await changed.wait()  # the second poll succeeded
            tg.cancel_scope.cancel()
    assert len(calendar.bookings()) == 1 and calendar.last_error is None


# --- panel actions ---------------------------------------------------------------------------


@pytest.mark.anyio
async def test_book_now_and_end_early(
    yzj_section: YunzhijiaSection, yzj_cloud: YunzhijiaCloud, tmp_path: Path
) -> None:
    calendar = _calendar(yzj_section, tmp_path)
    now = datetime.now(UTC)
    meeting_id = await calendar.book_now(now=now)
    sent = yzj_cloud.requests_to("create")[0].body
    assert sent["roomId"] == "room-23f"  # found through freeRooms by the room's name
    assert sent["endDate"] - sent["startDate"] == 30 * 60 * 1000
    current = calendar.current(now + timedelta(minutes=1))
    assert current is not None and yzj_cloud.meetings[meeting_id].order_id == current.order_id
    with pytest.raises(CloudValidationError, match="booked until"):
        await calendar.book_now(now=now + timedelta(minutes=1))
    yzj_cloud.actors[current.order_id] = [{"openId": "oid-1", "userName": "陈*波"}]
    assert [a["name"] for a in await calendar.attendees(current)] == ["陈*波"]
    ended = await calendar.end_early(now=now + timedelta(minutes=5))
    assert ended.end == (now + timedelta(minutes=5))
    modify = yzj_cloud.requests_to("modify")[0].body
    assert modify["endDate"] == int((now + timedelta(minutes=5)).timestamp() * 1000)
    assert modify["openid"] == yzj_section.open_id
    assert calendar.current(now + timedelta(minutes=6)) is None


@pytest.mark.anyio
async def test_book_now_is_shortened_to_the_next_booking(
    yzj_section: YunzhijiaSection, yzj_cloud: YunzhijiaCloud, tmp_path: Path
) -> None:
    now = datetime.now(UTC)
    yzj_cloud.add_booking(ROOM, now + timedelta(minutes=20), now + timedelta(minutes=80))
    calendar = _calendar(yzj_section, tmp_path)
    await calendar.sync_once()
    with pytest.raises(CloudValidationError, match="booked from"):
        await calendar.book_now(now=now + timedelta(minutes=17))  # 3 minutes left: too short
    assert yzj_cloud.requests_to("create") == []
    await calendar.book_now(now=now)
    sent = yzj_cloud.requests_to("create")[0].body
    assert sent["endDate"] - sent["startDate"] == 20 * 60 * 1000


@pytest.mark.anyio
async def test_book_now_needs_an_open_id(
    yzj_section: YunzhijiaSection, yzj_cloud: YunzhijiaCloud, tmp_path: Path
) -> None:
    calendar = _calendar(yzj_section.model_copy(update={"open_id": None}), tmp_path)
    with pytest.raises(CloudValidationError, match="open_id"):
        await calendar.book_now()
    assert yzj_cloud.requests == []


@pytest.mark.anyio
async def test_end_early_without_a_booking_in_progress(
    yzj_section: YunzhijiaSection, yzj_cloud: YunzhijiaCloud, tmp_path: Path
) -> None:
    with pytest.raises(CloudValidationError, match="no booking is in progress"):
        await _calendar(yzj_section, tmp_path).end_early()


@pytest.mark.anyio
async def test_no_show_release_is_off_by_default_and_cancels_when_on(
    yzj_section: YunzhijiaSection, yzj_cloud: YunzhijiaCloud, tmp_path: Path
) -> None:
    booker = _calendar(yzj_section, tmp_path / "a")
    start = datetime.now(UTC)
    await booker.book_now(now=start)
    later = start + timedelta(minutes=12)
    assert await booker.release_no_show(later) is None  # off by default
    section = yzj_section.model_copy(update={"no_show_release_minutes": 10})
    calendar = _calendar(section, tmp_path / "b")
    await calendar.sync_once()
    assert await calendar.release_no_show(start + timedelta(minutes=5)) is None  # too early
    calendar.note_in_use(start + timedelta(minutes=2))
    assert await calendar.release_no_show(later) is None  # somebody used the room
    unused = _calendar(section, tmp_path / "c")
    await unused.sync_once()
    released = await unused.release_no_show(later)
    assert isinstance(released, Booking)
    assert yzj_cloud.meetings == {} and unused.current(later) is None
    await unused.sync_once()  # the feed's delete agrees
    assert unused.current(later) is None


@pytest.mark.anyio
async def test_a_malformed_booking_is_skipped_not_blocking(
    yzj_section: YunzhijiaSection, yzj_cloud: YunzhijiaCloud, tmp_path: Path
) -> None:
    good = _book(yzj_cloud, 1)
    _book(yzj_cloud, 2)
    yzj_cloud.feed[-1].booking["startTime"] = "next tuesday"  # the cloud sends garbage
    calendar = _calendar(yzj_section, tmp_path)
    await calendar.sync_once()
    assert [b.order_id for b in calendar.bookings()] == [good["orderId"]]
    assert calendar.last_error is None


@pytest.mark.anyio
async def test_unwritable_state_dir_is_a_plain_error_and_run_keeps_going(
    yzj_section: YunzhijiaSection, yzj_cloud: YunzhijiaCloud, tmp_path: Path
) -> None:
    _book(yzj_cloud, 1)
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    calendar = RoomCalendar.yunzhijia(yzj_section.model_copy(update={"poll_seconds": 1}), blocker)
    with pytest.raises(CloudError, match="cannot save the calendar"):
        await calendar.sync_once()
    assert calendar.bookings() == []  # not half-applied
    assert calendar.last_error is not None and "cannot save" in calendar.last_error
    polled = anyio.Event()
    calendar.watch(polled.set)
    with anyio.move_on_after(1.5):  # run() must not raise; it only records the problem
        await calendar.run()
    assert not polled.is_set() and "cannot save" in (calendar.last_error or "")


@pytest.mark.anyio
async def test_quiet_polls_do_not_rewrite_the_state_file(
    yzj_section: YunzhijiaSection, yzj_cloud: YunzhijiaCloud, tmp_path: Path
) -> None:
    _book(yzj_cloud, 1)
    await _calendar(yzj_section, tmp_path).sync_once()
    calendar = _calendar(yzj_section, tmp_path)  # after a restart too
    inode = calendar.state_path.stat().st_ino
    yzj_cloud.fail_next("hasNew", status=200, body={"success": True, "errorCode": 0,
                                                    "data": {"hasNew": True}})  # fmt: skip
    await calendar.sync_once()  # news that turn out to change nothing
    await calendar.sync_once()
    assert calendar.state_path.stat().st_ino == inode  # never replaced


def _as_booking(record: dict[str, object]) -> Booking:
    return booking_of(FeedBooking.model_validate(record))
