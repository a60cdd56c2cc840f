"""The fleet bridge's state in the room's status (status.fleet) and the room id rule, against
a real Mosquitto: `[room] id`, else the machine id, in the status, the topics and Home
Assistant alike, so that a rename moves nothing; a broker account that does not match the
topic id, and `[mqtt]` settings that cannot be used, are said in words."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import anyio
import pytest

from roomagent.config.model import RoomSection
from roomagent.control.status import machine_id
from roomagent.fleet.bridge import DISCOVERY_SETTLE_S
from roomagent.web.metrics import ServerCounters, render

from .conftest import MOSQUITTO, Mosquitto, room_password
from .rooms import fleet_room, retained, until, wait_retained

pytestmark = pytest.mark.anyio


@pytest.fixture
def machine_broker():  # type: ignore[no-untyped-def]
    """A broker whose ACL also gives the account huddle-3a this machine's topic id."""
    if not Path(MOSQUITTO).exists():
        pytest.skip("Debian mosquitto is not installed")
    mid = machine_id()
    broker = Mosquitto(
        extra_acl=(
            f"user huddle-3a\ntopic readwrite roomagent/+/{mid}/#\n"
            f"topic readwrite homeassistant/+/{mid}/#\n"
        )
    )
    broker.start()
    try:
        yield broker
    finally:
        broker.cleanup()


