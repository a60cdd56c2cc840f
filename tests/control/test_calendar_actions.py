"""`calendar.book_now` and `calendar.end_early` from panel presses: keypad on a pty → agent →
the room calendar → the loopback Yunzhijia cloud (real HTTP), the outcome on the keypad."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from roomagent.config.model import AgentConfig, BindingSection, CalendarSection
from roomagent.control.actions import ActionNotApplicable
from roomagent.sim.clouds import YunzhijiaCloud
from tests.control.conftest import running_room

pytestmark = pytest.mark.anyio

TOKEN = "yzj-token-not-logged"
BOOK, END = 20, 21  # keypad buttons bound below (the demo config leaves them free)


def _with_bindings(config: AgentConfig) -> AgentConfig:
    bindings = [
        *config.bindings,
        BindingSection.model_validate(
            {"device": "panel", "button": BOOK, "action": "calendar.book_now", "minutes": 45}
        ),
        BindingSection(device="panel", button=END, action="calendar.end_early"),
    ]
    return config.model_copy(update={"bindings": bindings})


async def test_book_now_and_end_early_from_the_panel(tmp_path: Path) -> None:
    token_file = tmp_path / "yzj.token"
    token_file.write_text(TOKEN)
    with YunzhijiaCloud(TOKEN) as cloud:

        def configure(config: AgentConfig) -> AgentConfig:
            section = cloud.section(token_file, no_show_release_minutes=10)
            calendar = CalendarSection(yunzhijia=section)
            return _with_bindings(config).model_copy(
                update={"calendar": calendar, "state_dir": tmp_path}
            )

        async with running_room(tmp_path, configure=configure) as room:
            pressed = datetime.now(UTC)
            await room.panel.tap(BOOK)
            await room.panel_shows(lambda p: p.text.get(2, "").startswith("Room booked until "))
            create = cloud.requests_to("create")[0].body
            assert create["endDate"] - create["startDate"] == 45 * 60 * 1000
            assert create["roomId"] == "room-23f" and create["title"] == "Ad-hoc meeting"
            current = room.agent.status()["calendar"]["current"]
            assert current is not None and current["title"] == "Ad-hoc meeting"
            assert room.led(BOOK) == "off"  # a success does not blink like a refusal

            # A meeting in the room marks the booking as used: no no-show release.
            await room.panel.tap(1)
            await room.panel_shows(lambda p: p.text.get(1, "").startswith("In meeting "))
            later = pressed + timedelta(minutes=11)
            assert await room.agent.calendar.release_no_show(later) is None
            assert cloud.requests_to("cancel") == []

            await room.panel.tap(END)
            await room.panel_shows(lambda p: p.text.get(2, "").startswith("Booking ended at "))
            modify = cloud.requests_to("modify")[0].body
            assert modify["startDate"] == create["startDate"]
            # Now, or a minute after the start at the earliest (end must follow start).
            earliest_end = max(pressed.timestamp() * 1000, create["startDate"] + 60_000)
            assert modify["endDate"] <= earliest_end + 2000 < create["endDate"]

            # A second "book now" while the room is still booked: refused with the reason.
            await room.panel.tap(BOOK)
            await room.panel_shows(
                lambda p: (
                    p.text.get(2, "").startswith("the room is booked until ")
                    and room.led(BOOK) == "blink"
                )
            )
            assert len(cloud.requests_to("create")) == 1
            messages = [e["message"] for e in room.agent.recent_events()]
            assert any("calendar.book_now: Room booked until" in m for m in messages)
            assert not any(TOKEN in m for m in messages)


async def test_without_a_calendar_the_press_is_refused_visibly(tmp_path: Path) -> None:
    async with running_room(tmp_path, configure=_with_bindings) as room:
        await room.panel.tap(BOOK)
        await room.panel_shows(
            lambda p: p.text.get(2) == "no room calendar configured" and room.led(BOOK) == "blink"
        )
        assert room.agent.history.last_error == "calendar.book_now: no room calendar configured"
        with pytest.raises(ActionNotApplicable, match="no room calendar configured"):
            await room.agent.perform({"action": "calendar.end_early"})
