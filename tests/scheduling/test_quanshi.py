"""Quanshi meeting detail by join link: the seed's reply, tolerant parsing, secrets kept."""

from __future__ import annotations

import copy
import logging
from datetime import UTC, datetime

import pytest

from roomagent.config.model import QuanshiSection
from roomagent.scheduling.http import CloudRefused, CloudValidationError, MissingToken
from roomagent.scheduling.quanshi import TOKEN_HEADER, QuanshiClient, QuanshiMeeting
from roomagent.sim.clouds import QUANSHI_SEED_MEETING, QuanshiCloud

from .conftest import QS_TOKEN

LINK = "https://mtest.qsh1.cn/k/mkIW3Txa0Uk"
PCODES = ("201501000037434973", "201501000037434974")


@pytest.mark.anyio
async def test_seed_reply_resolves_to_the_meeting(
    qs_section: QuanshiSection, qs_cloud: QuanshiCloud
) -> None:
    async with QuanshiClient(qs_section) as client:
        meeting = await client.meeting_by_join_link(LINK)
    assert qs_cloud.requests[0].body == {"attendeeJoinUrl": LINK}
    assert qs_cloud.requests[0].headers[TOKEN_HEADER] == QS_TOKEN
    assert meeting.title == "哦" and meeting.status_name == "created"
    assert meeting.start == datetime(2022, 6, 7, 13, 30, tzinfo=UTC)
    assert meeting.event_id == "566390" and meeting.length == 30
    assert meeting.rooms() == []
    shown = meeting.as_dict()
    assert shown["host_passcode"] == "***" and shown["attendee_passcode"] == "***"
    assert shown["attendees"] == [{"name": "88610849", "status": "confirmed"}]
    assert not any(p in repr(shown) for p in PCODES)
    assert meeting.attendee_passcode is not None
    assert meeting.attendee_passcode.get_secret_value() == PCODES[1]  # kept for joining


def test_numbers_as_strings_and_null_lists() -> None:
    raw = copy.deepcopy(QUANSHI_SEED_MEETING)
    raw.update(
        conferenceId=239719428,
        eventId="566390",
        startTime="1654608600",
        endTime="1654610400",
        length="30",
        status="4",
        hostId="88610849",
        attendList=None,
        houseList=None,
        equipList=None,
        detailHouseList=None,
        calExtraInfo=None,
    )
    meeting = QuanshiMeeting.model_validate(raw)
    assert meeting.conference_id == "239719428" and meeting.event_id == "566390"
    assert meeting.start == datetime(2022, 6, 7, 13, 30, tzinfo=UTC)
    assert meeting.length == 30 and meeting.status_name == "ended"
    assert meeting.attendees == [] and meeting.rooms() == []


def test_room_approval_from_detail_and_house_lists() -> None:
    raw = copy.deepcopy(QUANSHI_SEED_MEETING)
    raw["houseList"] = [
        {"DeviceId": 6518, "DeviceType": 2, "DeviceName": "杏花村", "City": "西安",
         "Location": "锦业路", "Floor": 14, "IsMainRoom": 0, "ParentDeviceId": 0,
         "ApplyUserId": 22563698, "ApprovalStatus": 1},
    ]  # fmt: skip
    raw["detailHouseList"] = [
        {"DeviceId": "6516", "DeviceType": "2", "DeviceName": "杏花村2", "City": "西安",
         "Location": 42, "Floor": "14", "IsMainRoom": 0, "ApplyUserId": 22563698,
         "ApplyStatus": 2,
         "SubDevices": [{"DeviceId": 6546, "DeviceType": 3, "DeviceName": "盒子"}]},
    ]  # fmt: skip
    meeting = QuanshiMeeting.model_validate(raw)
    ours = meeting.room_booking("杏花村2")
    assert ours is not None and ours.approval == "approved" and ours.location == "42"
    assert ours.sub_devices[0].device_name == "盒子"
    other = meeting.room_booking("6518")
    assert other is not None and other.approval == "rejected"
    assert meeting.room_booking("nowhere") is None
    assert [r["approval"] for r in meeting.as_dict()["rooms"]] == ["approved", "rejected"]


def test_unknown_status_values_are_shown_not_rejected() -> None:
    raw = copy.deepcopy(QUANSHI_SEED_MEETING)
    raw.update(status=9, newField={"x": 1})
    assert QuanshiMeeting.model_validate(raw).status_name == "unknown (9)"


