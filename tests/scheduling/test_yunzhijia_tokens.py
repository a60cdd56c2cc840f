"""Yunzhijia's own access token (getAccessToken with the secret): fetched, cached, renewed
before expireIn and once when the vendor rejects it mid-run; failures said plainly."""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from roomagent.cli.main import main
from roomagent.config.model import YunzhijiaSection
from roomagent.scheduling.calendar import PAGE_SIZE, RoomCalendar
from roomagent.scheduling.http import CloudAuthError, CloudRefused
from roomagent.scheduling.yunzhijia import YunzhijiaClient
from roomagent.sim.clouds import YunzhijiaCloud

from .conftest import ROOM, YZJ_SECRET, YZJ_TOKEN, agent_config, write_config

NOW = datetime.now(UTC).replace(second=0, microsecond=0)


@pytest.fixture
def secret_section(yzj_cloud: YunzhijiaCloud, tokens: None) -> YunzhijiaSection:
    yzj_cloud.token = None  # no fixed token: only what getAccessToken issues works
    return yzj_cloud.section(timeout=0.5, secret_env="ROOMAGENT_YZJ_SECRET")


def _fill(cloud: YunzhijiaCloud, count: int) -> None:
    for i in range(count):
        start = NOW + timedelta(hours=1 + i)
        cloud.add_booking(ROOM, start, start + timedelta(minutes=30))


@pytest.mark.anyio
async def test_token_is_fetched_with_the_secret_and_cached(
    secret_section: YunzhijiaSection, yzj_cloud: YunzhijiaCloud
) -> None:
    async with YunzhijiaClient(secret_section) as client:
        await client.has_new(None)
        await client.book_info(None)
    fetch = yzj_cloud.requests_to("getAccessToken")
    assert len(fetch) == 1
    body = fetch[0].body
    assert body["eid"] == "10109" and body["secret"] == YZJ_SECRET
    assert body["scope"] == "resGroupSecret" and "appId" not in body
    assert abs(body["timestamp"] - datetime.now(UTC).timestamp() * 1000) < 60_000
    issued = yzj_cloud.requests_to("hasNew")[0].query["accessToken"]
    assert issued in yzj_cloud.issued
    assert yzj_cloud.requests_to("bookInfo")[0].query["accessToken"] == issued


@pytest.mark.anyio
async def test_app_scope_sends_the_app_id(yzj_cloud: YunzhijiaCloud, tokens: None) -> None:
    section = yzj_cloud.section(secret_env="ROOMAGENT_YZJ_SECRET", scope="app", app_id="app-7")
    async with YunzhijiaClient(section) as client:
        await client.has_new(None)
    body = yzj_cloud.requests_to("getAccessToken")[0].body
    assert (body["scope"], body["appId"]) == ("app", "app-7")


def test_app_scope_without_app_id_is_a_config_error(yzj_cloud: YunzhijiaCloud) -> None:
    with pytest.raises(ValueError, match="scope 'team' needs `app_id`"):
        yzj_cloud.section(secret_env="X", scope="team")


@pytest.mark.anyio
async def test_calendar_survives_a_token_that_expires_after_the_first_page(
    secret_section: YunzhijiaSection, yzj_cloud: YunzhijiaCloud, tmp_path: Path
) -> None:
    _fill(yzj_cloud, PAGE_SIZE + 10)
    yzj_cloud.revoke_tokens_after("bookInfo", 1)
    calendar = RoomCalendar.from_config(agent_config(tmp_path, secret_section))
    assert calendar is not None
    assert await calendar.sync_once() is True
    assert len(calendar.bookings()) == PAGE_SIZE + 10 and calendar.last_error is None
    assert len(yzj_cloud.requests_to("getAccessToken")) == 2  # first, then after the expiry
    pages = yzj_cloud.requests_to("bookInfo")
    assert [r.body["pageIndex"] for r in pages] == [1, 2, 2]  # page 2 once more, new token
    assert pages[1].query["accessToken"] != pages[2].query["accessToken"]
    token = calendar.status()["token"]
    assert token["renews"] is True and token["renewals"] == 2 and token["last_error"] is None
    assert "ROOMAGENT_YZJ_SECRET" in token["credential"]


@pytest.mark.anyio
async def test_token_is_renewed_before_expire_in(
    secret_section: YunzhijiaSection, yzj_cloud: YunzhijiaCloud
) -> None:
    yzj_cloud.token_lifetime = 1
    async with YunzhijiaClient(secret_section) as client:
        await client.has_new(None)
        await asyncio.sleep(0.9)  # past 80% of the token's life
        await client.has_new(None)
    assert len(yzj_cloud.requests_to("getAccessToken")) == 2
    assert len(yzj_cloud.requests_to("hasNew")) == 2  # no rejected call on the way


