"""The feed's blind spot (hasNew reports additions only) closed by a resync; paged freeRooms;
a room_id-only config refused; recurring meetings from the CLI."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from roomagent.cli.main import main
from roomagent.config.loader import ConfigError, load_config
from roomagent.config.model import YunzhijiaSection
from roomagent.scheduling.calendar import RoomCalendar
from roomagent.scheduling.yunzhijia import YunzhijiaClient
from roomagent.sim.clouds import YunzhijiaCloud

from .conftest import ROOM, agent_config, write_config

NOW = datetime.now(UTC).replace(second=0, microsecond=0)


def _calendar(section: YunzhijiaSection, tmp_path: Path) -> RoomCalendar:
    calendar = RoomCalendar.from_config(agent_config(tmp_path, section))
    assert calendar is not None
    return calendar


@pytest.mark.anyio
async def test_a_cancellation_hasnew_does_not_report_is_applied_by_the_resync(
    yzj_section: YunzhijiaSection, yzj_cloud: YunzhijiaCloud, tmp_path: Path
) -> None:
    kept = yzj_cloud.add_booking(ROOM, NOW + timedelta(hours=1), NOW + timedelta(hours=2))
    gone = yzj_cloud.add_booking(ROOM, NOW + timedelta(hours=3), NOW + timedelta(hours=4))
    calendar = _calendar(yzj_section, tmp_path)
    await calendar.sync_once()
    assert calendar.status()["last_resync"]["pages"] == 1  # the first read is a full one
    yzj_cloud.delete_booking(gone["orderId"])
    assert await calendar.sync_once() is False  # hasNew: nothing *new*
    assert len(calendar.bookings()) == 2  # the blind spot
    assert await calendar.sync_once(full=True) is True
    assert [b.order_id for b in calendar.bookings()] == [kept["orderId"]]
    assert "lastTime" not in yzj_cloud.requests_to("bookInfo")[-1].body  # from scratch
    # The cursor never moves back, so the next incremental poll starts where it was.
    assert calendar.cursor == max(r.booking["updateTime"] for r in yzj_cloud.feed)


@pytest.mark.anyio
async def test_resync_is_due_after_resync_hours_and_at_start_up_when_stale(
    yzj_cloud: YunzhijiaCloud, tokens: None, tmp_path: Path
) -> None:
    section = yzj_cloud.section(timeout=0.5, resync_hours=1)
    yzj_cloud.add_booking(ROOM, NOW + timedelta(hours=1), NOW + timedelta(hours=2))
    calendar = _calendar(section, tmp_path)
    await calendar.sync_once()
    now_ms = int(datetime.now(UTC).timestamp() * 1000)
    assert not calendar.resync_due(now_ms)
    assert calendar.resync_due(now_ms + 3_600_000)
    restarted = _calendar(section, tmp_path)  # the resync time is kept across restarts
    assert not restarted.resync_due(now_ms)
    assert restarted.resync_due(now_ms + 3_600_000)


@pytest.mark.anyio
async def test_a_resync_failure_keeps_the_calendar(
    yzj_section: YunzhijiaSection, yzj_cloud: YunzhijiaCloud, tmp_path: Path
) -> None:
    yzj_cloud.add_booking(ROOM, NOW + timedelta(hours=1), NOW + timedelta(hours=2))
    calendar = _calendar(yzj_section, tmp_path)
    await calendar.sync_once()
    yzj_cloud.fail_next("bookInfo", 200, {"success": False, "errorCode": 9, "error": "busy"}, 3)
    with pytest.raises(Exception, match="busy"):
        await calendar.sync_once(full=True)
    assert len(calendar.bookings()) == 1 and calendar.status()["last_error"]


@pytest.mark.anyio
async def test_book_now_finds_the_room_beyond_the_first_page_of_free_rooms(
    yzj_section: YunzhijiaSection, yzj_cloud: YunzhijiaCloud, tmp_path: Path
) -> None:
    # 120 rooms whose names sort before this room's: it is on the third page.
    yzj_cloud.rooms = {**{f"r{i}": f"0{i:04d}" for i in range(120)}, "room-23f": ROOM}
    calendar = _calendar(yzj_section, tmp_path)
    await calendar.book_now(now=datetime.now(UTC))
    pages = [r.body["pageIndex"] for r in yzj_cloud.requests_to("freeRooms")]
    assert pages == [1, 2, 3]  # 50 + 50 + 21: found on the third, short page
    assert yzj_cloud.requests_to("create")[0].body["roomId"] == "room-23f"


@pytest.mark.anyio
async def test_free_rooms_paging_stops_at_a_short_page(
    yzj_section: YunzhijiaSection, yzj_cloud: YunzhijiaCloud
) -> None:
    yzj_cloud.add_rooms(98)  # with the two default rooms: exactly two full pages
    async with YunzhijiaClient(yzj_section) as client:
        rooms = [r async for r in client.all_free_rooms("oid", NOW, NOW + timedelta(hours=1))]
    assert len(rooms) == 100 and len({r.room_id for r in rooms}) == 100
    assert [r.body["pageIndex"] for r in yzj_cloud.requests_to("freeRooms")] == [1, 2, 3]


@pytest.mark.usefixtures("restore_logging")
def test_a_room_id_only_config_is_refused_with_the_reason(tmp_path: Path) -> None:
    path = write_config(
        tmp_path,
        '[calendar.yunzhijia]\nbase_url = "https://yzj.example"\neid = "1"\nroom_id = "r-1"\n',
    )
    with pytest.raises(ConfigError, match="carries no room id"):
        load_config(path)
    code = main(["check-config", str(path)])
    assert code != 0


def _yzj_config(tmp_path: Path, cloud: YunzhijiaCloud) -> str:
    return str(
        write_config(
            tmp_path,
            f'[calendar.yunzhijia]\nbase_url = "{cloud.url}"\neid = "10109"\n'
            f'room_name = "{ROOM}"\nopen_id = "{cloud.ROOM_OPEN_ID}"\n'
            'secret_env = "ROOMAGENT_YZJ_SECRET"\ntimeout = 0.5\n',
        )
    )


@pytest.mark.usefixtures("restore_logging")
def test_recurring_create_modify_cancel_from_the_cli(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, yzj_cloud: YunzhijiaCloud, tokens: None
) -> None:
    config = _yzj_config(tmp_path, yzj_cloud)
    start, end = NOW + timedelta(days=1), NOW + timedelta(days=1, hours=1)
    times = ["--start", start.isoformat(), "--end", end.isoformat()]
    until = ["--until", (NOW + timedelta(days=30)).isoformat()]
    assert main(["recurring", "create", "--config", config, "--title", "Standup",
                 *times, "--repeat", "workday", *until]) == 0  # fmt: skip
    series = json.loads(capsys.readouterr().out)
    parent, child = series["parent_id"], series["meeting_ids"][1]
    assert parent == series["meeting_ids"][0]
    sent = yzj_cloud.requests_to("repeatMeeting")[0].body
    assert sent["repeat"] == 1 and "roomId" not in sent
    for meeting, expected in ((parent, None), (child, parent)):
        assert main(["recurring", "modify", "--config", config, "--id", meeting,
                     "--parent", parent, "--title", "Standup v2", *times,
                     "--repeat", "daily", *until]) == 0  # fmt: skip
        body = yzj_cloud.requests_to("batchModify")[-1].body
        assert body.get("batchId") == expected and body["repeat"] == "2"  # a string (seed)
    capsys.readouterr()
    assert main(["recurring", "cancel", "--config", config, "--id", child, "--parent", parent]) == 0
    assert json.loads(capsys.readouterr().out) == {"cancelled": child, "batch_id": parent}
    assert yzj_cloud.requests_to("batchCancel")[-1].body == {
        "id": child,
        "openid": yzj_cloud.ROOM_OPEN_ID,
        "batchId": parent,
    }
    past = (NOW - timedelta(days=3)).isoformat()
    code = main(["recurring", "create", "--config", config, "--title", "Bad", *times,
                 "--repeat", "weekly", "--until", past])  # fmt: skip
    assert code == 1 and "repeatEndDate" in capsys.readouterr().err
