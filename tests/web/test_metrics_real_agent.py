"""The demo room's /metrics from the real app: the Rooms session's own counters and the
action counts by result, over real sockets and ptys."""

from __future__ import annotations

from pathlib import Path

import anyio
import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from roomagent.app import App
from roomagent.demo import virtual_room

pytestmark = pytest.mark.anyio

ROOMS_PASSWORD = "sim-rooms-pw-metrics"
WEB_PASSWORD = "page-pw-metrics-4711"


async def test_metrics_carry_rooms_counters_and_action_counts(tmp_path: Path) -> None:
    (tmp_path / "rooms.pw").write_text(ROOMS_PASSWORD + "\n")
    (tmp_path / "web.pw").write_text(WEB_PASSWORD + "\n")
    async with virtual_room(
        ROOMS_PASSWORD, discovery=False, event_delay=0.05, password_file=tmp_path / "rooms.pw"
    ) as room:
        config = room.config
        config.web.password_file = tmp_path / "web.pw"
        config.state_dir = tmp_path
        app = App(config, base_dir=tmp_path)
        async with anyio.create_task_group() as tg:
            await tg.start(app.run)
            with anyio.fail_after(10):
                await app.core.wait_settled()
            await room.panel.tap(3)  # leave while idle: not applicable
            await room.panel.tap(1)  # start a meeting
            with anyio.fail_after(10):
                await app.core.wait_view(lambda v: v.state.value == "in_meeting")
                while "meeting.start" not in app.core.status()["actions"]:
                    changed = anyio.Event()  # its outcome is counted as it is recorded
                    unsubscribe = app.core.watch(lambda _update, c=changed: c.set())
                    await changed.wait()
                    unsubscribe()
            assert app.web is not None
            async with httpx.AsyncClient(
                base_url=app.web.url, auth=(config.web.user, WEB_PASSWORD)
            ) as http:
                reply = await http.get("/metrics")
            tg.cancel_scope.cancel()
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(reply.text)
        for s in family.samples
    }
    rooms = {dict(labels)["counter"]: v for (n, labels), v in samples.items()
             if n == "roomagent_rooms_counter_total"}  # fmt: skip
    assert rooms["frames_in"] > 0 and rooms["calls"] >= 1
    actions = {(dict(labels)["action"], dict(labels)["result"]): v for (n, labels), v in
               samples.items() if n == "roomagent_actions_total"}  # fmt: skip
    assert actions[("meeting.start", "ok")] == 1
    assert actions[("meeting.leave", "not_applicable")] == 1
    # Every bound action with every result from the start (a rate works from the first
    # press): the demo binds the layout and camera presets, never pressed here.
    assert actions[("meeting.start", "failed")] == 0
    assert actions[("meeting.layout", "ok")] == 0
    assert {result for action, result in actions if action == "camera.preset"} == {
        "ok",
        "refused",
        "failed",
        "busy",
        "not_applicable",
    }
    assert samples[("roomagent_rooms_link_up", ())] == 1