@pytest.mark.anyio
async def test_a_401_also_renews_once(
    secret_section: YunzhijiaSection, yzj_cloud: YunzhijiaCloud
) -> None:
    yzj_cloud.fail_next("hasNew", status=401, body=None)
    async with YunzhijiaClient(secret_section) as client:
        assert await client.has_new(None) is False
    assert len(yzj_cloud.requests_to("getAccessToken")) == 2
    assert len(yzj_cloud.requests_to("hasNew")) == 2


@pytest.mark.anyio
async def test_a_wrong_secret_is_one_plain_error_on_the_status_and_in_the_log(
    caplog: pytest.LogCaptureFixture,
    secret_section: YunzhijiaSection,
    yzj_cloud: YunzhijiaCloud,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv("ROOMAGENT_YZJ_SECRET", "wrong-SECRET-value")
    calendar = RoomCalendar.from_config(agent_config(tmp_path, secret_section))
    assert calendar is not None
    with pytest.raises(CloudAuthError) as caught:
        await calendar.sync_once()
    expected = (
        "Yunzhijia: renewing the access token with the Yunzhijia resource secret "
        "($ROOMAGENT_YZJ_SECRET) failed: secret错误 (errorCode 40001)"
    )
    assert str(caught.value) == expected
    assert calendar.status()["last_error"] == expected
    assert calendar.status()["token"]["last_error"] is not None
    with pytest.raises(CloudAuthError):
        await calendar.sync_once()  # within the back-off: the vendor is not asked again
    assert len(yzj_cloud.requests_to("getAccessToken")) == 1
    assert yzj_cloud.requests_to("hasNew") == [] and yzj_cloud.requests_to("bookInfo") == []
    assert "wrong-SECRET-value" not in caplog.text and YZJ_SECRET not in caplog.text
    assert any("token renewal failed" in r.getMessage() for r in caplog.records)


@pytest.mark.anyio
async def test_a_fixed_token_that_expires_is_said_plainly(
    yzj_section: YunzhijiaSection, yzj_cloud: YunzhijiaCloud
) -> None:
    yzj_cloud.revoke_tokens()
    async with YunzhijiaClient(yzj_section) as client:
        with pytest.raises(CloudAuthError, match="the access token was rejected"):
            await client.has_new(None)
    assert yzj_cloud.requests_to("getAccessToken") == []  # nothing to renew it with


@pytest.mark.anyio
async def test_secret_file_is_read(
    yzj_cloud: YunzhijiaCloud, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ROOMAGENT_YZJ_TOKEN", raising=False)
    path = tmp_path / "yzj.secret"
    path.write_text(YZJ_SECRET + "\n", encoding="utf-8")
    async with YunzhijiaClient(yzj_cloud.section(secret_file=path)) as client:
        await client.has_new(None)
    assert yzj_cloud.requests_to("getAccessToken")[0].body["secret"] == YZJ_SECRET


@pytest.mark.usefixtures("restore_logging")
def test_cli_calendar_with_secret_env_survives_the_expiry(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, yzj_cloud: YunzhijiaCloud, tokens: None
) -> None:
    yzj_cloud.token = None
    _fill(yzj_cloud, PAGE_SIZE + 3)
    yzj_cloud.revoke_tokens_after("bookInfo", 1)
    config = write_config(
        tmp_path,
        f"""
[calendar.yunzhijia]
base_url = "{yzj_cloud.url}"
eid = "10109"
room_name = "{ROOM}"
secret_env = "ROOMAGENT_YZJ_SECRET"
timeout = 0.5
""",
    )
    code = main(["calendar", "--config", str(config)])
    out, err = capsys.readouterr()
    assert (code, err) == (0, "")
    assert len([json.loads(line) for line in out.splitlines()]) == PAGE_SIZE + 3
    assert YZJ_SECRET not in out and YZJ_TOKEN not in out


@pytest.mark.anyio
async def test_vendor_refusals_other_than_the_token_are_not_renewals(
    secret_section: YunzhijiaSection, yzj_cloud: YunzhijiaCloud
) -> None:
    async with YunzhijiaClient(secret_section.model_copy(update={"eid": "10109"})) as client:
        yzj_cloud.fail_next(
            "hasNew", 200, {"success": False, "errorCode": 500, "error": "系统繁忙", "data": None}
        )
        with pytest.raises(CloudRefused, match="系统繁忙"):
            await client.has_new(None)
    assert len(yzj_cloud.requests_to("getAccessToken")) == 1
