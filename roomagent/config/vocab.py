"""The room's shared vocabularies: one enum each, used by every package (config, devices,
the room core, the API, the fleet, the simulators).

They sit at the bottom because the config names some of them (`on = "hold"`, `when =
"in_meeting"`), the devices report button phases and the simulators speak all of them. Each
is a StrEnum: its members are the wire strings (TOML, JSON, MQTT), so a member compares and
hashes as its string and dumps as it. control/model.py re-exports them with the room model.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable


class ButtonPhase(enum.StrEnum):
    """What a button did: one vocabulary for panels, bindings, the API and history events."""

    PRESS = "press"
    HOLD = "hold"
    RELEASE = "release"


class RoomState(enum.StrEnum):
    """What the room is doing (control/state.py derives it)."""

    IDLE = "idle"
    JOINING = "joining"
    IN_MEETING = "in_meeting"
    WAITING_ROOM = "waiting_room"
    ROOMS_OFFLINE = "rooms_offline"


class MeetingState(enum.StrEnum):
    """`meeting.status`: the Rooms client's meeting status, or UNKNOWN while the link to the
    Rooms client is not ready (a meeting seen before the link dropped may have ended)."""

    IDLE = "idle"
    IN_MEETING = "in_meeting"
    JOINING = "joining"
    WAITING_ROOM = "waiting_room"
    SCREEN_CAST = "screen_cast"
    PSTN_CALL = "pstn_call"
    UNKNOWN = "unknown"


class RoomCondition(enum.StrEnum):
    """What a feedback rule may name in `when`: each room state, and `device_offline` (true
    while any device of the room is offline). An enum cannot extend another, so the states
    are named from RoomState (tests/config/test_vocab.py checks that none is left out)."""

    IDLE = RoomState.IDLE.value
    JOINING = RoomState.JOINING.value
    IN_MEETING = RoomState.IN_MEETING.value
    WAITING_ROOM = RoomState.WAITING_ROOM.value
    ROOMS_OFFLINE = RoomState.ROOMS_OFFLINE.value
    DEVICE_OFFLINE = "device_offline"


# The `[mqtt] allow_actions` entry that lets the fleet press virtual buttons (beside actions).
FLEET_PRESS = "press"


def spoken(words: Iterable[str]) -> str:
    """("press", "hold", "release") → "press, hold or release" (choices in an error)."""
    items = list(words)
    return " or ".join(filter(None, (", ".join(items[:-1]), items[-1]))) if items else ""
