"""Retained leftovers of the old topic id. Before the topic id followed the room id, a box
without `[room] id` published under a slug of its name (`Huddle 3A` → `huddle-3a`) while its
status said the machine id. After the upgrade it publishes under the machine id; on connect
it reads the old status topic and, when the status retained there is this box's (its
`room.id` is ours), clears the old availability, status and Home Assistant configs, so the
fleet tools and HA keep no ghost of the room. Another box's topics are left alone.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

import aiomqtt

from roomagent.config.model import AgentConfig
from roomagent.control.status import room_id
from roomagent.fleet.topics import RoomTopics, slug
from roomagent.logsetup import kv

log = logging.getLogger("roomagent.fleet")


@dataclass(frozen=True)
class LegacyTopics:
    topics: RoomTopics  # under the old topic id
    room_id: str  # this box's status.room.id, then and now
    discovery_prefix: str

    @classmethod
    def of(
        cls, config: AgentConfig, current: RoomTopics, discovery_prefix: str
    ) -> LegacyTopics | None:
        """The old topics of a box without `[room] id`, when they differ from the new ones."""
        old = slug(config.room.name)
        if config.room.id is not None or old == current.room:
            return None
        return cls(RoomTopics(current.prefix, current.site, old), room_id(config), discovery_prefix)


class LegacyCleaner:
    """One connection's look at the old topics (the bridge hands it the messages it wants)."""

    def __init__(self, legacy: LegacyTopics) -> None:
        self.legacy = legacy
        self.ours = False

    async def start(self, client: aiomqtt.Client) -> None:
        await client.subscribe(self.legacy.topics.status, qos=1)

    def wants(self, topic: str) -> bool:
        if topic == self.legacy.topics.status:
            return True
        parts = topic.split("/")
        return (
            len(parts) == 5
            and parts[0] == self.legacy.discovery_prefix
            and parts[2] == self.legacy.topics.room
            and parts[4] == "config"
        )

    async def handle(self, client: aiomqtt.Client, topic: str, payload: Any) -> None:
        if not payload:
            return  # already cleared (our own clearing comes back, too)
        old = self.legacy.topics
        if topic != old.status:
            if self.ours:
                await client.publish(topic, b"", qos=1, retain=True)  # HA removes the entity
            return
        if self.ours or _room_id(payload) != self.legacy.room_id:
            return
        self.ours = True
        for leftover in (old.availability, old.status):
            await client.publish(leftover, b"", qos=1, retain=True)
        await client.subscribe(f"{self.legacy.discovery_prefix}/+/{old.room}/+/config", qos=1)
        log.info(
            "fleet: cleared this room's retained topics under its old topic id",
            extra=kv(old=old.base),
        )


def _room_id(payload: Any) -> str | None:
    try:
        status = json.loads(payload)
    except (TypeError, ValueError):
        return None
    room = status.get("room") if isinstance(status, dict) else None
    return room.get("id") if isinstance(room, dict) else None
