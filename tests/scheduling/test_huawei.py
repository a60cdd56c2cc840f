"""Huawei Cloud Meeting: bookConf rules (each with a failing case), booking and invites."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from roomagent.config.model import HuaweiSection
from roomagent.scheduling.http import (
    CloudAuthError,
    CloudRefused,
    CloudValidationError,
    MissingToken,
)
from roomagent.scheduling.huawei import (
    WIRE,
    BookConfParam,
    ConfCommonParam,
    HuaweiClient,
    InviteAttendee,
)
from roomagent.sim.clouds import HuaweiCloud

from .conftest import HWM_CONF_TOKEN, HWM_TOKEN


def _param(**changes: Any) -> BookConfParam:
    common = {"subject": "Quarterly review", "vmrId": changes.pop("vmr_id", None)}
    common.update(changes.pop("common", {}))
    fields: dict[str, Any] = {
        "start": datetime.now(UTC) + timedelta(hours=1),
        "confCommonParam": ConfCommonParam.model_validate(common),
    }
    fields.update(changes)
    return BookConfParam.model_validate(fields)


@pytest.mark.parametrize(
    ("changes", "rule"),
    [
        ({"start": datetime.now(UTC) - timedelta(minutes=1)}, "start must be later than now"),
        ({"start": datetime(2030, 1, 1)}, "needs a timezone"),
        ({"confLen": 14}, r"confLen: length must be 15\.\.1440 minutes \(got 14\)"),
        ({"confLen": 1441}, r"got 1441"),
        ({"kind": "personal"}, "vmrId: required for a personal meeting"),
        ({"kind": "cloud_room"}, "vmrId: required for a cloud room meeting"),
        ({"openCustomPara": "x" * 65}, r"openCustomPara: at most 64 characters \(got 65\)"),
        ({"common": {"subject": " "}}, "subject"),
        ({"allowGuestStartConfTime": -5}, "allowGuestStartConfTime"),
    ],
)
@pytest.mark.anyio
async def test_each_book_rule_fails_locally_without_a_request(
    hwm_section: HuaweiSection, hwm_cloud: HuaweiCloud, changes: dict[str, Any], rule: str
) -> None:
    async with HuaweiClient(hwm_section) as client:
        with pytest.raises(CloudValidationError, match=rule):
            await client.book(_param(**changes))
    assert hwm_cloud.requests == []


def test_boundaries_are_allowed() -> None:
    assert _param(confLen=15).problems() == []
    assert _param(confLen=1440).problems() == []
    assert _param(openCustomPara="x" * 64).problems() == []
    assert _param(kind="personal", vmr_id="vmr-1").problems() == []
    assert _param().conf_len == 30  # the documented default


@pytest.mark.anyio
async def test_book_sends_the_parameter_model(
    hwm_section: HuaweiSection, hwm_cloud: HuaweiCloud
) -> None:
    param = _param(
        confLen=45,
        openCustomPara="room-23f",
        common={"attendees": [{"name": "Room 23F", "number": "+8657100", "isSelf": True}]},
    )
    async with HuaweiClient(hwm_section) as client:
        booked = await client.book(param)
    assert booked.conference_id and booked.conference_id in hwm_cloud.conferences
    sent = hwm_cloud.requests[0]
    assert sent.path == "/" + WIRE.book_path
    assert sent.headers["x-access-token"] == HWM_TOKEN
    assert sent.body[WIRE.start_field] == int(param.start.timestamp())
    assert sent.body["confLen"] == 45 and sent.body["openCustomPara"] == "room-23f"
    assert sent.body["confCommonParam"]["attendees"] == [
        {"number": "+8657100", "name": "Room 23F", "isSelf": True}
    ]
    assert sent.body["isSendCalendarNotify"] is False


@pytest.mark.anyio
async def test_non_zero_result_is_an_error_with_reason(
    hwm_section: HuaweiSection, hwm_cloud: HuaweiCloud
) -> None:
    hwm_cloud.fail_next("conferences", 200, {"result": 1140, "reasonDesc": "VMR is in use"})
    async with HuaweiClient(hwm_section) as client:
        with pytest.raises(CloudRefused, match=r"VMR is in use \(result 1140\)"):
            await client.book(_param())


@pytest.mark.anyio
async def test_book_is_never_retried(hwm_section: HuaweiSection, hwm_cloud: HuaweiCloud) -> None:
    hwm_cloud.fail_next("conferences", 500, {"error_code": "MMC.000000500", "error_msg": "busy"})
    async with HuaweiClient(hwm_section) as client:
        with pytest.raises(CloudRefused, match="server error"):
            await client.book(_param())
    assert len(hwm_cloud.requests) == 1


def _invitee(**changes: Any) -> InviteAttendee:
    fields: dict[str, Any] = {
        "name": "user01",
        "role": 1,
        "phone": "+8657*******",
        "type": "normal",
    }
    fields.update(changes)
    return InviteAttendee.model_validate(fields)


@pytest.mark.anyio
async def test_invite_uses_the_conference_token_and_query(
    hwm_section: HuaweiSection, hwm_cloud: HuaweiCloud
) -> None:
    async with HuaweiClient(hwm_section) as client:
        await client.invite(
            "914083136", [_invitee(), _invitee(name="Room B", phone=None, sms="139")]
        )
    sent = hwm_cloud.requests[0]
    assert sent.path == "/v1/mmc/control/conferences/participants"
    assert sent.query == {"conferenceID": "914083136"}
    assert sent.headers["x-conference-authorization"] == HWM_CONF_TOKEN
    assert sent.body["attendees"][0] == {
        "name": "user01",
        "phone": "+8657*******",
        "role": 1,
        "type": "normal",
    }
    assert len(hwm_cloud.conferences["914083136"]["attendees"]) == 2


@pytest.mark.parametrize(
    ("changes", "rule"),
    [
        ({"name": "n" * 97}, r"attendees\[0\]\.name: at most 96 characters \(got 97\)"),
        ({"phone": None}, "give at least one of phone, email or sms"),
        ({"phone": "1" * 128}, r"phone: at most 127"),
        ({"phone2": "1" * 128}, r"phone2: at most 127"),
        ({"email": "e" * 256}, r"email: at most 255"),
        ({"sms": "1" * 33}, r"sms: at most 32"),
        ({"deptUUID": "d" * 65}, r"deptUUID: at most 64"),
        ({"deptName": "d" * 129}, r"deptName: at most 128"),
        ({"name": ""}, "a name is required"),
    ],
)
@pytest.mark.anyio
async def test_each_attendee_rule_fails_locally(
    hwm_section: HuaweiSection, hwm_cloud: HuaweiCloud, changes: dict[str, Any], rule: str
) -> None:
    async with HuaweiClient(hwm_section) as client:
        with pytest.raises(CloudValidationError, match=rule):
            await client.invite("914083136", [_invitee(**changes)])
    assert hwm_cloud.requests == []


def test_attendee_enumerations_are_checked() -> None:
    with pytest.raises(ValueError):
        _invitee(role=3)
    with pytest.raises(ValueError):
        _invitee(type="hologram")


@pytest.mark.anyio
async def test_invite_needs_attendees(hwm_section: HuaweiSection, hwm_cloud: HuaweiCloud) -> None:
    async with HuaweiClient(hwm_section) as client:
        with pytest.raises(CloudValidationError, match="at least one"):
            await client.invite("914083136", [])
    assert hwm_cloud.requests == []


@pytest.mark.parametrize(
    ("status", "body", "kind", "text"),
    [
        (400, {"error_code": "MMC.111070005", "error_msg": "Conference not exist"}, CloudRefused,
         "invalid parameters (HTTP 400), meeting management/control error MMC.111070005: "
         "Conference not exist"),
        (401, {"error_code": "USG.000000004", "error_msg": "The token is invalid."},
         CloudAuthError, "authentication missing or failed (HTTP 401), user/authentication "
         "gateway error USG.000000004: The token is invalid."),
        (403, {"error_code": "MMC.111071005", "error_msg": "No permission"}, CloudAuthError,
         "no permission (HTTP 403)"),
        (500, None, CloudRefused, "server error (HTTP 500)"),
    ],
)  # fmt: skip
@pytest.mark.anyio
async def test_invite_errors_are_readable(
    hwm_section: HuaweiSection,
    hwm_cloud: HuaweiCloud,
    status: int,
    body: Any,
    kind: type,
    text: str,
) -> None:
    hwm_cloud.fail_next("participants", status, body)
    async with HuaweiClient(hwm_section) as client:
        with pytest.raises(kind) as caught:
            await client.invite("914083136", [_invitee()])
    assert text in str(caught.value)
    assert len(hwm_cloud.requests) == 1  # a write: never retried


@pytest.mark.anyio
async def test_real_server_refusals_and_no_tokens_in_logs(
    caplog: pytest.LogCaptureFixture,
    hwm_section: HuaweiSection,
    hwm_cloud: HuaweiCloud,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    caplog.set_level(logging.DEBUG)
    async with HuaweiClient(hwm_section) as client:
        with pytest.raises(CloudRefused, match=r"MMC\.111070005"):
            await client.invite("000", [_invitee()])
        await client.book(_param(common={"guestPwd": "guest-pass-999"}))
    monkeypatch.setenv("ROOMAGENT_HWM_CONF_TOKEN", "wrong-token")
    async with HuaweiClient(hwm_section) as client:
        with pytest.raises(CloudAuthError, match="HTTP 401"):
            await client.invite("914083136", [_invitee()])
    for secret in (HWM_TOKEN, HWM_CONF_TOKEN, "wrong-token", "guest-pass-999"):
        assert secret not in caplog.text


@pytest.mark.anyio
async def test_missing_conference_token_is_named(
    hwm_section: HuaweiSection, hwm_cloud: HuaweiCloud, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ROOMAGENT_HWM_CONF_TOKEN")
    async with HuaweiClient(hwm_section) as client:
        with pytest.raises(MissingToken, match="ROOMAGENT_HWM_CONF_TOKEN"):
            await client.invite("914083136", [_invitee()])
    assert hwm_cloud.requests == []
