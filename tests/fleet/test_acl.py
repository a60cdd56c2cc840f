"""The shipped ACL template (examples/mosquitto/acl) on a real Mosquitto: a room's account
writes only its own topics and reads only its own commands; operators read all, write cmd."""

from __future__ import annotations

import json
from pathlib import Path

import aiomqtt
import anyio
import pytest

from .conftest import Mosquitto
from .rooms import fleet_room, retained

pytestmark = pytest.mark.anyio


async def test_a_room_cannot_command_another_room(mosquitto: Mosquitto, tmp_path: Path) -> None:
    async with fleet_room(mosquitto, "board-1", tmp_path, allow_actions=["meeting.start"]) as (
        agent,
        _,
    ):
        intruder = mosquitto.broker("huddle-3a")
        async with intruder.client("intruder") as client:
            # Publishing into another room's cmd is dropped by the broker (MQTT 5 may also
            # answer "not authorized"); the room never sees it.
            try:
                await client.publish(
                    "roomagent/hq/board-1/cmd",
                    json.dumps({"id": "evil", "action": "meeting.start"}),
                    qos=1,
                )
            except aiomqtt.MqttError:
                pass
            # Reading another room's commands or results is refused at subscribe time.
            await client.subscribe("roomagent/hq/board-1/cmd", qos=1)
            await client.subscribe("roomagent/hq/board-1/cmd/result", qos=1)
            # Nor can it forge the other room's state.
            try:
                await client.publish("roomagent/hq/board-1/availability", "offline", retain=True)
            except aiomqtt.MqttError:
                pass
            await anyio.sleep(1.0)
        assert agent.fleet is not None and agent.fleet.counters.commands == 0
        assert not any(e.get("action") == "meeting.start" for e in agent.core.recent_events())
        held = await retained(mosquitto.broker(), "roomagent/hq/board-1/availability")
        assert held["roomagent/hq/board-1/availability"] == b"online"

        # The operator account may: the same command runs.
        async with mosquitto.broker().client("op") as client:
            await client.subscribe("roomagent/hq/board-1/cmd/result", qos=1)
            await client.publish(
                "roomagent/hq/board-1/cmd",
                json.dumps({"id": "ok-1", "action": "meeting.start"}),
                qos=1,
            )
            with anyio.fail_after(15):
                message = await anext(client.messages)
            assert json.loads(bytes(message.payload))["ok"] is True  # type: ignore[arg-type]


async def test_a_room_reads_only_its_own_commands(mosquitto: Mosquitto) -> None:
    snoop = mosquitto.broker("huddle-3a")
    async with snoop.client("snoop") as client:
        await client.subscribe("roomagent/#", qos=1)  # granted only where the ACL allows
        async with mosquitto.broker().client("op") as operator:
            await operator.publish("roomagent/hq/board-1/cmd", '{"id": "x"}', qos=1)
            await operator.publish("roomagent/hq/huddle-3a/cmd", '{"id": "mine"}', qos=1)
        with anyio.fail_after(5):
            message = await anext(client.messages)
        assert message.topic.value == "roomagent/hq/huddle-3a/cmd"
        with anyio.move_on_after(0.5) as quiet:
            await anext(client.messages)
        assert quiet.cancelled_caught  # board-1's command never arrived


async def test_wrong_password_is_refused(mosquitto: Mosquitto) -> None:
    broker = mosquitto.broker("board-1", password="wrong-password")
    with pytest.raises(aiomqtt.MqttError):
        async with broker.client("bad"):
            pass
