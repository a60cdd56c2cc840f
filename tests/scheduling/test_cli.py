"""`roomagent calendar`, `meeting-info` and `book` against the loopback clouds."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from roomagent.cli.main import main
from roomagent.sim.clouds import HuaweiCloud, QuanshiCloud, YunzhijiaCloud

from .conftest import HWM_APP_ID, HWM_CHAIR, QS_TOKEN, ROOM, YZJ_TOKEN, write_config

NOW = datetime.now(UTC).replace(second=0, microsecond=0)


pytestmark = pytest.mark.usefixtures("restore_logging")


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _yzj_config(tmp_path: Path, cloud: YunzhijiaCloud, eid: str = "10109") -> Path:
    return write_config(
        tmp_path,
        f"""
[calendar.yunzhijia]
base_url = "{cloud.url}"
eid = "{eid}"
room_name = "{ROOM}"
token_env = "ROOMAGENT_YZJ_TOKEN"
poll_seconds = 30
timeout = 0.5
""",
    )


def test_calendar_prints_json_lines_sorted_by_start(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, yzj_cloud: YunzhijiaCloud, tokens: None
) -> None:
    late = yzj_cloud.add_booking(ROOM, NOW + timedelta(hours=3), NOW + timedelta(hours=4), "Late")
    yzj_cloud.add_booking("A304", NOW + timedelta(hours=1), NOW + timedelta(hours=2), "Other")
    early = yzj_cloud.add_booking(ROOM, NOW + timedelta(hours=1), NOW + timedelta(hours=2), "早会")
    code, out, err = _run(capsys, "calendar", "--config", str(_yzj_config(tmp_path, yzj_cloud)))
    assert (code, err) == (0, "")
    lines = [json.loads(line) for line in out.splitlines()]
    assert [line["orderId"] for line in lines] == [early["orderId"], late["orderId"]]
    assert set(lines[0]) == {"orderId", "title", "start", "end", "booked_by"}
    assert lines[0]["title"] == "早会" and lines[0]["booked_by"] == "何****"
    assert datetime.fromisoformat(lines[0]["start"]) == NOW + timedelta(hours=1)
    assert YZJ_TOKEN not in out


def test_calendar_vendor_error_exits_1_with_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, yzj_cloud: YunzhijiaCloud, tokens: None
) -> None:
    config = _yzj_config(tmp_path, yzj_cloud, eid="404")
    code, out, err = _run(capsys, "calendar", "--config", str(config))
    assert code == 1 and out == ""
    assert err == "roomagent: error: Yunzhijia: eid不存在 (errorCode 20001)\n"


def test_calendar_missing_token_names_the_variable(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    yzj_cloud: YunzhijiaCloud,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("ROOMAGENT_YZJ_TOKEN", raising=False)
    code, _, err = _run(capsys, "calendar", "--config", str(_yzj_config(tmp_path, yzj_cloud)))
    assert err == (
        "roomagent: error: Yunzhijia: the token is missing; "
        "set environment variable ROOMAGENT_YZJ_TOKEN\n"
    )
    assert code == 1
    assert yzj_cloud.requests == []


def test_calendar_not_configured(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = _run(capsys, "calendar", "--config", str(write_config(tmp_path, "")))
    assert code == 1 and "[calendar.yunzhijia]" in err


def test_meeting_info_prints_the_meeting_with_passcodes_masked(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, qs_cloud: QuanshiCloud, tokens: None
) -> None:
    config = write_config(tmp_path, f'[cloud.quanshi]\nurl = "{qs_cloud.endpoint}"\n')
    link = "https://mtest.qsh1.cn/k/mkIW3Txa0Uk"
    code, out, err = _run(capsys, "meeting-info", link, "--config", str(config))
    assert (code, err) == (0, "")
    shown = json.loads(out)
    assert shown["title"] == "哦" and shown["status"] == "created"
    assert shown["host_passcode"] == "***" and shown["attendee_passcode"] == "***"
    assert "201501000037434973" not in out and "201501000037434974" not in out
    assert QS_TOKEN not in out
    assert shown["this_room"] is None  # the seed's meeting books no room


def test_meeting_info_shows_this_rooms_approval(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, qs_cloud: QuanshiCloud, tokens: None
) -> None:
    link = "https://mtest.qsh1.cn/k/withroom"
    qs_cloud.meetings[link] = {
        **qs_cloud.meetings["https://mtest.qsh1.cn/k/mkIW3Txa0Uk"],
        "houseList": [{"DeviceId": 6516, "DeviceType": 2, "DeviceName": "杏花村2",
                       "ApprovalStatus": 0}],
    }  # fmt: skip
    body = f'[room]\nname = "杏花村2"\n[cloud.quanshi]\nurl = "{qs_cloud.endpoint}"\n'
    code, out, _ = _run(capsys, "meeting-info", link, "--config", str(write_config(tmp_path, body)))
    assert code == 0
    assert json.loads(out)["this_room"]["approval"] == "pending"


def test_meeting_info_unknown_link(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, qs_cloud: QuanshiCloud, tokens: None
) -> None:
    config = write_config(tmp_path, f'[cloud.quanshi]\nurl = "{qs_cloud.endpoint}"\n')
    code, _, err = _run(capsys, "meeting-info", "https://x.cn/k/nope", "--config", str(config))
    assert code == 1 and "conference not found" in err


def _hwm_config(tmp_path: Path, cloud: HuaweiCloud, auth: str = "") -> str:
    auth = auth or f'app_id = "{HWM_APP_ID}"'
    return str(write_config(tmp_path, f'[cloud.huawei]\nbase_url = "{cloud.url}"\n{auth}\n'))


def test_book_huawei_with_app_id_auth_and_again_after_the_token_is_revoked(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, hwm_cloud: HuaweiCloud, tokens: None
) -> None:
    start = (NOW + timedelta(days=1)).astimezone(UTC)
    config = _hwm_config(tmp_path, hwm_cloud)
    code, out, err = _run(
        capsys, "book", "--config", config, "--provider", "huawei",
        "--subject", "Board", "--start", start.isoformat(), "--minutes", "60", "--data",
    )  # fmt: skip
    assert (code, err) == (0, "")
    shown = json.loads(out)
    assert set(shown) == {"conference_id", "subject", "start", "end", "state", "guest_join_link"}
    assert shown["conference_id"] in hwm_cloud.conferences and shown["subject"] == "Board"
    assert shown["start"] == start.isoformat() and shown["guest_join_link"]
    assert HWM_CHAIR not in out and "551072" not in out and "chair" not in out
    create = hwm_cloud.requests_to("conferences")[0].body
    assert create["startTime"] == start.strftime("%Y-%m-%d %H:%M")
    assert create["length"] == 60 and create["mediaTypes"] == "HDVideo,Data"
    hwm_cloud.revoke_tokens()
    code, out, err = _run(
        capsys, "book", "--config", config, "--provider", "huawei",
        "--subject", "Again", "--start", start.isoformat(),
    )  # fmt: skip
    assert (code, err) == (0, "") and json.loads(out)["subject"] == "Again"
    assert len(hwm_cloud.requests_to("appauth")) == 2
    # The room remembers what it booked (for "invite into this room's meeting").
    booked = json.loads((tmp_path / "state" / "huawei-conferences.json").read_text())
    assert [c["subject"] for c in booked] == ["Board", "Again"]


@pytest.mark.parametrize(
    ("args", "rule"),
    [
        (["--minutes", "14"], "length: must be 15..1440 minutes (got 14)"),
        (["--minutes", "1441"], "(got 1441)"),
        (["--start", "2020-01-01T10:00+08:00"], "start must be later than now"),
        (["--kind", "personal"], "vmrID: required for a personal meeting"),
        (["--subject", "s" * 129], "subject: at most 128 characters (got 129)"),
        (["--start", "tomorrow"], "--start: not an ISO 8601 time"),
    ],
)
def test_book_validation_fails_without_contacting_the_server(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    hwm_cloud: HuaweiCloud,
    tokens: None,
    args: list[str],
    rule: str,
) -> None:
    base = {"--start": (NOW + timedelta(days=1)).isoformat(), "--minutes": "30", "--subject": "S"}
    for flag, value in zip(args[::2], args[1::2], strict=True):
        base[flag] = value
    flat = [part for pair in base.items() for part in pair]
    code, out, err = _run(
        capsys, "book", "--config", _hwm_config(tmp_path, hwm_cloud), "--provider", "huawei",
        *flat,
    )  # fmt: skip
    assert code == 1 and out == ""
    assert rule in err and err.count("\n") == 1
    assert hwm_cloud.requests == []  # the server saw nothing, not even the authentication


def test_invite_fetches_the_control_token_with_the_chair_password(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, hwm_cloud: HuaweiCloud, tokens: None
) -> None:
    config = _hwm_config(tmp_path, hwm_cloud)
    running = HuaweiCloud.RUNNING_CONFERENCE
    code, out, err = _run(
        capsys, "invite", "--config", config, "--provider", "huawei", "--conference", running,
        "--name", "Room 5B", "--phone", "+8657100", "--role", "host",
    )  # fmt: skip
    assert (code, err) == (0, "")
    assert json.loads(out) == {"conference_id": running, "invited": ["Room 5B"], "notes": []}
    fetch = hwm_cloud.requests_to("token")[0]
    assert fetch.headers["x-password"] == HWM_CHAIR and fetch.headers["x-login-type"] == "1"
    assert hwm_cloud.conferences[running]["attendees"] == [
        {"name": "Room 5B", "phone": "+8657100", "role": 1}
    ]
    code, out, err = _run(
        capsys, "invite", "--config", config, "--provider", "huawei", "--conference", running,
        "--name", "Ann", "--email", "ann@example.com",
    )  # fmt: skip
    assert code == 0 and "no notification" in json.loads(out)["notes"][0]
    assert "no notification" in err  # said to the person at the terminal too
    assert HWM_CHAIR not in out + err


def test_invite_exit_codes(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    hwm_cloud: HuaweiCloud,
    tokens: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    config = _hwm_config(tmp_path, hwm_cloud)
    base = ["invite", "--config", config, "--provider", "huawei", "--name", "X"]
    code, _, err = _run(capsys, *base, "--conference", "000", "--phone", "1")
    assert code == 1 and "Conference not exist" in err  # the vendor's words
    code, _, err = _run(capsys, *base, "--conference", "1", "--sms", "1" * 33)
    assert code == 1 and "sms: at most 32" in err
    monkeypatch.setenv("ROOMAGENT_HWM_CHAIR_PASSWORD", "wrong")
    code, _, err = _run(
        capsys, *base, "--conference", HuaweiCloud.RUNNING_CONFERENCE, "--phone", "1"
    )
    assert code == 1 and "chair password was refused" in err
    hwm_cloud.stop()  # the port closes: the same config now reaches nothing
    code, _, err = _run(capsys, *base, "--conference", "1", "--phone", "1")
    assert code == 2 and "cannot reach" in err
