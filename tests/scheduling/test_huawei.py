"""Huawei Cloud Meeting: REST CreateMeeting (rules, body, reply), App ID / account
authentication that renews, control tokens fetched with the chair password, invites."""

from __future__ import annotations

import asyncio
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
from roomagent.scheduling.huawei import Attendee, HuaweiClient, MeetingRequest
from roomagent.scheduling.huawei_auth import app_signature
from roomagent.sim.clouds import HuaweiCloud

from .conftest import HWM_APP_ID, HWM_APP_KEY, HWM_CHAIR, HWM_PASSWORD, HWM_TOKEN

RUNNING = HuaweiCloud.RUNNING_CONFERENCE


def _request(**changes: Any) -> MeetingRequest:
    fields: dict[str, Any] = {
        "start": datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(hours=2),
        "subject": "Quarterly review",
    }
    fields.update(changes)
    return MeetingRequest.model_validate(fields)


@pytest.mark.parametrize(
    ("changes", "rule"),
    [
        ({"start": datetime.now(UTC) - timedelta(minutes=1)}, "start must be later than now"),
        # sent to the minute: this minute has begun, so it is not later than now
        ({"start": datetime.now(UTC).replace(second=0, microsecond=59)}, "later than now"),
        ({"start": datetime(2030, 1, 1)}, "needs a timezone"),
        ({"length": 14}, r"length: must be 15\.\.1440 minutes \(got 14\)"),
        ({"length": 1441}, r"got 1441"),
        ({"kind": "personal"}, "vmrID: required for a personal meeting"),
        ({"kind": "cloud_room"}, "vmrID: required for a cloud room meeting"),
        ({"subject": "s" * 129}, r"subject: at most 128 characters \(got 129\)"),
        ({"subject": " "}, "subject: a subject is required"),
        ({"media_types": "Video3D"}, "mediaTypes"),
        ({"media_types": "Data"}, "mediaTypes"),
        ({"attendees": [{"name": "A"}]}, r"attendees\[0\]: give at least one of phone"),
    ],
)
@pytest.mark.anyio
async def test_each_booking_rule_fails_locally_without_a_request(
    hwm_app_section: HuaweiSection, hwm_cloud: HuaweiCloud, changes: dict[str, Any], rule: str
) -> None:
    async with HuaweiClient(hwm_app_section) as client:
        with pytest.raises(CloudValidationError, match=rule):
            await client.book(_request(**changes))
    assert hwm_cloud.requests == []  # not even the authentication


def test_boundaries_are_allowed() -> None:
    assert _request(length=15).problems() == []
    assert _request(length=1440).problems() == []
    assert _request(subject="s" * 128).problems() == []
    assert _request(kind="personal", vmr_id="vmr-1").problems() == []
    assert _request(media_types="Voice,Data").problems() == []
    assert _request().length == 30  # the documented default


@pytest.mark.anyio
async def test_book_with_app_id_auth_sends_the_rest_body(
    hwm_app_section: HuaweiSection, hwm_cloud: HuaweiCloud
) -> None:
    start = datetime(2031, 3, 4, 18, 30, tzinfo=UTC).astimezone()  # local time, sent as UTC
    request = _request(
        start=start,
        length=45,
        kind="cloud_room",
        vmr_id="vmr-23f",
        attendees=[{"name": "Room 23F", "phone": "+8657100", "type": "terminal"}],
        send_calendar=True,
    )
    async with HuaweiClient(hwm_app_section) as client:
        conference = await client.book(request)
    auth, create = hwm_cloud.requests
    assert auth.path == "/v2/usg/acs/auth/appauth"
    assert auth.headers["x-token-type"] == "LongTicket"
    assert auth.body["appId"] == HWM_APP_ID and auth.body["clientType"] == 72
    assert "userId" not in auth.body and 32 <= len(auth.body["nonce"]) <= 64
    signature = app_signature(
        HWM_APP_KEY, HWM_APP_ID, "", auth.body["expireTime"], auth.body["nonce"]
    )
    assert auth.headers["authorization"].startswith(f"HMAC-SHA256 signature={signature},access=")
    assert create.path == "/v1/mmc/management/conferences"
    assert create.headers["x-access-token"] in hwm_cloud.issued
    assert create.body == {
        "startTime": "2031-03-04 18:30",
        "length": 45,
        "subject": "Quarterly review",
        "mediaTypes": "HDVideo",
        "attendees": [{"name": "Room 23F", "phone": "+8657100", "role": 0, "type": "terminal"}],
        "confConfigInfo": {"isSendNotify": False, "isSendSms": False, "isSendCalendar": True},
        "vmrFlag": 1,
        "vmrID": "vmr-23f",
    }
    shown = conference.as_dict()
    assert shown["conference_id"] in hwm_cloud.conferences
    assert shown["start"] == "2031-03-04T18:30:00+00:00"
    assert shown["end"] == "2031-03-04T19:15:00+00:00"
    assert shown["guest_join_link"].endswith("/j/" + shown["conference_id"])
    assert "chair" not in str(shown) and HWM_CHAIR not in str(shown) and "551072" not in str(shown)


