"""Every action a button, macro or the API can run, one class each (actions.base): its
parameters, where it applies and how it runs. Adding an action is one class in the module of
its family; the registry, the API's action list, check-config and docs/actions.md follow.

An action is a dict such as `{"action": "camera.preset", "camera": "cam", "preset": 3}` — the
same shape as a `[[bindings]]` table, so config, macros and the web API share one schema.
"""

from __future__ import annotations

from roomagent.control.actions.base import (
    REGISTRY,
    ActionError,
    ActionFailed,
    ActionHost,
    ActionModel,
    ActionNotApplicable,
    ActionNotConfigured,
    ActionRefused,
    ActionSuperseded,
    RoomsRequest,
    result_of,
)
from roomagent.control.actions.calendar import (
    CalendarAction,
    CalendarBookNow,
    CalendarEndEarly,
    Delay,
)
from roomagent.control.actions.camera import (
    CameraAction,
    CameraHome,
    CameraMove,
    CameraPower,
    CameraPreset,
    CameraStop,
    CameraZoom,
    HeldAction,
)
from roomagent.control.actions.cloud import HuaweiInvite
from roomagent.control.actions.meeting import (
    JoinAction,
    MeetingAction,
    MeetingDissolve,
    MeetingJoin,
    MeetingJoinNext,
    MeetingLayout,
    MeetingLeave,
    MeetingLeaveWaitingRoom,
    MeetingStart,
)
from roomagent.control.actions.params import (
    describe_param,
    param_problems,
    param_rows,
    parse_action,
)
from roomagent.control.actions.runner import ActionRunner, prepared_request
from roomagent.control.state import RoomState

# The families registered their actions as they were imported; people read them meeting
# first (the API's list, check-config's "allowed:", the docs' table), in definition order.
FAMILY_ORDER = ("meeting", "camera", "calendar", "huawei", "delay")
for _name in sorted(REGISTRY, key=lambda name: FAMILY_ORDER.index(name.split(".")[0])):
    REGISTRY[_name] = REGISTRY.pop(_name)
# Every action's class by name.
ACTION_MODELS = REGISTRY
ACTION_NAMES = tuple(REGISTRY)
Action = ActionModel
HELD_ACTIONS = tuple(name for name, model in REGISTRY.items() if model.held)


def not_applicable_reason(
    action: ActionModel, state: RoomState, join_in_flight: bool
) -> str | None:
    """Why the room cannot do `action` now (a short line for the panel), or None."""
    return action.refusal(state, join_in_flight)


def rooms_request(
    action: MeetingAction, state: RoomState, join_code: str | None = None
) -> RoomsRequest:
    """The Call/Meeting for a meeting.* action (rooms-csapi.md §4)."""
    return action.request(state, join_code)


def newest_wins(action: ActionModel) -> bool:
    return action.newest_wins()


__all__ = [
    "ACTION_MODELS",
    "ACTION_NAMES",
    "HELD_ACTIONS",
    "Action",
    "ActionError",
    "ActionFailed",
    "ActionHost",
    "ActionModel",
    "ActionNotApplicable",
    "ActionNotConfigured",
    "ActionRefused",
    "ActionRunner",
    "ActionSuperseded",
    "CalendarAction",
    "CalendarBookNow",
    "CalendarEndEarly",
    "CameraAction",
    "CameraHome",
    "CameraMove",
    "CameraPower",
    "CameraPreset",
    "CameraStop",
    "CameraZoom",
    "Delay",
    "HeldAction",
    "HuaweiInvite",
    "JoinAction",
    "MeetingAction",
    "MeetingDissolve",
    "MeetingJoin",
    "MeetingJoinNext",
    "MeetingLayout",
    "MeetingLeave",
    "MeetingLeaveWaitingRoom",
    "MeetingStart",
    "RoomsRequest",
    "describe_param",
    "newest_wins",
    "not_applicable_reason",
    "param_problems",
    "param_rows",
    "parse_action",
    "prepared_request",
    "result_of",
    "rooms_request",
]
