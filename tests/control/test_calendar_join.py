"""`meeting.join_next` and the next-meeting fields, fed by the room calendar (Yunzhijia feed
on a loopback HTTP server)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import anyio
import pytest

from roomagent.config.model import AgentConfig, CalendarSection, YunzhijiaSection
from roomagent.control.actions import ActionNotApplicable
from roomagent.sim.clouds import YunzhijiaCloud
from tests.control.conftest import WAIT_S, running_room

pytestmark = pytest.mark.anyio

TOKEN = "yzj-token-not-logged"


async def test_join_next_joins_the_booked_meeting(tmp_path: Path) -> None:
    token_file = tmp_path / "yzj.token"
    token_file.write_text(TOKEN)
    with YunzhijiaCloud(TOKEN) as cloud:
        start = datetime.now(UTC) + timedelta(minutes=10)
        cloud.add_booking(
            "23F会议室",
            start,
            start + timedelta(minutes=30),
            topic="Design review",
            content="会议号: 555 666 777",
        )

        def configure(config: AgentConfig) -> AgentConfig:
            section = YunzhijiaSection(
                base_url=cloud.url,
                eid="10109",
                room_name="23F会议室",
                token_file=token_file,
                poll_seconds=1,
            )
            return config.model_copy(
                update={"calendar": CalendarSection(yunzhijia=section), "state_dir": tmp_path}
            )

        async with running_room(tmp_path, configure=configure) as room:
            with anyio.fail_after(WAIT_S):
                view = await room.agent.wait_view(lambda v: v.next_code == "555666777")
            assert view.next_title == "Design review"
            assert view.fields()["next_meeting"] == f"{start.astimezone():%H:%M} Design review"
            assert room.agent.status()["calendar"]["next"]["title"] == "Design review"
            await room.agent.perform({"action": "meeting.join_next"})
            assert room.meeting_calls("JoinMeeting")[0]["action_params"]["meeting_code"] == (
                "555666777"
            )


async def test_join_next_without_a_calendar_is_refused_visibly(tmp_path: Path) -> None:
    async with running_room(tmp_path) as room:
        with pytest.raises(ActionNotApplicable, match="No booked meeting with a code"):
            await room.agent.perform({"action": "meeting.join_next"})
        assert room.meeting_calls() == []
