"""Home Assistant MQTT discovery for one room (spec fleet.md, "Home Assistant discovery").

Configs are retained at `{discovery_prefix}/{component}/{node_id}/{object_id}/config`, one
HA device per room, every entity with the room's availability topic (HA's defaults
`online`/`offline` are our payloads). States are read from the retained status JSON with
value templates, so there is no extra state topic. An entity that is no longer wanted gets an
empty retained config, which HA's MQTT integration documents as "remove the entity".
Pure functions: the bridge publishes what `room_configs` returns.
"""

from __future__ import annotations

import json
from typing import Any

from roomagent.config.vocab import FLEET_PRESS
from roomagent.fleet.topics import RoomTopics, slug

MODEL = "roomagent"
# Layout names as the Rooms CSAPI numbers them (SwitchLayout switch_type 1-7).
LAYOUT_OPTIONS = [str(n) for n in range(1, 8)]
# An HA button press carries a fresh id each time (now() is available in HA templates):
# the room's de-duplication would otherwise answer every later press from its memory.
_FRESH_ID = "ha-{{ now().timestamp() }}"


def config_topic(prefix: str, component: str, node: str, object_id: str) -> str:
    return f"{prefix}/{component}/{node}/{object_id}/config"


def room_configs(
    topics: RoomTopics,
    status: dict[str, Any],
    allow_actions: list[str],
    *,
    discovery_prefix: str = "homeassistant",
) -> dict[str, str]:
    """Topic → JSON payload of every entity this room should have in HA now."""
    node = topics.room
    room = status.get("room") or {}
    device = {
        "identifiers": [topics.room],
        "name": str(room.get("name") or topics.room),
        "model": MODEL,
        "manufacturer": "roomagent",
        "sw_version": str(status.get("version") or ""),
        "suggested_area": str(room.get("name") or topics.room),
    }
    entities: list[tuple[str, str, dict[str, Any]]] = [
        ("sensor", "state", _sensor("Room state", "room.state")),
        ("sensor", "meeting_code", _sensor("Meeting code", "meeting.code")),
        ("sensor", "meeting_title", _sensor("Meeting title", "meeting.title")),
        ("binary_sensor", "rooms_link", _link("Rooms link", "value_json.rooms.link == 'ready'")),
    ]
    for entry in status.get("devices") or []:
        name = str(entry.get("name", ""))
        test = (
            f"(value_json.devices | selectattr('name', 'eq', {json.dumps(name)}) "
            "| map(attribute='online') | first) == true"
        )
        entities.append(("binary_sensor", f"device_{slug(name)}", _link(name, test)))
    for action in allow_actions:
        if action == FLEET_PRESS:
            continue  # a virtual button needs device and button: not one HA entity
        object_id = "action_" + slug(action.replace(".", "_"))
        if action == "meeting.layout":
            entities.append(("select", object_id, _layout_select(topics)))
        else:
            entities.append(("button", object_id, _button(topics, action)))
    configs: dict[str, str] = {}
    for component, object_id, entity in entities:
        if component in ("sensor", "binary_sensor"):
            entity["state_topic"] = topics.status
        entity.update(
            unique_id=f"roomagent_{node}_{object_id}",
            # HA 2025.10 replaced `object_id` by `default_entity_id` (domain.slug; the old
            # key stopped working in 2026.4). Entity ids take [a-z0-9_] only.
            default_entity_id=f"{component}.{node}_{object_id}".replace("-", "_"),
            availability_topic=topics.availability,
            device=device,
        )
        topic = config_topic(discovery_prefix, component, node, object_id)
        configs[topic] = json.dumps(entity, sort_keys=True)
    return configs


def _sensor(name: str, field: str) -> dict[str, Any]:
    # `or ''`: a room not in a meeting has no code (null); HA shows an empty value.
    return {"name": name, "value_template": "{{ value_json." + field + " or '' }}"}


def _link(name: str, test: str) -> dict[str, Any]:
    return {
        "name": name,
        "device_class": "connectivity",
        "value_template": "{{ 'ON' if " + test + " else 'OFF' }}",
    }


def _button(topics: RoomTopics, action: str) -> dict[str, Any]:
    return {
        "name": action,
        "command_topic": topics.cmd,
        "command_template": json.dumps({"id": _FRESH_ID, "action": action}),
    }


def _layout_select(topics: RoomTopics) -> dict[str, Any]:
    template = '{"id": "' + _FRESH_ID + '", "action": "meeting.layout", "switch_type": {{ value }}}'
    return {
        "name": "Layout",
        "command_topic": topics.cmd,
        "command_template": template,
        "options": LAYOUT_OPTIONS,
    }
