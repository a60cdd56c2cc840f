"""A real kill -9 in the middle of calendar writes; the issue's config contract; sim clouds."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import urllib.request
from pathlib import Path

from roomagent.app import load_room_config
from roomagent.config.model import YunzhijiaSection
from roomagent.scheduling.calendar import RoomCalendar

WRITER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    import anyio
    from roomagent.config.model import YunzhijiaSection
    from roomagent.scheduling.calendar import RoomCalendar
    from roomagent.scheduling.yunzhijia import FeedBooking
    from roomagent.scheduling.yunzhijia_calendar import booking_of

    section = YunzhijiaSection(base_url="http://127.0.0.1:9", eid="1", room_name="R")
    calendar = RoomCalendar.yunzhijia(section, Path(sys.argv[1]))
    for generation in range(1, 100000):
        item = FeedBooking.model_validate({
            "orderId": f"o{generation}", "roomName": "R", "startTime": 4102444800000,
            "endTime": 4102448400000, "updateTime": generation,
            "meetingTopic": "x" * 2000,
        })
        calendar.apply_page([booking_of(item)], [])
        anyio.run(calendar._save)
        print(generation, flush=True)
    """
)


def test_kill_9_during_writes_leaves_a_whole_calendar(tmp_path: Path) -> None:
    child = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(tmp_path)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert child.stdout is not None
        seen = [int(child.stdout.readline()) for _ in range(20)]
        os.kill(child.pid, signal.SIGKILL)  # mid-way through a later write
        child.wait(timeout=5)
    finally:
        if child.poll() is None:
            child.kill()
    section = YunzhijiaSection(base_url="http://127.0.0.1:9", eid="1", room_name="R")
    calendar = RoomCalendar.yunzhijia(section, tmp_path)
    assert calendar.last_error is None
    count = len(calendar.bookings())
    assert count >= seen[-1]  # nothing that was reported written is lost
    assert calendar.cursor == count  # cursor and bookings come from the same write
    assert not calendar.state_path.with_name(calendar.state_path.name + ".tmp").exists()


def test_the_issue_config_contract_loads(tmp_path: Path) -> None:
    path = tmp_path / "agent.toml"
    path.write_text(
        textwrap.dedent(
            """
            [calendar.yunzhijia]
            base_url = "https://yzj.example"
            eid = "10109"
            room_name = "23F会议室"
            token_env = "ROOMAGENT_YZJ_TOKEN"
            poll_seconds = 30

            [cloud.huawei]
            base_url = "https://hwm.example"
            token_env = "ROOMAGENT_HWM_TOKEN"

            [cloud.quanshi]
            url = "https://qs.example/detail"
            token_env = "ROOMAGENT_QS_TOKEN"
            """
        ),
        encoding="utf-8",
    )
    config = load_room_config(path)
    assert config.calendar.yunzhijia is not None
    assert config.calendar.yunzhijia.room_name == "23F会议室"
    assert config.cloud.huawei is not None and config.cloud.quanshi is not None


def test_sim_clouds_command_serves_all_three(tmp_path: Path) -> None:
    env = {**os.environ, "ROOMAGENT_QS_TOKEN": "qs-demo-token"}
    child = subprocess.Popen(
        [sys.executable, "-m", "roomagent", "sim", "clouds"],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert child.stdout is not None
        urls = dict(child.stdout.readline().rsplit(" = ", 1) for _ in range(3))
        quanshi = urls["quanshi url"].strip()
        request = urllib.request.Request(
            quanshi,
            data=json.dumps({"attendeeJoinUrl": "https://mtest.qsh1.cn/k/mkIW3Txa0Uk"}).encode(),
            headers={"token": "qs-demo-token", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=5) as reply:
            assert json.loads(reply.read())["result"][0]["title"] == "哦"
        assert urls["yunzhijia base_url"].startswith("http://127.0.0.1:")
    finally:
        os.kill(child.pid, signal.SIGTERM)
        child.wait(timeout=5)
