"""Topic names of the fleet plane: `{prefix}/{site}/{room}/{kind}` (spec fleet.md, Topics)."""

from __future__ import annotations

import re
from dataclasses import dataclass

KINDS = ("availability", "status", "events", "cmd", "cmd/result")
ONLINE = "online"
OFFLINE = "offline"
_NOT_SLUG = re.compile(r"[^a-z0-9_\-]+")


def slug(name: str) -> str:
    """A room name as a topic level and HA node id: "Huddle 3A" → "huddle-3a"."""
    return _NOT_SLUG.sub("-", name.lower()).strip("-") or "room"


@dataclass(frozen=True)
class RoomTopics:
    prefix: str
    site: str
    room: str

    @property
    def base(self) -> str:
        return f"{self.prefix}/{self.site}/{self.room}"

    @property
    def availability(self) -> str:
        return f"{self.base}/availability"

    @property
    def status(self) -> str:
        return f"{self.base}/status"

    @property
    def events(self) -> str:
        return f"{self.base}/events"

    @property
    def cmd(self) -> str:
        return f"{self.base}/cmd"

    @property
    def cmd_result(self) -> str:
        return f"{self.base}/cmd/result"


@dataclass(frozen=True)
class TopicName:
    """A parsed fleet topic."""

    site: str
    room: str
    kind: str


def parse_topic(prefix: str, topic: str) -> TopicName | None:
    """`roomagent/hq/huddle-3a/cmd/result` → (hq, huddle-3a, cmd/result); None if not ours."""
    head = prefix + "/"
    if not topic.startswith(head):
        return None
    parts = topic[len(head) :].split("/", 2)
    if len(parts) != 3 or parts[2] not in KINDS or not parts[0] or not parts[1]:
        return None
    return TopicName(parts[0], parts[1], parts[2])


def fleet_filters(
    prefix: str, site: str | None = None, kinds: tuple[str, ...] = KINDS
) -> list[str]:
    """Subscription filters for every room (of one site) and the given kinds."""
    level = site or "+"
    return [f"{prefix}/{level}/+/{kind}" for kind in kinds]