@pytest.mark.anyio
async def test_a_revoked_token_is_renewed_once_and_the_booking_goes_through(
    hwm_app_section: HuaweiSection, hwm_cloud: HuaweiCloud
) -> None:
    async with HuaweiClient(hwm_app_section) as client:
        await client.book(_request())
        hwm_cloud.revoke_tokens()
        second = await client.book(_request(subject="Second"))
    assert second.subject == "Second"
    assert len(hwm_cloud.requests_to("appauth")) == 2
    statuses = [r.headers["x-access-token"] for r in hwm_cloud.requests_to("conferences")]
    assert len(statuses) == 3  # ok, 401 with the revoked token, ok with the new one
    assert statuses[1] == statuses[0] != statuses[2]
    assert client.tokens.status()["renewals"] == 2


@pytest.mark.anyio
async def test_token_is_renewed_before_its_validity_ends(
    hwm_app_section: HuaweiSection, hwm_cloud: HuaweiCloud
) -> None:
    hwm_cloud.token_lifetime = 1  # renewed at 80% of its life
    async with HuaweiClient(hwm_app_section) as client:
        await client.book(_request())
        await asyncio.sleep(0.9)
        await client.book(_request())
    assert len(hwm_cloud.requests_to("appauth")) == 2
    assert len(hwm_cloud.requests_to("conferences")) == 2  # no 401 on the way


@pytest.mark.anyio
async def test_account_authentication(hwm_cloud: HuaweiCloud, tokens: None) -> None:
    section = HuaweiSection(base_url=hwm_cloud.url, account=hwm_cloud.account, timeout=0.5)
    async with HuaweiClient(section) as client:
        await client.book(_request())
    assert hwm_cloud.requests[0].path == "/v1/usg/acs/auth/account"
    assert hwm_cloud.requests[0].headers["authorization"].startswith("Basic ")