@pytest.mark.anyio
async def test_vendor_status_error(qs_section: QuanshiSection, qs_cloud: QuanshiCloud) -> None:
    async with QuanshiClient(qs_section) as client:
        with pytest.raises(CloudRefused, match=r"conference not found \(status 50004\)"):
            await client.meeting_by_join_link("https://mtest.qsh1.cn/k/unknown")


@pytest.mark.anyio
async def test_empty_result_is_a_clear_error(
    qs_section: QuanshiSection, qs_cloud: QuanshiCloud
) -> None:
    qs_cloud.fail_next(qs_cloud.PATH, 200, {"status": 0, "result": None})
    async with QuanshiClient(qs_section) as client:
        with pytest.raises(CloudRefused, match="no meeting found"):
            await client.meeting_by_join_link(LINK)


@pytest.mark.anyio
async def test_reads_retry_after_a_500(qs_section: QuanshiSection, qs_cloud: QuanshiCloud) -> None:
    qs_cloud.fail_next(qs_cloud.PATH, 502)
    async with QuanshiClient(qs_section) as client:
        assert (await client.meeting_by_join_link(LINK)).title == "哦"
    assert len(qs_cloud.requests) == 2


@pytest.mark.anyio
@pytest.mark.parametrize("link", ["", "mtest.qsh1.cn/k/x", "ftp://host/x", "https://"])
async def test_bad_links_are_refused_before_sending(
    qs_section: QuanshiSection, qs_cloud: QuanshiCloud, link: str
) -> None:
    async with QuanshiClient(qs_section) as client:
        with pytest.raises(CloudValidationError, match="join link"):
            await client.meeting_by_join_link(link)
    assert qs_cloud.requests == []


@pytest.mark.anyio
async def test_wrong_and_missing_token(
    qs_section: QuanshiSection, qs_cloud: QuanshiCloud, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ROOMAGENT_QS_TOKEN", "not-the-token")
    async with QuanshiClient(qs_section) as client:
        with pytest.raises(CloudRefused, match="token invalid"):
            await client.meeting_by_join_link(LINK)
    monkeypatch.delenv("ROOMAGENT_QS_TOKEN")
    async with QuanshiClient(qs_section) as client:
        with pytest.raises(MissingToken, match="ROOMAGENT_QS_TOKEN"):
            await client.meeting_by_join_link(LINK)


@pytest.mark.anyio
async def test_passcodes_and_token_never_logged(
    caplog: pytest.LogCaptureFixture, qs_section: QuanshiSection, qs_cloud: QuanshiCloud
) -> None:
    caplog.set_level(logging.DEBUG)
    async with QuanshiClient(qs_section) as client:
        meeting = await client.meeting_by_join_link(LINK)
    logging.getLogger("roomagent.test").info("meeting %s", meeting)
    for secret in (QS_TOKEN, *PCODES):
        assert secret not in caplog.text


@pytest.mark.anyio
async def test_result_as_a_json_string_and_formatted_times_parse(
    qs_section: QuanshiSection, qs_cloud: QuanshiCloud
) -> None:
    qs_cloud.result_as_string = True  # the seed's table: result is a JSON string
    qs_cloud.times_as_text = True  # "2022-06-07 21:30:00" in Asia/Shanghai
    async with QuanshiClient(qs_section) as client:
        meeting = await client.meeting_by_join_link(LINK)
    assert meeting.title == "哦"
    assert meeting.start == datetime(2022, 6, 7, 13, 30, tzinfo=UTC)
    assert meeting.end == datetime(2022, 6, 7, 14, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1654608600", datetime(2022, 6, 7, 13, 30, tzinfo=UTC)),
        ("2022-06-07T21:30:00+08:00", datetime(2022, 6, 7, 13, 30, tzinfo=UTC)),
        ("2022/06/07 21:30", datetime(2022, 6, 7, 13, 30, tzinfo=UTC)),
    ],
)
def test_start_time_forms(value: str, expected: datetime) -> None:
    meeting = QuanshiMeeting.model_validate({**QUANSHI_SEED_MEETING, "startTime": value})
    assert meeting.start == expected


def test_a_string_result_that_is_not_json_is_a_plain_error() -> None:
    from roomagent.scheduling.quanshi import parse_result

    assert parse_result('[{"conferenceId": "1"}]') == [{"conferenceId": "1"}]
    assert parse_result("") == [] and parse_result({"a": 1}) == [{"a": 1}]
    with pytest.raises(CloudRefused, match="not JSON"):
        parse_result("[{oops")
