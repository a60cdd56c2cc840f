"""The broker or the agent goes away: last will, republish, outage buffer, backoff."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
from pathlib import Path

import anyio
import pytest

from roomagent.fleet.bridge import BridgeSettings, FleetBridge, backoff_delay
from roomagent.fleet.outbox import Outbox
from roomagent.fleet.topics import RoomTopics

from .conftest import Mosquitto, room_password
from .rooms import fleet_room, retained, until, wait_retained

pytestmark = pytest.mark.anyio
ROOT = Path(__file__).resolve().parents[2]


def agent_config(mosquitto: Mosquitto, room: str, folder: Path) -> Path:
    (folder / "mqtt.pw").write_text(room_password(room) + "\n")
    path = folder / "room.toml"
    path.write_text(
        f'state_dir = "{folder}"\n'
        f'[room]\nname = "Lab two"\nid = "{room}"\n'
        '[rooms]\nurl = "ws://127.0.0.1:9"\n'  # no Rooms client: the link stays down
        "[web]\nenabled = false\n[discovery]\nenabled = false\n"
        f'[mqtt]\nurl = "{mosquitto.url}"\nusername = "{room}"\npassword_file = "mqtt.pw"\n'
        'site = "hq"\nkeepalive = 5\n'
    )
    return path


async def test_last_will_after_kill_9_and_retained_state(
    mosquitto: Mosquitto, tmp_path: Path
) -> None:
    config = agent_config(mosquitto, "lab-2", tmp_path)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = await anyio.open_process(
        [sys.executable, "-m", "roomagent", "run", "--config", str(config)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        operator = mosquitto.broker()
        await wait_retained(operator, "roomagent/hq/lab-2/availability", lambda v: v == "online")
        await wait_retained(
            operator, "roomagent/hq/lab-2/status", lambda s: s["room"]["id"] == "lab-2"
        )
        process.send_signal(signal.SIGKILL)
        with anyio.fail_after(5):
            await process.wait()
        # The broker publishes the last will: retained "offline"; the status stays retained.
        await wait_retained(operator, "roomagent/hq/lab-2/availability", lambda v: v == "offline")
        held = await retained(operator, "roomagent/hq/lab-2/#")
        assert b'"lab-2"' in held["roomagent/hq/lab-2/status"]
    finally:
        if process.returncode is None:
            process.kill()
        await process.aclose()


async def test_clean_stop_says_offline(mosquitto: Mosquitto, tmp_path: Path) -> None:
    async with fleet_room(mosquitto, "huddle-3a", tmp_path):
        operator = mosquitto.broker()
        await wait_retained(
            operator, "roomagent/hq/huddle-3a/availability", lambda v: v == "online"
        )
    await wait_retained(operator, "roomagent/hq/huddle-3a/availability", lambda v: v == "offline")


async def test_broker_restarted_without_persistence_gets_everything_again(
    mosquitto: Mosquitto, tmp_path: Path
) -> None:
    async with fleet_room(mosquitto, "huddle-3a", tmp_path, allow_actions=["meeting.leave"]) as (
        agent,
        virtual,
    ):
        operator = mosquitto.broker()
        await wait_retained(
            operator, "roomagent/hq/huddle-3a/status", lambda s: s["rooms"]["link"] == "ready"
        )
        mosquitto.restart()  # persistence false: every retained message is gone
        assert agent.fleet is not None
        await virtual.panel.tap(1)  # events while the broker is away wait in the outbox
        await wait_retained(
            operator, "roomagent/hq/huddle-3a/availability", lambda v: v == "online", 20
        )
        await wait_retained(
            operator, "roomagent/hq/huddle-3a/status", lambda s: s["room"]["id"] == "huddle-3a"
        )
        configs = await retained(operator, "homeassistant/+/huddle-3a/+/config")
        assert "homeassistant/button/huddle-3a/action_meeting_leave/config" in configs
        assert agent.fleet.counters.connects >= 2
        fleet = agent.fleet
        await until(lambda: not len(fleet.outbox))


def quiet_bridge(mosquitto: Mosquitto, room: QuietRoom, base: float, cap: float) -> FleetBridge:
    """A bridge for board-1 with a short backoff, HA discovery off."""
    settings = BridgeSettings(
        broker=mosquitto.broker("board-1"),
        topics=RoomTopics("roomagent", "hq", "board-1"),
        homeassistant=False,
        backoff_base=base,
        backoff_cap=cap,
    )
    return FleetBridge(room, settings, seed=1)


class QuietRoom:
    """The smallest room the bridge can serve: a fixed status, events on demand."""

    def __init__(self) -> None:
        self.watchers: list = []

    def status(self) -> dict:
        return {"version": "test", "room": {"id": "board-1", "name": "Board", "state": "idle"}}

    def recent_events(self, limit: int = 100) -> list:
        return []

    async def perform(self, action: dict) -> dict:
        return {"action": action["action"], "result": "done"}

    async def press(self, device: str, button: int, kind: str = "press") -> dict:
        return {}

    def watch(self, callback):  # type: ignore[no-untyped-def]
        self.watchers.append(callback)
        return lambda: self.watchers.remove(callback)

    def event(self, n: int) -> None:
        for callback in self.watchers:
            callback(
                {
                    "type": "event",
                    "event": {"ts": str(n), "source": "t", "kind": "k", "message": f"event {n}"},
                }
            )


async def test_outage_buffer_keeps_the_newest_and_counts_the_dropped(
    mosquitto: Mosquitto,
) -> None:
    room = QuietRoom()
    bridge = quiet_bridge(mosquitto, room, 0.1, 0.3)
    bridge.outbox = Outbox(limit=5)
    mosquitto.stop()
    operator = mosquitto.broker()
    async with anyio.create_task_group() as tg:
        tg.start_soon(bridge.run)
        await anyio.sleep(0.5)
        for n in range(12):
            room.event(n)  # the room keeps working: nothing blocks while the broker is down
        assert len(bridge.outbox) == 5 and bridge.outbox.dropped == 7
        assert bridge.counters.connect_failures >= 1
        mosquitto.start()
        async with operator.client("test-outage") as client:
            await client.subscribe("roomagent/hq/board-1/events", qos=1)
            got: list[str] = []
            with anyio.fail_after(10):
                async for message in client.messages:
                    got.append(bytes(message.payload).decode())  # type: ignore[arg-type]
                    if len(got) == 5:
                        break
        assert all(f'"event {n}"' in got[i] for i, n in enumerate(range(7, 12)))
        tg.cancel_scope.cancel()


def test_backoff_grows_to_the_cap_with_jitter() -> None:
    rng = random.Random(7)
    delays = [backoff_delay(n, 1.0, 60.0, rng) for n in range(12)]
    for n, delay in enumerate(delays):
        ceiling = min(60.0, 2.0**n)
        assert ceiling / 2 <= delay <= ceiling
    assert delays[-1] <= 60.0 and delays[-1] >= 30.0
    # Jitter: two boxes starting together do not retry in lockstep.
    other = [backoff_delay(n, 1.0, 60.0, random.Random(8)) for n in range(12)]
    assert delays != other


async def test_reconnects_with_backoff_until_the_broker_comes(mosquitto: Mosquitto) -> None:
    mosquitto.stop()
    room = QuietRoom()
    bridge = quiet_bridge(mosquitto, room, 0.05, 0.4)
    async with anyio.create_task_group() as tg:
        tg.start_soon(bridge.run)
        await anyio.sleep(1.5)
        failures = bridge.counters.connect_failures
        # 0.05·2^n capped at 0.4 s: a handful of tries in 1.5 s, not a busy loop.
        assert 3 <= failures <= 15, failures
        mosquitto.start()
        await until(lambda: bridge.connected, 5)
        await wait_retained(
            mosquitto.broker(), "roomagent/hq/board-1/availability", lambda v: v == "online"
        )
        tg.cancel_scope.cancel()


async def test_an_unreadable_broker_password_turns_the_fleet_plane_off_not_the_room(
    mosquitto: Mosquitto, tmp_path: Path
) -> None:
    missing = tmp_path / "nowhere" / "mqtt.pw"
    async with fleet_room(mosquitto, "huddle-3a", tmp_path, password_file=missing) as (app, v):
        assert app.fleet is None
        events = [e["message"] for e in app.core.recent_events()]
        assert any(m.startswith("fleet plane off: MQTT password: cannot read") for m in events)
        await v.panel.tap(1)  # the room itself works
        await until(lambda: app.core.status()["room"]["state"] == "in_meeting")