@pytest.mark.anyio
async def test_a_failed_renewal_is_one_clear_error_and_not_a_loop(
    caplog: pytest.LogCaptureFixture,
    hwm_app_section: HuaweiSection,
    hwm_cloud: HuaweiCloud,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv("ROOMAGENT_HWM_APP_KEY", "wrong-SECRET-key")
    async with HuaweiClient(hwm_app_section) as client:
        for _ in range(3):
            with pytest.raises(CloudAuthError) as caught:
                await client.book(_request())
        status = client.tokens.status()
    text = str(caught.value)
    assert "App ID hwm-app-0001 with the App Key ($ROOMAGENT_HWM_APP_KEY) failed" in text
    assert "signature verification failed" in text  # the vendor's words
    assert status["last_error"] and "signature verification failed" in status["last_error"]
    assert len(hwm_cloud.requests_to("appauth")) == 1  # backed off, not hammered
    assert hwm_cloud.requests_to("conferences") == []
    assert "wrong-SECRET-key" not in caplog.text
    assert any("token renewal failed" in r.getMessage() for r in caplog.records)


@pytest.mark.anyio
async def test_fixed_token_still_works(hwm_section: HuaweiSection, hwm_cloud: HuaweiCloud) -> None:
    async with HuaweiClient(hwm_section) as client:
        await client.book(_request())
    assert hwm_cloud.requests[0].headers["x-access-token"] == HWM_TOKEN
    hwm_cloud.revoke_tokens()
    async with HuaweiClient(hwm_section) as client:
        with pytest.raises(CloudAuthError, match="HTTP 401"):  # cannot renew: said plainly
            await client.book(_request())


@pytest.mark.parametrize(
    ("status", "body", "text"),
    [
        (400, {"error_code": "MMC.111070005", "error_msg": "VMR is in use"},
         "invalid parameters (HTTP 400), meeting management/control error MMC.111070005: "
         "VMR is in use"),
        (500, {"error_code": "MMC.000000500", "error_msg": "busy"}, "server error (HTTP 500)"),
    ],
)  # fmt: skip
@pytest.mark.anyio
async def test_create_errors_are_readable_and_never_retried(
    hwm_app_section: HuaweiSection, hwm_cloud: HuaweiCloud, status: int, body: Any, text: str
) -> None:
    hwm_cloud.fail_next("conferences", status, body)
    async with HuaweiClient(hwm_app_section) as client:
        with pytest.raises(CloudRefused) as caught:
            await client.book(_request())
    assert text in str(caught.value)
    assert len(hwm_cloud.requests_to("conferences")) == 1


def test_the_loopback_server_refuses_the_sdk_field_names(hwm_cloud: HuaweiCloud) -> None:
    import httpx

    old = {"startTimeStamp": 1900000000, "confLen": 30, "confCommonParam": {"subject": "x"}}
    reply = httpx.post(
        hwm_cloud.url + "/v1/mmc/management/conferences",
        json=old,
        headers={"X-Access-Token": HWM_TOKEN},
    )
    assert reply.status_code == 400 and "startTimeStamp" in reply.json()["error_msg"]


# --- invites -----------------------------------------------------------------------------


def _invitee(**changes: Any) -> Attendee:
    fields: dict[str, Any] = {"name": "user01", "role": 1, "phone": "+8657100", "type": "normal"}
    fields.update(changes)
    return Attendee.model_validate(fields)


@pytest.mark.anyio
async def test_invite_fetches_the_control_token_with_the_chair_password(
    hwm_app_section: HuaweiSection, hwm_cloud: HuaweiCloud
) -> None:
    async with HuaweiClient(hwm_app_section) as client:
        result = await client.invite(RUNNING, [_invitee()])
        await client.invite(RUNNING, [_invitee(name="Room B", phone="sip:b@x")])
    fetch, invite, again = hwm_cloud.requests
    assert (fetch.method, fetch.path) == ("GET", "/v1/mmc/control/conferences/token")
    assert fetch.query == {"conferenceID": RUNNING}
    assert fetch.headers["x-password"] == HWM_CHAIR and fetch.headers["x-login-type"] == "1"
    assert invite.path == "/v1/mmc/control/conferences/participants"
    assert invite.query == {"conferenceID": RUNNING}
    assert invite.headers["x-conference-authorization"] in hwm_cloud.control_tokens
    assert invite.body == {
        "attendees": [{"name": "user01", "phone": "+8657100", "role": 1, "type": "normal"}]
    }
    assert (
        again.headers["x-conference-authorization"] == invite.headers["x-conference-authorization"]
    )  # cached per conference
    assert result.notes == [] and len(hwm_cloud.conferences[RUNNING]["attendees"]) == 2


@pytest.mark.anyio
async def test_an_expired_control_token_is_fetched_again(
    hwm_app_section: HuaweiSection, hwm_cloud: HuaweiCloud
) -> None:
    async with HuaweiClient(hwm_app_section) as client:
        await client.invite(RUNNING, [_invitee()])
        hwm_cloud.expire_control_tokens()
        await client.invite(RUNNING, [_invitee(name="late")])
    assert len(hwm_cloud.requests_to("token")) == 2
    assert len(hwm_cloud.requests_to("participants")) == 3  # ok, 401, ok
    assert [a["name"] for a in hwm_cloud.conferences[RUNNING]["attendees"]] == ["user01", "late"]


@pytest.mark.anyio
async def test_email_or_sms_only_says_no_notification_is_sent(
    hwm_app_section: HuaweiSection, hwm_cloud: HuaweiCloud
) -> None:
    async with HuaweiClient(hwm_app_section) as client:
        result = await client.invite(RUNNING, [_invitee(phone=None, email="a@example.com")])
    assert len(result.notes) == 1 and "no notification" in result.notes[0]


@pytest.mark.anyio
async def test_wrong_chair_password_and_unstarted_conference_are_refused_in_words(
    hwm_app_section: HuaweiSection, hwm_cloud: HuaweiCloud, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with HuaweiClient(hwm_app_section) as client:
        booked = await client.book(_request())
        with pytest.raises(CloudRefused, match="The conference has not started"):
            await client.invite(booked.conference_id, [_invitee()])
        hwm_cloud.start_conference(booked.conference_id)
        await client.invite(booked.conference_id, [_invitee()])
    monkeypatch.setenv("ROOMAGENT_HWM_CHAIR_PASSWORD", "wrong-SECRET-chair")
    async with HuaweiClient(hwm_app_section) as client:
        with pytest.raises(
            CloudRefused, match=r"chair password was refused.*Password is incorrect"
        ):
            await client.invite(RUNNING, [_invitee()])
    last = hwm_cloud.requests_to("participants")[-1]
    assert last.query["conferenceID"] == booked.conference_id


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
    hwm_app_section: HuaweiSection, hwm_cloud: HuaweiCloud, changes: dict[str, Any], rule: str
) -> None:
    async with HuaweiClient(hwm_app_section) as client:
        with pytest.raises(CloudValidationError, match=rule):
            await client.invite(RUNNING, [_invitee(**changes)])
    assert hwm_cloud.requests == []


def test_attendee_enumerations_are_checked() -> None:
    with pytest.raises(ValueError):
        _invitee(role=3)
    with pytest.raises(ValueError):
        _invitee(type="hologram")


@pytest.mark.anyio
async def test_invite_errors_are_readable_and_never_retried(
    hwm_app_section: HuaweiSection, hwm_cloud: HuaweiCloud
) -> None:
    hwm_cloud.fail_next("participants", 403, {"error_code": "MMC.111071005", "error_msg": "No"})
    async with HuaweiClient(hwm_app_section) as client:
        with pytest.raises(CloudAuthError, match=r"no permission \(HTTP 403\)"):
            await client.invite(RUNNING, [_invitee()])
        with pytest.raises(CloudRefused, match=r"Conference not exist"):
            await client.invite("000", [_invitee()])
    assert len(hwm_cloud.requests_to("participants")) == 1


@pytest.mark.anyio
async def test_missing_chair_password_is_named(
    hwm_app_section: HuaweiSection, hwm_cloud: HuaweiCloud, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ROOMAGENT_HWM_CHAIR_PASSWORD")
    monkeypatch.delenv("ROOMAGENT_HWM_CONF_TOKEN")
    async with HuaweiClient(hwm_app_section) as client:
        with pytest.raises(MissingToken, match="ROOMAGENT_HWM_CHAIR_PASSWORD"):
            await client.invite(RUNNING, [_invitee()])
    assert hwm_cloud.requests == []


@pytest.mark.anyio
async def test_no_secret_in_any_log_line(
    caplog: pytest.LogCaptureFixture, hwm_app_section: HuaweiSection, hwm_cloud: HuaweiCloud
) -> None:
    caplog.set_level(logging.DEBUG)
    async with HuaweiClient(hwm_app_section) as client:
        await client.book(_request())
        hwm_cloud.revoke_tokens()
        await client.book(_request())
        await client.invite(RUNNING, [_invitee()])
    issued = list(hwm_cloud.issued) + list(hwm_cloud.control_tokens)
    assert caplog.records
    for secret in (HWM_APP_KEY, HWM_CHAIR, HWM_PASSWORD, *issued):
        assert secret not in caplog.text
