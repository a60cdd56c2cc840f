"""Home Assistant discovery, checked against what HA's MQTT integration documents:
`<discovery_prefix>/<component>/[<node_id>/]<object_id>/config`, retained; node and object
ids of [a-zA-Z0-9_-]; `unique_id` + `default_entity_id` (domain.slug) + `device`
(identifiers, name, model, sw_version) so the entities form one device;
`availability_topic` with HA's default payloads online/offline;
sensors/binary sensors read `state_topic` through `value_template`; binary sensors answer
ON/OFF (HA's default payload_on/payload_off); buttons and selects publish to
`command_topic` (`command_template`; a select needs `options`); an empty retained config
removes the entity."""

from __future__ import annotations

import json
import re
from pathlib import Path

import anyio
import pytest

from roomagent.fleet.discovery import room_configs
from roomagent.fleet.topics import RoomTopics

from .conftest import Mosquitto
from .rooms import fleet_room, retained

pytestmark = pytest.mark.anyio
TOPICS = RoomTopics("roomagent", "hq", "huddle-3a")
STATUS = {
    "version": "0.1.0",
    "room": {"name": "Huddle 3A", "id": "huddle-3a", "state": "idle"},
    "rooms": {"link": "ready"},
    "meeting": {"status": "idle", "code": None, "title": None},
    "devices": [{"name": "cam", "online": True}, {"name": "panel", "online": False}],
}
ID = re.compile(r"^[a-zA-Z0-9_-]+$")
COMPONENT_KEYS = {
    "sensor": {"state_topic", "value_template"},
    "binary_sensor": {"state_topic", "value_template", "device_class"},
    "button": {"command_topic", "command_template"},
    "select": {"command_topic", "command_template", "options"},
}


def test_one_device_per_room_with_documented_fields() -> None:
    configs = room_configs(TOPICS, STATUS, ["meeting.leave", "meeting.layout", "press"])
    by_object: dict[str, tuple[str, dict]] = {}
    for topic, text in configs.items():
        prefix, component, node, object_id, tail = topic.split("/")
        assert (prefix, node, tail) == ("homeassistant", "huddle-3a", "config")
        assert ID.match(node) and ID.match(object_id)
        entity = json.loads(text)
        assert COMPONENT_KEYS[component] <= set(entity), (component, entity)
        assert entity["availability_topic"] == "roomagent/hq/huddle-3a/availability"
        assert entity["unique_id"] == f"roomagent_huddle-3a_{object_id}"
        # HA's current key for the entity id (object_id is gone since 2026.4).
        assert entity["default_entity_id"] == f"{component}.huddle_3a_{object_id}"
        assert re.match(r"^[a-z_]+\.[a-z0-9_]+$", entity["default_entity_id"])
        assert "object_id" not in entity
        assert entity["device"] == {
            "identifiers": ["huddle-3a"],
            "name": "Huddle 3A",
            "model": "roomagent",
            "manufacturer": "roomagent",
            "sw_version": "0.1.0",
            "suggested_area": "Huddle 3A",
        }
        by_object[object_id] = (component, entity)
    assert set(by_object) == {
        "state",
        "meeting_code",
        "meeting_title",
        "rooms_link",
        "device_cam",
        "device_panel",
        "action_meeting_leave",
        "action_meeting_layout",
    }  # press needs a device and a button: no HA entity
    for object_id in ("rooms_link", "device_cam", "device_panel"):
        component, entity = by_object[object_id]
        assert component == "binary_sensor" and entity["device_class"] == "connectivity"
        assert entity["state_topic"] == "roomagent/hq/huddle-3a/status"
    button = by_object["action_meeting_leave"][1]
    assert button["command_topic"] == "roomagent/hq/huddle-3a/cmd"
    assert '"action": "meeting.leave"' in button["command_template"]
    assert "now()" in button["command_template"]  # a fresh command id on every press
    select = by_object["action_meeting_layout"][1]
    assert select["options"] == ["1", "2", "3", "4", "5", "6", "7"]
    assert '"switch_type": {{ value }}' in select["command_template"]


def render(template: str, value_json: dict) -> str:
    """HA renders value templates with Jinja2; so does this check (jinja2 if installed)."""
    jinja2 = pytest.importorskip("jinja2")
    return str(jinja2.Environment().from_string(template).render(value_json=value_json))


def test_value_templates_read_the_status_json() -> None:
    configs = room_configs(TOPICS, STATUS, [])
    entities = {t.split("/")[3]: json.loads(c) for t, c in configs.items()}
    assert render(entities["state"]["value_template"], STATUS) == "idle"
    assert render(entities["meeting_code"]["value_template"], STATUS) == ""
    assert render(entities["rooms_link"]["value_template"], STATUS) == "ON"
    assert render(entities["device_cam"]["value_template"], STATUS) == "ON"
    assert render(entities["device_panel"]["value_template"], STATUS) == "OFF"


async def test_stale_entities_get_an_empty_retained_config(
    mosquitto: Mosquitto, tmp_path: Path
) -> None:
    operator = mosquitto.broker("huddle-3a")  # an earlier run of this room left these:
    stale = "homeassistant/binary_sensor/huddle-3a/device_old_camera/config"
    async with operator.client("test-stale") as client:
        await client.publish(stale, '{"name": "old"}', qos=1, retain=True)
    async with fleet_room(mosquitto, "huddle-3a", tmp_path, allow_actions=["meeting.leave"]):
        with anyio.fail_after(10):
            while True:
                configs = await retained(mosquitto.broker(), "homeassistant/#", 0.3)
                if stale not in configs and len(configs) >= 5:
                    break
                await anyio.sleep(0.2)
        assert "homeassistant/button/huddle-3a/action_meeting_leave/config" in configs
        assert "homeassistant/binary_sensor/huddle-3a/device_panel/config" in configs
        for text in configs.values():
            entity = json.loads(text)
            assert entity["availability_topic"] == "roomagent/hq/huddle-3a/availability"
