"""Rooms (Tencent Meeting Rooms CSAPI) client: wire models, protocol, session, mirror."""

from roomagent.rooms.errors import (
    RoomsAuthFailed,
    RoomsBadRequest,
    RoomsDisconnected,
    RoomsError,
    RoomsRefused,
    RoomsTimeout,
    RoomsUnreachable,
)
from roomagent.rooms.link import LinkState, RoomsChange
from roomagent.rooms.mirror import MeetingMirror
from roomagent.rooms.models import (
    ACTIONS,
    MeetingModule,
    MeetingStatus,
    RoleType,
    RoomsEvent,
    SwitchType,
    masked,
    resolve_action,
)
from roomagent.rooms.session import RoomsSession

__all__ = [
    "ACTIONS",
    "LinkState",
    "MeetingMirror",
    "MeetingModule",
    "MeetingStatus",
    "RoleType",
    "RoomsAuthFailed",
    "RoomsBadRequest",
    "RoomsChange",
    "RoomsDisconnected",
    "RoomsError",
    "RoomsEvent",
    "RoomsRefused",
    "RoomsSession",
    "RoomsTimeout",
    "RoomsUnreachable",
    "SwitchType",
    "masked",
    "resolve_action",
]
