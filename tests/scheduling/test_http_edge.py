"""The shared HTTP edge: timestamps, retries only for reads, timeouts, errors, no secrets."""

from __future__ import annotations

import logging
import socket
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from roomagent.config.model import YunzhijiaSection
from roomagent.scheduling.http import (
    CloudRefused,
    CloudTimeout,
    CloudUnreachable,
    MissingToken,
    from_millis,
    from_seconds,
    to_millis,
)
from roomagent.scheduling.yunzhijia import NewMeeting, YunzhijiaClient
from roomagent.sim.clouds import YunzhijiaCloud

from .conftest import YZJ_TOKEN


def test_epoch_conversions_are_aware_and_accept_digit_strings() -> None:
    moment = from_millis(1538202600000)
    assert moment == datetime(2018, 9, 29, 6, 30, tzinfo=UTC)
    assert from_millis("1538202600000") == moment
    assert from_seconds("1654608600") == from_seconds(1654608600)
    assert from_seconds(1654608600).tzinfo is not None
    assert to_millis(moment) == 1538202600000
    with pytest.raises(ValueError):
        from_millis("soon")
    with pytest.raises(ValueError):
        to_millis(datetime(2026, 1, 1))  # naive: refused rather than guessed


def _meeting(hours: float = 1) -> NewMeeting:
    start = datetime.now(UTC) + timedelta(hours=hours)
    return NewMeeting(
        openid="5a67e08d00b0e8dfe4aab4fa",
        title="Planning",
        start=start,
        end=start + timedelta(minutes=30),
        room_id="room-23f",
    )


@pytest.mark.anyio
async def test_reads_retry_on_500(yzj_section: YunzhijiaSection, yzj_cloud: YunzhijiaCloud) -> None:
    yzj_cloud.fail_next("hasNew", status=500, body={"message": "busy"}, times=2)
    async with YunzhijiaClient(yzj_section) as client:
        assert await client.has_new(None) is False
    assert len(yzj_cloud.requests_to("hasNew")) == 3


@pytest.mark.anyio
async def test_reads_give_up_after_retries(
    yzj_section: YunzhijiaSection, yzj_cloud: YunzhijiaCloud
) -> None:
    yzj_cloud.fail_next("hasNew", status=503, times=5)
    async with YunzhijiaClient(yzj_section) as client:
        with pytest.raises(CloudRefused, match="HTTP 503"):
            await client.has_new(None)
    assert len(yzj_cloud.requests_to("hasNew")) == 3


@pytest.mark.anyio
async def test_writes_are_never_retried(
    yzj_section: YunzhijiaSection, yzj_cloud: YunzhijiaCloud
) -> None:
    yzj_cloud.fail_next("create", status=500, times=1)
    async with YunzhijiaClient(yzj_section) as client:
        with pytest.raises(CloudRefused, match="HTTP 500"):
            await client.create(_meeting())
    assert len(yzj_cloud.requests_to("create")) == 1
    assert yzj_cloud.meetings == {}


@pytest.mark.anyio
async def test_slow_read_times_out_after_retries(
    yzj_section: YunzhijiaSection, yzj_cloud: YunzhijiaCloud
) -> None:
    yzj_cloud.delay_next("hasNew", 1.5, times=3)
    async with YunzhijiaClient(yzj_section, timeout=0.2) as client:
        with pytest.raises(CloudTimeout, match="did not answer in time"):
            await client.has_new(None)
    assert len(yzj_cloud.requests_to("hasNew")) == 3


@pytest.mark.anyio
async def test_slow_write_times_out_once_and_says_outcome_unknown(
    yzj_section: YunzhijiaSection, yzj_cloud: YunzhijiaCloud
) -> None:
    yzj_cloud.delay_next("create", 1.5)
    async with YunzhijiaClient(yzj_section, timeout=0.2) as client:
        with pytest.raises(CloudTimeout, match="may or may not"):
            await client.create(_meeting())
    assert len(yzj_cloud.requests_to("create")) == 1


@pytest.mark.anyio
async def test_unreachable(tokens: None) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    section = YunzhijiaSection(base_url=f"http://127.0.0.1:{port}", eid="1", room_name="R")
    async with YunzhijiaClient(section, timeout=0.5) as client:
        with pytest.raises(CloudUnreachable, match=r"cannot reach 127\.0\.0\.1"):
            await client.has_new(None)


@pytest.mark.anyio
async def test_vendor_envelope_error_is_a_plain_sentence(
    yzj_section: YunzhijiaSection, yzj_cloud: YunzhijiaCloud
) -> None:
    section = yzj_section.model_copy(update={"eid": "99999"})
    async with YunzhijiaClient(section) as client:
        with pytest.raises(CloudRefused) as caught:
            await client.has_new(None)
    assert str(caught.value) == "Yunzhijia: eid不存在 (errorCode 20001)"
    assert caught.value.code == 20001


def test_missing_token_names_the_variable_not_a_value(
    monkeypatch: pytest.MonkeyPatch, yzj_section: YunzhijiaSection
) -> None:
    monkeypatch.delenv("ROOMAGENT_YZJ_TOKEN")
    with pytest.raises(MissingToken, match="ROOMAGENT_YZJ_TOKEN"):
        YunzhijiaClient(yzj_section)


@pytest.mark.anyio
async def test_no_token_in_any_log_line_or_error(
    caplog: pytest.LogCaptureFixture, yzj_section: YunzhijiaSection, yzj_cloud: YunzhijiaCloud
) -> None:
    caplog.set_level(logging.DEBUG)
    yzj_cloud.fail_next("bookInfo", status=500, times=1)
    yzj_cloud.delay_next("getActors", 1.0, times=3)
    errors: list[str] = []
    async with YunzhijiaClient(yzj_section, timeout=0.2) as client:
        await client.has_new(None)
        await client.book_info(None)
        await client.create(_meeting())
        try:
            await client.get_actors("order-1")
        except CloudTimeout as exc:
            errors.append(str(exc))
    bad = yzj_section.model_copy(update={"token_env": "ROOMAGENT_NOPE"})
    try:
        YunzhijiaClient(bad)
    except MissingToken as exc:
        errors.append(str(exc))
    assert yzj_cloud.requests_to("hasNew")[0].query["accessToken"] == YZJ_TOKEN  # it was sent
    assert caplog.records, "the edge logs its requests"
    for record in caplog.records:
        assert YZJ_TOKEN not in record.getMessage()
        assert YZJ_TOKEN not in str(getattr(record, "fields", ""))
    assert YZJ_TOKEN not in caplog.text
    assert errors and all(YZJ_TOKEN not in e for e in errors)


def test_unreadable_token_file_is_named(tmp_path: Path, yzj_section: YunzhijiaSection) -> None:
    missing = tmp_path / "nope.token"
    section = yzj_section.model_copy(update={"token_file": missing})
    with pytest.raises(MissingToken) as caught:
        YunzhijiaClient(section)
    assert str(caught.value) == (
        f"Yunzhijia: cannot read the token file {missing} (No such file or directory)"
    )


def test_token_file_is_read(tmp_path: Path, yzj_section: YunzhijiaSection) -> None:
    path = tmp_path / "yzj.token"
    path.write_text(YZJ_TOKEN + "\n", encoding="utf-8")
    section = yzj_section.model_copy(update={"token_file": path, "token_env": "UNSET_VAR"})
    YunzhijiaClient(section)  # no error: the file wins over the (unset) variable
