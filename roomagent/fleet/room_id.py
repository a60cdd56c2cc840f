"""This room's id in fleet topics, and the broker account that must match it.

The topic id follows the room's one id (`[room] id`, else the machine id), not its name: a
rename must not move the topics or make a second device in Home Assistant. The spec's "or a
slug of [room] name" is the rule this replaced (docs/fleet.md, "Room id"); legacy.py clears
what the old rule left on the broker.
"""

from __future__ import annotations

from roomagent.config.model import AgentConfig
from roomagent.control.status import room_id
from roomagent.fleet.topics import slug


def topic_id(config: AgentConfig) -> str:
    return slug(room_id(config))


def account_mismatch(config: AgentConfig) -> str | None:
    """Why the broker account will not get this room's topics with the shipped ACL (it gives
    an account the topics named as itself, `%u`), or None. Said at start and by check-config,
    before the broker quietly drops what the room publishes."""
    section = config.mqtt
    if section is None or not section.username or section.username == topic_id(config):
        return None
    source = "[room] id" if config.room.id else "the machine id ([room] id is not set)"
    return (
        f"the topic id {topic_id(config)!r} (from {source}) differs from the broker account "
        f"{section.username!r}; with the shipped ACL set [room] id = {section.username!r}"
    )