async def test_without_a_room_id_the_topics_use_the_machine_id_and_survive_a_rename(
    machine_broker: Mosquitto, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    mid = machine_id()
    operator = machine_broker.broker()
    with caplog.at_level(logging.WARNING, logger="roomagent.fleet"):
        async with fleet_room(
            machine_broker, "huddle-3a", tmp_path, room_section=RoomSection(name="Huddle 3A")
        ) as (agent, _):
            held = await wait_retained(
                operator, f"roomagent/hq/{mid}/status", lambda s: s["rooms"]["link"] == "ready"
            )
            status = held["value"]
            # One id everywhere: the status, the topics, Home Assistant's device.
            assert status["room"]["id"] == mid == agent.core.status()["room"]["id"]
            assert status["fleet"]["topic_id"] == mid
            assert status["fleet"]["topic"] == f"roomagent/hq/{mid}"
            ha = await retained(operator, f"homeassistant/sensor/{mid}/state/config")
            device = json.loads(ha[f"homeassistant/sensor/{mid}/state/config"])["device"]
            assert device["identifiers"] == [mid] and device["name"] == "Huddle 3A"

            # A rename (a reload: swapped in place) keeps the topics and the HA device.
            config = agent.config.model_copy(update={"room": RoomSection(name="Huddle 3B")})
            assert agent.reload(config) == "bindings and feedback updated"
            await wait_retained(
                operator, f"roomagent/hq/{mid}/status", lambda s: s["room"]["name"] == "Huddle 3B"
            )
            await wait_retained(
                operator,
                f"homeassistant/sensor/{mid}/state/config",
                lambda c: (
                    c["device"]["name"] == "Huddle 3B" and c["device"]["identifiers"] == [mid]
                ),
            )
            held = await retained(operator, "roomagent/#")
            assert {topic.split("/")[2] for topic in held} == {mid}
    # The account (huddle-3a) is not the topic id: said at start, with the fix.
    assert any("set [room] id = 'huddle-3a'" in r.getMessage() for r in caplog.records)


async def test_a_room_id_set_keeps_its_topics(mosquitto: Mosquitto, tmp_path: Path) -> None:
    section = RoomSection(name="Board room, 1st floor", id="board-1")
    async with fleet_room(mosquitto, "board-1", tmp_path, room_section=section) as (agent, _):
        operator = mosquitto.broker()
        held = await wait_retained(
            operator, "roomagent/hq/board-1/status", lambda s: s["fleet"]["state"] == "connected"
        )
        status = held["value"]
        assert status["room"]["id"] == "board-1" and status["fleet"]["topic_id"] == "board-1"
        assert agent.core.status()["fleet"]["last_error"] is None


async def test_an_account_the_acl_gives_other_topics_is_reported(
    mosquitto: Mosquitto, tmp_path: Path
) -> None:
    # The account board-1 for a room whose id is huddle-3a: the shipped ACL (%u) refuses it.
    section = RoomSection(name="Huddle 3A", id="huddle-3a")
    async with fleet_room(mosquitto, "board-1", tmp_path, room_section=section) as (agent, _):
        await until(lambda: agent.core.status()["fleet"]["last_error"] is not None)
        fleet = agent.core.status()["fleet"]
        assert fleet["state"] == "connected"
        assert fleet["last_error"].startswith("the broker did not send this room's own 'online'")
        assert "does not let account 'board-1' use roomagent/hq/huddle-3a/…" in fleet["last_error"]
        assert "set [room] id to the account name" in fleet["last_error"]
        metrics = render(agent.core.status_model(), ServerCounters())
        assert "roomagent_fleet_up 0.0" in metrics
        assert room_password("board-1") not in json.dumps(fleet)


async def test_mqtt_settings_that_cannot_be_used_are_disabled_in_words(
    mosquitto: Mosquitto, tmp_path: Path
) -> None:
    missing = tmp_path / "nowhere" / "mqtt.pw"
    async with fleet_room(mosquitto, "lab-2", tmp_path, password_file=missing) as (agent, _):
        fleet = agent.core.status()["fleet"]
        assert agent.fleet is None
        assert fleet["state"] == "disabled"
        assert fleet["last_error"].startswith("fleet plane off: ")
        assert "MQTT password" in fleet["last_error"]


async def test_the_state_follows_the_broker(mosquitto: Mosquitto, tmp_path: Path) -> None:
    async with fleet_room(mosquitto, "lab-2", tmp_path, allow_actions=["meeting.start"]) as (
        agent,
        _,
    ):
        seen: list[str] = []
        unwatch = agent.core.watch(lambda u: seen.append(u["type"]))
        # Connected first, then its first publish (the room's status) goes out.
        await until(
            lambda: (
                agent.core.status()["fleet"]["state"] == "connected"
                and agent.core.status()["fleet"]["last_publish"] is not None
            )
        )
        connected = agent.core.status()["fleet"]
        assert connected["broker"] == mosquitto.url and connected["state"] == "connected"
        await until(lambda: agent.core.status()["fleet"]["outbox"] == 0)
        # Past the connect phase (HA discovery settles for 1 s): a broker lost in the middle
        # of it is noticed only when the pending call times out (10 s).
        await anyio.sleep(DISCOVERY_SETTLE_S + 0.5)
        mosquitto.stop()
        await until(lambda: agent.core.status()["fleet"]["state"] == "reconnecting")
        # The loss itself, then the attempts that find no broker on the port.
        await until(lambda: "refused the connection" in agent.core.status()["fleet"]["last_error"])
        assert "fleet" in seen  # the page heard of it without polling
        mosquitto.start()
        await until(lambda: agent.core.status()["fleet"]["state"] == "connected", 30)
        unwatch()


async def leave_ghost(broker: Mosquitto, owner: str) -> None:
    """What a box named "Huddle 3A" without [room] id left before the upgrade: its retained
    availability, status (room.id = `owner`) and an HA config under the slug of its name."""
    old = broker.broker("huddle-3a")
    status = {"room": {"name": "Huddle 3A", "id": owner, "state": "idle"}, "version": "0.0.9"}
    config = {"name": "Room state", "availability_topic": "roomagent/hq/huddle-3a/availability"}
    async with old.client("old-agent") as client:
        await client.publish("roomagent/hq/huddle-3a/availability", "offline", qos=1, retain=True)
        await client.publish(
            "roomagent/hq/huddle-3a/status", json.dumps(status), qos=1, retain=True
        )
        await client.publish(
            "homeassistant/sensor/huddle-3a/state/config", json.dumps(config), qos=1, retain=True
        )


@pytest.mark.parametrize("owner", ["this box", "another box"])
async def test_the_old_topics_of_this_box_are_cleared_and_another_boxs_kept(
    machine_broker: Mosquitto, tmp_path: Path, owner: str
) -> None:
    mid = machine_id()
    await leave_ghost(machine_broker, mid if owner == "this box" else "0123456789ab")
    operator = machine_broker.broker()
    async with fleet_room(
        machine_broker, "huddle-3a", tmp_path, room_section=RoomSection(name="Huddle 3A")
    ):
        await wait_retained(operator, f"roomagent/hq/{mid}/availability", lambda v: v == "online")
        await anyio.sleep(DISCOVERY_SETTLE_S + 0.5)  # past the connect phase
        held = await retained(operator, "roomagent/#")
        ha = await retained(operator, "homeassistant/+/huddle-3a/#")
    old = {t for t in held if t.startswith("roomagent/hq/huddle-3a/")}
    if owner == "this box":
        assert old == set() and ha == {}  # no ghost room for the fleet tools or HA
    else:
        assert old == {"roomagent/hq/huddle-3a/availability", "roomagent/hq/huddle-3a/status"}
        assert set(ha) == {"homeassistant/sensor/huddle-3a/state/config"}
    assert f"roomagent/hq/{mid}/status" in held
