"""The room's cloud meetings through the real App: `huawei.invite` into the conference the room
booked, the Quanshi meeting behind a booking's link in the status, and `meeting.join_next`
with a Quanshi link (its Tencent code, or a plain reason). Loopback clouds, real HTTP."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from roomagent.config.model import (
    AgentConfig,
    CalendarSection,
    CloudSection,
    HuaweiSection,
    QuanshiSection,
)
from roomagent.control.actions import ActionFailed, ActionNotApplicable
from roomagent.scheduling import huawei_booked
from roomagent.scheduling.huawei import Conference
from roomagent.sim.clouds import QUANSHI_SEED_MEETING, HuaweiCloud, QuanshiCloud, YunzhijiaCloud
from tests.control.conftest import running_room

pytestmark = pytest.mark.anyio

YZJ_TOKEN = "yzj-token-clouds-test"
QS_TOKEN = "qs-token-clouds-test"
CHAIR = "chair-SECRET-4455"
APP_KEY = "app-SECRET-key-6677"
SEED_LINK = QUANSHI_SEED_MEETING["attendeeJoinUrl"]
CODED_LINK = "https://meet.quanshi.com/k/coded"


def _configure(
    tmp_path: Path, yzj: YunzhijiaCloud, hwm: HuaweiCloud, qs: QuanshiCloud
) -> Callable[[AgentConfig], AgentConfig]:
    (tmp_path / "yzj.token").write_text(YZJ_TOKEN)
    (tmp_path / "qs.token").write_text(QS_TOKEN)
    (tmp_path / "chair.pw").write_text(CHAIR)
    (tmp_path / "app.key").write_text(APP_KEY)

    def configure(config: AgentConfig) -> AgentConfig:
        clouds = CloudSection(
            huawei=HuaweiSection(
                base_url=hwm.url,
                app_id=hwm.app_id,
                app_key_file=tmp_path / "app.key",
                chair_password_file=tmp_path / "chair.pw",
                timeout=2,
            ),
            quanshi=QuanshiSection(url=qs.endpoint, token_file=tmp_path / "qs.token", timeout=2),
        )
        calendar = CalendarSection(yunzhijia=yzj.section(tmp_path / "yzj.token", poll_seconds=1))
        return config.model_copy(
            update={"calendar": calendar, "cloud": clouds, "state_dir": tmp_path}
        )

    return configure


async def test_invite_detail_and_join_next_through_the_app(tmp_path: Path) -> None:
    now = datetime.now(UTC)
    with (
        YunzhijiaCloud(YZJ_TOKEN) as yzj,
        HuaweiCloud(app_key=APP_KEY, chair_password=CHAIR) as hwm,
        QuanshiCloud(QS_TOKEN) as qs,
    ):
        yzj.add_booking(
            "23F会议室", now - timedelta(minutes=5), now + timedelta(minutes=40),
            topic="Supplier call", content=f"入会链接 {SEED_LINK}",
        )  # fmt: skip
        running = HuaweiCloud.RUNNING_CONFERENCE
        huawei_booked.remember(
            tmp_path,
            Conference(running, "Board", now - timedelta(minutes=10), now + timedelta(minutes=50),
                       "Created", "https://meeting.example/j/1"),
        )  # fmt: skip
        async with running_room(tmp_path, configure=_configure(tmp_path, yzj, hwm, qs)) as room:
            agent = room.agent

            def detail() -> dict | None:  # type: ignore[type-arg]
                clouds = agent.status().get("clouds") or {}
                return clouds.get("meeting_detail")

            await room.until(lambda: detail() is not None)
            shown = detail()
            assert shown is not None
            assert shown["title"] == "哦" and shown["booking"] == "current"
            assert shown["host_passcode"] == "***" and shown["tencent_code"] is None
            clouds = agent.status()["clouds"]
            assert clouds["huawei"] is True
            assert clouds["huawei_conference"]["conference_id"] == running

            # join_next: the booking's Quanshi meeting carries no Tencent code — said plainly.
            with pytest.raises(ActionNotApplicable, match="Quanshi meeting without a Tencent"):
                await agent.perform({"action": "meeting.join_next"})

            reply = await agent.perform(
                {"action": "huawei.invite", "name": "Room 5B", "phone": "+8657100"}
            )
            assert reply["result"] == f"invited Room 5B into conference {running}"
            assert hwm.conferences[running]["attendees"] == [
                {"name": "Room 5B", "phone": "+8657100", "role": 0}
            ]
            fetch = hwm.requests_to("token")[0]
            assert fetch.headers["x-password"] == CHAIR
            reply = await agent.perform(
                {"action": "huawei.invite", "name": "Ann", "sms": "13900000000"}
            )
            assert "no notification" in reply["result"]
            with pytest.raises(ActionNotApplicable, match="was not booked by this room"):
                await agent.perform(
                    {"action": "huawei.invite", "name": "X", "phone": "1", "conference": "42"}
                )
            with pytest.raises(ActionFailed, match="give a phone, email or sms"):
                await agent.perform({"action": "huawei.invite", "name": "X"})
            assert CHAIR not in str(agent.status()) and APP_KEY not in str(agent.status())


async def test_join_next_uses_the_tencent_code_a_quanshi_meeting_carries(tmp_path: Path) -> None:
    now = datetime.now(UTC)
    with (
        YunzhijiaCloud(YZJ_TOKEN) as yzj,
        HuaweiCloud(app_key=APP_KEY, chair_password=CHAIR) as hwm,
        QuanshiCloud(QS_TOKEN) as qs,
    ):
        qs.meetings[CODED_LINK] = {
            **QUANSHI_SEED_MEETING,
            "attendeeJoinUrl": CODED_LINK,
            "title": "Weekly 腾讯会议号: 321 654 987",
        }
        start = now + timedelta(minutes=20)
        yzj.add_booking("23F会议室", start, start + timedelta(minutes=30), topic="Weekly",
                        content=f"join: {CODED_LINK}")  # fmt: skip
        async with running_room(tmp_path, configure=_configure(tmp_path, yzj, hwm, qs)) as room:
            agent = room.agent
            await room.until(
                lambda: bool((agent.status().get("clouds") or {}).get("meeting_detail"))
            )
            assert agent.status()["clouds"]["meeting_detail"]["booking"] == "next"
            await agent.perform({"action": "meeting.join_next"})
            calls = room.meeting_calls("JoinMeeting")
            assert calls[0]["action_params"]["meeting_code"] == "321654987"
