"""The agent's bridge against a real Mosquitto: two rooms, retained state, commands."""

from __future__ import annotations

import json
from pathlib import Path

import anyio
import pytest
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from roomagent.fleet.tools import collect

from .conftest import Mosquitto
from .rooms import ROOMS_PASSWORD, fleet_room, messages_on, retained, wait_retained

pytestmark = pytest.mark.anyio


async def test_two_agents_publish_retained_status_that_is_the_api_status(
    mosquitto: Mosquitto, tmp_path: Path
) -> None:
    async with (
        fleet_room(mosquitto, "huddle-3a", tmp_path) as (agent_a, _),
        fleet_room(mosquitto, "board-1", tmp_path) as (agent_b, _),
    ):
        operator = mosquitto.broker()
        await wait_retained(
            operator, "roomagent/hq/board-1/status", lambda s: s["rooms"]["link"] == "ready"
        )
        held = await retained(operator, "roomagent/hq/#")
        assert held["roomagent/hq/huddle-3a/availability"] == b"online"
        assert held["roomagent/hq/board-1/availability"] == b"online"
        status = json.loads(held["roomagent/hq/huddle-3a/status"])
        api = agent_a.core.status()
        # The same JSON as the API's status (no third shape); only the uptime and the bridge's
        # own counters and times (status.fleet, as of that publish) move on.
        assert set(status) == set(api)
        moving = ("uptime_s", "fleet")
        assert {k: v for k, v in status.items() if k not in moving} == {
            k: v for k, v in json.loads(json.dumps(api)).items() if k not in moving
        }
        stable = ("state", "broker", "topic", "topic_id")
        assert {k: status["fleet"][k] for k in stable} == {k: api["fleet"][k] for k in stable}
        assert status["fleet"]["state"] == "connected"
        assert status["fleet"]["topic"] == "roomagent/hq/huddle-3a"
        assert status["room"]["id"] == "huddle-3a"
        # No secret reaches the broker: the Rooms and MQTT passwords appear nowhere.
        everything = b"".join(held.values())
        assert ROOMS_PASSWORD.encode() not in everything
        assert b"pw-huddle-3a" not in everything

        view = await collect(operator)
        rows = {r["room_id"]: r for r in view.rows()}
        assert set(rows) == {"huddle-3a", "board-1"}
        assert rows["board-1"]["online"] and rows["board-1"]["link"] == "ready"
        assert agent_b.fleet is not None and agent_b.fleet.connected


async def test_status_follows_a_change_and_events_stream(
    mosquitto: Mosquitto, tmp_path: Path
) -> None:
    async with fleet_room(mosquitto, "huddle-3a", tmp_path) as (agent, virtual):
        operator = mosquitto.broker()
        async with operator.client("test-events") as client:
            await client.subscribe("roomagent/hq/huddle-3a/events", qos=1)
            await virtual.panel.tap(1)  # the demo keypad's quick meeting
            got = await messages_on(client, 1)
        topic, event = got[0]
        assert topic == "roomagent/hq/huddle-3a/events"
        assert {"ts", "source", "kind", "message"} <= set(event)
        assert event in [json.loads(json.dumps(e)) for e in agent.core.recent_events()]
        await wait_retained(
            operator,
            "roomagent/hq/huddle-3a/status",
            lambda s: s["room"]["state"] == "in_meeting",
        )


async def command(mosquitto: Mosquitto, room: str, payload: object, **props: bytes | str):
    """Publish one command as the operator and return the answer(s) on cmd/result."""
    operator = mosquitto.broker()
    async with operator.client("test-cmd") as client:
        # `…/cmd/result/#` also matches `…/cmd/result` itself
        await client.subscribe(f"roomagent/hq/{room}/cmd/result/#", qos=1)
        properties = None
        if props:
            properties = Properties(PacketTypes.PUBLISH)
            for key, value in props.items():
                setattr(properties, key, value)
        text = payload if isinstance(payload, str | bytes) else json.dumps(payload)
        await client.publish(f"roomagent/hq/{room}/cmd", text, qos=1, properties=properties)
        answers = []
        with anyio.fail_after(15):
            async for message in client.messages:
                answers.append((message.topic.value, json.loads(bytes(message.payload)), message))
                if not props or len(answers) == 2:
                    return answers


async def test_commands_allowed_refused_duplicated_malformed(
    mosquitto: Mosquitto, tmp_path: Path
) -> None:
    async with fleet_room(
        mosquitto, "huddle-3a", tmp_path, allow_actions=["meeting.start", "meeting.leave"]
    ) as (agent, _):
        # Refused: not in allow_actions; nothing runs.
        ((_, answer, _),) = await command(
            mosquitto, "huddle-3a", {"id": "c1", "action": "camera.home", "camera": "cam"}
        )
        refusal = "camera.home: not allowed from the fleet"
        assert answer == {"id": "c1", "ok": False, "error": refusal}
        assert not any(e.get("action") == "camera.home" for e in agent.core.recent_events())

        # Allowed: runs once, through the same path as the API.
        ((_, answer, _),) = await command(
            mosquitto, "huddle-3a", {"id": "c2", "action": "meeting.start"}
        )
        assert answer["id"] == "c2" and answer["ok"] is True, answer
        assert answer["result"]["action"] == "meeting.start"
        starts = [e for e in agent.core.recent_events() if e.get("action") == "meeting.start"]
        assert len(starts) == 1

        # Duplicated (QoS 1 redelivery): answered again, the same answer, not run twice.
        ((_, again, _),) = await command(
            mosquitto, "huddle-3a", {"id": "c2", "action": "meeting.start"}
        )
        assert again == answer
        starts = [e for e in agent.core.recent_events() if e.get("action") == "meeting.start"]
        assert len(starts) == 1
        assert agent.fleet is not None and agent.fleet.counters.commands_duplicate == 1

        # Malformed: ok false with the reason, id kept when there was one.
        for payload, reason in [
            ("not json", "command is not JSON"),
            ("[1, 2]", "command must be a JSON object"),
            ({"action": "meeting.leave"}, 'command needs an "id"'),
            ({"id": "c3"}, 'command needs either "action" or "press"'),
            ({"id": "c4", "press": {"device": "panel"}}, '"press" needs "device"'),
        ]:
            ((_, answer, _),) = await command(mosquitto, "huddle-3a", payload)
            assert answer["ok"] is False and answer["error"].startswith(reason), answer
        assert answer["id"] == "c4"

        # A room refusal (an allowed action the room cannot do now) in the room's words.
        await agent.core.perform({"action": "meeting.leave"})
        leave = {"id": "c5", "action": "meeting.leave"}
        ((_, answer, _),) = await command(mosquitto, "huddle-3a", leave)
        assert answer["ok"] is False and "meeting" in answer["error"].lower(), answer


async def test_mqtt5_response_topic_and_correlation_data(
    mosquitto: Mosquitto, tmp_path: Path
) -> None:
    async with fleet_room(mosquitto, "huddle-3a", tmp_path, allow_actions=["meeting.start"]):
        reply_topic = "roomagent/hq/huddle-3a/cmd/result/op-42"  # inside the room's ACL tree
        answers = await command(
            mosquitto,
            "huddle-3a",
            {"id": "r1", "action": "meeting.start"},
            ResponseTopic=reply_topic,
            CorrelationData=b"op-42-corr",
        )
        topics = sorted(t for t, _, _ in answers)
        assert topics == ["roomagent/hq/huddle-3a/cmd/result", reply_topic]
        for _, answer, message in answers:
            assert answer["id"] == "r1" and answer["ok"] is True
            assert message.properties.CorrelationData == b"op-42-corr"
