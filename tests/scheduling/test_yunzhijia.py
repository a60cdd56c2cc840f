"""Yunzhijia meeting API and feed client calls against the loopback cloud."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from roomagent.config.model import YunzhijiaSection
from roomagent.scheduling.http import CloudRefused, CloudValidationError
from roomagent.scheduling.yunzhijia import (
    MeetingChange,
    NewMeeting,
    RepeatMeeting,
    YunzhijiaClient,
    change_of,
    merged_actors,
)
from roomagent.sim.clouds import YunzhijiaCloud

from .conftest import ROOM, YZJ_TOKEN

CREATOR = "5a67e08d00b0e8dfe4aab4fa"
START = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=2)


def _new(**changes: object) -> NewMeeting:
    fields: dict[str, object] = {
        "openid": CREATOR,
        "title": "测试会议",
        "content": "新增会议测试",
        "start": START,
        "end": START + timedelta(hours=2),
        "room_id": "room-23f",
        "meeting_place": ROOM,
        "notice_time": 0,
        "actors": ["a1", "a2"],
        "submit_experience": True,
    }
    fields.update(changes)
    return NewMeeting.model_validate(fields)


@pytest.mark.anyio
async def test_create_sends_seed_shaped_body(
    yzj_section: YunzhijiaSection, yzj_cloud: YunzhijiaCloud
) -> None:
    async with YunzhijiaClient(yzj_section) as client:
        meeting_id = await client.create(_new())
    sent = yzj_cloud.requests_to("/gateway/cloudwork/meeting/create")[0]
    assert sent.query == {"accessToken": YZJ_TOKEN}
    assert sent.body["startDate"] == int(START.timestamp() * 1000)
    assert sent.body["endDate"] - sent.body["startDate"] == 2 * 3600 * 1000
    assert sent.body["roomId"] == "room-23f"
    assert sent.body["type"] is None  # null: a normal meeting
    assert meeting_id in yzj_cloud.meetings


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("changes", "rule"),
    [
        ({"end": START - timedelta(minutes=1)}, "end must be after start"),
        ({"end": START}, "end must be after start"),
        ({"title": "  "}, "title must not be empty"),
        ({"openid": ""}, "openid"),
    ],
)
async def test_create_rules_are_checked_before_sending(
    yzj_section: YunzhijiaSection, yzj_cloud: YunzhijiaCloud, changes: dict, rule: str
) -> None:
    async with YunzhijiaClient(yzj_section) as client:
        with pytest.raises(CloudValidationError, match=rule):
            await client.create(_new(**changes))
    assert yzj_cloud.requests == []


def test_notice_time_and_type_are_limited_to_documented_values() -> None:
    with pytest.raises(ValueError):
        _new(notice_time=30)
    with pytest.raises(ValueError):
        _new(type="video")


def test_actors_are_old_plus_add_minus_del() -> None:
    assert merged_actors(["a", "b", "c"], ["d", "a"], ["b"]) == ["a", "c", "d"]
    change = change_of(
        ["a", "b"],
        id="m1",
        openid=CREATOR,
        title="t",
        start=START,
        end=START + timedelta(hours=1),
        add_actors=["x"],
        del_actors=["a"],
    )
    wire = change.wire()
    assert wire["actors"] == ["b", "x"]
    assert wire["addActors"] == ["x"] and wire["delActors"] == ["a"]


@pytest.mark.anyio
async def test_only_the_creator_may_cancel_checked_locally(
    yzj_section: YunzhijiaSection, yzj_cloud: YunzhijiaCloud
) -> None:
    async with YunzhijiaClient(yzj_section) as client:
        meeting_id = await client.create(_new())
        before = len(yzj_cloud.requests)
        with pytest.raises(CloudValidationError, match="only the meeting's creator may cancel"):
            await client.cancel(meeting_id, "someone-else")
        with pytest.raises(CloudValidationError, match="only the meeting's creator may modify"):
            await client.modify(
                MeetingChange(
                    id=meeting_id,
                    openid="someone-else",
                    title="x",
                    start=START,
                    end=START + timedelta(hours=1),
                )
            )
        assert len(yzj_cloud.requests) == before  # nothing sent
        await client.cancel(meeting_id, CREATOR)
    assert meeting_id not in yzj_cloud.meetings


@pytest.mark.anyio
async def test_cancel_by_non_creator_unknown_locally_is_the_vendors_refusal(
    yzj_section: YunzhijiaSection, yzj_cloud: YunzhijiaCloud
) -> None:
    async with YunzhijiaClient(yzj_section) as creator:
        meeting_id = await creator.create(_new())
    async with YunzhijiaClient(yzj_section) as other:  # a fresh client knows no creators
        with pytest.raises(CloudRefused, match="必须是创建人创建的会议"):
            await other.cancel(meeting_id, "someone-else")


@pytest.mark.anyio
async def test_repeat_series_parent_is_first_and_batch_calls(
    yzj_section: YunzhijiaSection, yzj_cloud: YunzhijiaCloud
) -> None:
    repeat = RepeatMeeting(
        openid=CREATOR,
        title="Stand-up",
        start=START,
        end=START + timedelta(minutes=15),
        repeat=1,
        repeat_end=START + timedelta(days=14),
    )
    async with YunzhijiaClient(yzj_section) as client:
        series = await client.repeat_meeting(repeat)
        assert series.parent_id == series.meeting_ids[0]
        change = MeetingChange(
            id=series.meeting_ids[1],
            openid=CREATOR,
            title="Stand-up (moved)",
            start=START,
            end=START + timedelta(minutes=20),
        )
        await client.batch_modify(change, 1, START + timedelta(days=7), batch_id="b-1")
        parent_change = change.model_copy(update={"id": series.parent_id})
        await client.batch_modify(parent_change, 1, START + timedelta(days=7))
        await client.batch_cancel(series.parent_id, CREATOR)
    sent = yzj_cloud.requests_to("repeatMeeting")[0].body
    assert "roomId" not in sent and "meetingPlace" not in sent
    assert sent["repeat"] == 1
    first, second = (r.body for r in yzj_cloud.requests_to("batchModify"))
    assert first["repeat"] == "1"  # the seed's wire example sends a string here
    assert first["batchId"] == "b-1"
    assert "batchId" not in second  # the parent: no batchId
    assert "batchId" not in yzj_cloud.requests_to("batchCancel")[0].body


def test_repeat_end_before_start_is_rejected() -> None:
    repeat = RepeatMeeting(
        openid=CREATOR,
        title="x",
        start=START,
        end=START + timedelta(minutes=15),
        repeat=2,
        repeat_end=START - timedelta(days=1),
    )
    assert any("repeatEndDate" in r for r in repeat.problems())
    with pytest.raises(ValueError):
        RepeatMeeting.model_validate({**repeat.model_dump(), "repeat": 6})


@pytest.mark.anyio
async def test_query_by_day_free_rooms_and_actors(
    yzj_section: YunzhijiaSection, yzj_cloud: YunzhijiaCloud
) -> None:
    async with YunzhijiaClient(yzj_section) as client:
        meeting_id = await client.create(_new())
        meetings = await client.query_by_day(START)
        assert [m.id for m in meetings] == [meeting_id]
        meeting = meetings[0]
        assert meeting.start == START and meeting.start.tzinfo is not None
        assert meeting.room_order_id
        actors = await client.get_actors(meeting.room_order_id)
        assert [a.open_id for a in actors] == ["a1", "a2"]
        free = await client.free_rooms(CREATOR, START, START + timedelta(hours=1))
        assert [r.room_name for r in free] == ["A304"]  # ours is taken by the meeting
        later = await client.free_rooms(
            CREATOR, START + timedelta(hours=3), START + timedelta(hours=4)
        )
        assert {r.room_name for r in later} == {ROOM, "A304"}


@pytest.mark.anyio
async def test_feed_sends_last_time_as_string(
    yzj_section: YunzhijiaSection, yzj_cloud: YunzhijiaCloud
) -> None:
    async with YunzhijiaClient(yzj_section) as client:
        await client.has_new(1538064000000)
        await client.book_info(1538064000000, 2, 10)
    assert yzj_cloud.requests_to("hasNew")[0].body == {"eid": "10109", "lastTime": "1538064000000"}
    body = yzj_cloud.requests_to("bookInfo")[0].body
    assert body == {"eid": "10109", "lastTime": "1538064000000", "pageIndex": 2, "pageSize": 10}
