"""Every action a button, macro or the API can run: its schema, where it applies, and how
it is carried out (a Call/Meeting on the Rooms session or a command to a camera).

An action is a dict such as `{"action": "camera.preset", "camera": "cam", "preset": 3}` — the
same shape as a `[[bindings]]` table, so config, macros and the web API share one schema.
"""

from __future__ import annotations

import functools
import logging
import types
import typing
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Literal, Protocol

import anyio
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError
from pydantic.fields import FieldInfo

from roomagent.control.cloud_actions import HuaweiInvite
from roomagent.control.state import RoomState
from roomagent.rooms.errors import RoomsBadRequest
from roomagent.rooms.models import ActionParams, validate_action

log = logging.getLogger(__name__)

# A panel's "book this room now" (issue 6: default 30 min; the calendar keeps the same default
# for direct callers, but a binding always passes its own).
DEFAULT_BOOK_MINUTES = 30


class ActionError(Exception):
    """An action that did not happen; `message` is a sentence for the panel and the log."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
        self.where = ""  # e.g. "step 3 (meeting.layout)" inside a macro

    def __str__(self) -> str:
        return f"{self.where}: {self.message}" if self.where else self.message


class ActionNotApplicable(ActionError):
    """Refused locally: the room is not in a state where the action makes sense."""


class ActionNotConfigured(ActionNotApplicable):
    """Refused locally because the room lacks a part the binding needs (no calendar): a
    setup fault for the facilities engineer, where a plain not-applicable is a wrong press."""


class ActionFailed(ActionError):
    """Tried and failed: a device erred, the link dropped, or a timeout."""


class ActionRefused(ActionFailed):
    """The Rooms client refused it (its own words in `message`)."""


class ActionSuperseded(ActionError):
    """Skipped for a newer press aiming the camera elsewhere (newest press wins)."""


def result_of(error: ActionError | None) -> str:
    """The result an action is counted under (roomagent_actions_total{result})."""
    if error is None:
        return "ok"
    if isinstance(error, ActionNotApplicable):
        return "not_applicable"
    if isinstance(error, ActionRefused):
        return "refused"
    if isinstance(error, ActionSuperseded):
        return "busy"  # the camera was busy with a newer press: dropped, as a busy press is
    return "failed"


class _Action(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class MeetingStart(_Action):
    action: Literal["meeting.start"]
    meeting_type: Literal["instant", "pmi"] = "instant"


class MeetingJoin(_Action):
    action: Literal["meeting.join"]
    meeting_code: str = Field(
        pattern=r"^[0-9][0-9 \-]{4,18}[0-9]$",
        description='a quoted string of 6-20 digits, e.g. "123456789"',
    )
    password: str = ""
    mic_enable: bool = True
    camera_enable: bool = True


class MeetingJoinNext(_Action):
    """Join the current or next booked meeting that carries a meeting code (calendar)."""

    action: Literal["meeting.join_next"]
    mic_enable: bool = True
    camera_enable: bool = True


class MeetingLeave(_Action):
    action: Literal["meeting.leave"]


class MeetingDissolve(_Action):
    action: Literal["meeting.dissolve"]


class MeetingLeaveWaitingRoom(_Action):
    action: Literal["meeting.leave_waiting_room"]


class MeetingLayout(_Action):
    action: Literal["meeting.layout"]
    switch_type: int = Field(ge=1, le=7)
    show_voice_active: bool | None = None


class CameraPreset(_Action):
    action: Literal["camera.preset"]
    camera: str
    preset: int = Field(ge=0, le=255)
    mode: Literal["recall", "set"] = "recall"  # "set" stores the current position


class CameraMove(_Action):
    """Held on a button: move on press, stop on release. Elsewhere: move for `seconds`."""

    action: Literal["camera.move"]
    camera: str
    direction: Literal[
        "left", "right", "up", "down", "up_left", "up_right", "down_left", "down_right"
    ]
    speed: int | None = Field(
        default=None, ge=0, le=63, description="a speed 0-63 within the camera profile's range"
    )
    seconds: float = Field(default=0.5, gt=0, le=10)


class CameraZoom(_Action):
    action: Literal["camera.zoom"]
    camera: str
    direction: Literal["tele", "wide"]
    speed: int | None = Field(default=None, ge=0, le=7)
    seconds: float = Field(default=0.5, gt=0, le=10)


class CameraStop(_Action):
    """Stop pan/tilt and zoom (for an API client that drives moves itself)."""

    action: Literal["camera.stop"]
    camera: str


class CameraHome(_Action):
    action: Literal["camera.home"]
    camera: str


class CameraPower(_Action):
    action: Literal["camera.power"]
    camera: str
    state: Literal["on", "off"]


class CalendarBookNow(_Action):
    """Book this room from now in the room calendar (shortened to the next booking)."""

    action: Literal["calendar.book_now"]
    minutes: int = Field(default=DEFAULT_BOOK_MINUTES, ge=15, le=240)
    title: str | None = Field(
        default=None,
        pattern=r"\S",
        max_length=100,
        description="a title of 1-100 characters, not blank",
    )


class CalendarEndEarly(_Action):
    """End the booking in progress now (its end moves to now)."""

    action: Literal["calendar.end_early"]


class Delay(_Action):
    """Only inside a macro: wait before the next step."""

    action: Literal["delay"]
    seconds: float = Field(gt=0, le=60)


Action = Annotated[
    MeetingStart
    | MeetingJoin
    | MeetingJoinNext
    | MeetingLeave
    | MeetingDissolve
    | MeetingLeaveWaitingRoom
    | MeetingLayout
    | CameraPreset
    | CameraMove
    | CameraZoom
    | CameraStop
    | CameraHome
    | CameraPower
    | CalendarBookNow
    | CalendarEndEarly
    | HuaweiInvite
    | Delay,
    Field(discriminator="action"),
]
ACTION_MODELS: dict[str, type[BaseModel]] = {
    typing.get_args(m.model_fields["action"].annotation)[0]: m
    for m in typing.get_args(typing.get_args(Action)[0])
}
ACTION_NAMES = tuple(ACTION_MODELS)
_ADAPTER: TypeAdapter[Action] = TypeAdapter(Action)

CameraAction = CameraPreset | CameraMove | CameraZoom | CameraStop | CameraHome | CameraPower


def newest_wins(action: Action) -> bool:
    """Actions a newer press supersedes instead of being refused as busy: aiming a camera.
    A burst of preset presses ends at the last one pressed (the driver skips unsent ones)."""
    if isinstance(action, CameraPreset):
        return action.mode == "recall"
    return isinstance(action, CameraHome)


HeldAction = CameraMove | CameraZoom
JoinAction = MeetingStart | MeetingJoin | MeetingJoinNext
CalendarAction = CalendarBookNow | CalendarEndEarly


# ---- validation with messages that say what is allowed -------------------------------------


def describe_param(info: FieldInfo) -> str:
    """What a parameter accepts, in words: "an integer 1-7", "one of 'tele', 'wide'"."""
    if info.description:
        return info.description
    ann = info.annotation
    args = [a for a in typing.get_args(ann) if a is not type(None)]
    if typing.get_origin(ann) is Literal:
        return "one of " + ", ".join(repr(a) for a in typing.get_args(ann))
    if typing.get_origin(ann) in (typing.Union, types.UnionType) and args:
        return " or ".join(describe_param(FieldInfo(annotation=a)) for a in args)
    bounds = {type(m).__name__: m for m in info.metadata}
    # `is None`, not `or`: a lower bound of 0 is falsy but real.
    low = getattr(bounds.get("Ge"), "ge", None)
    if low is None:
        gt = getattr(bounds.get("Gt"), "gt", None)
        low = None if gt is None else gt + 1
    high = getattr(bounds.get("Le"), "le", None)
    if ann is bool:
        return "true or false"
    if ann is int:
        if high is None:
            return "an integer" if low is None else f"an integer from {low}"
        return f"an integer {low}-{high}" if low is not None else f"an integer up to {high}"
    if ann is float:
        return f"a number of seconds up to {high}" if high is not None else "a number"
    return "a string"


def param_problems(
    data: Mapping[str, Any], *, strict: bool = False
) -> list[tuple[tuple[str, ...], str]]:
    """Problems with one action dict, as (key path inside the dict, message). `strict`: no
    coercion (a config file's `preset = "3"` is an error, as every config value is)."""
    name = data.get("action")
    if not isinstance(name, str) or name not in ACTION_MODELS:
        return [(("action",), f"unknown action {name!r}; allowed: {', '.join(ACTION_NAMES)}")]
    model = ACTION_MODELS[name]
    try:
        model.model_validate(dict(data), strict=strict)
    except ValidationError as exc:
        problems: list[tuple[tuple[str, ...], str]] = []
        params = [p for p in model.model_fields if p != "action"]
        for err in exc.errors():
            if not err["loc"]:  # a rule over several parameters (a model validator)
                problems.append(
                    (("action",), f"{name}: {err['msg'].removeprefix('Value error, ')}")
                )
                continue
            key = str(err["loc"][0])
            field = model.model_fields.get(key)
            if err["type"] == "extra_forbidden":
                allowed = ", ".join(params) or "none"
                msg = f"{name} has no parameter {key!r}; allowed: {allowed}"
            elif err["type"] == "missing" and field is not None:
                msg = f"{name} needs {key!r}: {describe_param(field)}"
            elif field is not None:
                shown = "" if key == "password" else f" (got {err.get('input')!r})"
                msg = f"{name}: {key!r} must be {describe_param(field)}{shown}"
            else:
                msg = f"{name}: {err['msg']}"
            problems.append(((key,), msg))
        return problems
    return []


def parse_action(data: Mapping[str, Any]) -> Action:
    """Validate an action dict; ActionFailed names the first problem in plain words."""
    problems = param_problems(data)
    if problems:
        raise ActionFailed(problems[0][1])
    # A meeting passcode is masked by its field (logsetup.scrub, rooms.models.masked), not
    # registered: a registered "456" would mask it inside every meeting code too.
    return _ADAPTER.validate_python(dict(data))


# ---- where an action applies ------------------------------------------------------------


def not_applicable_reason(action: Action, state: RoomState, join_in_flight: bool) -> str | None:
    """Why the room cannot do `action` now (a short line for the panel), or None."""
    if isinstance(action, CameraAction | CalendarAction | HuaweiInvite | Delay):
        return None  # the camera, the calendar and the clouds do not need the Rooms client
    if state is RoomState.ROOMS_OFFLINE:
        return "Rooms client offline"
    if isinstance(action, JoinAction):
        if join_in_flight or state is RoomState.JOINING:
            return "Join already in progress"
        if state is not RoomState.IDLE:
            return "Already in a meeting"
        return None
    if isinstance(action, MeetingLeaveWaitingRoom):
        return None if state is RoomState.WAITING_ROOM else "Not in the waiting room"
    if isinstance(action, MeetingLeave):
        # Leave in the waiting room means "leave the waiting room": what a person expects.
        ok = (RoomState.IN_MEETING, RoomState.WAITING_ROOM)
        return None if state in ok else "Not in a meeting"
    return None if state is RoomState.IN_MEETING else "Not in a meeting"


# ---- carrying actions out ----------------------------------------------------------------


@dataclass(frozen=True)
class RoomsRequest:
    """A Call/Meeting action with its action_params (a dict, or already validated)."""

    name: str
    params: dict[str, Any] | ActionParams


def rooms_request(action: Action, state: RoomState, join_code: str | None = None) -> RoomsRequest:
    """The Call/Meeting for a meeting.* action (rooms-csapi.md §4)."""
    match action:
        case MeetingStart():
            return RoomsRequest("StartMeeting", {"meeting_type": action.meeting_type})
        case MeetingJoin():
            return RoomsRequest(
                "JoinMeeting",
                {
                    "meeting_code": action.meeting_code.replace(" ", "").replace("-", ""),
                    "password": action.password,
                    "mic_enable": action.mic_enable,
                    "camera_enable": action.camera_enable,
                },
            )
        case MeetingJoinNext():
            params: dict[str, Any] = {"meeting_code": join_code or "", "password": ""}
            params |= {"mic_enable": action.mic_enable, "camera_enable": action.camera_enable}
            return RoomsRequest("JoinMeeting", params)
        case MeetingLeave():
            name = "LeaveWaitingRoom" if state is RoomState.WAITING_ROOM else "LeaveMeeting"
            return RoomsRequest(name, {})
        case MeetingDissolve():
            return RoomsRequest("DissolveMeeting", {})
        case MeetingLeaveWaitingRoom():
            return RoomsRequest("LeaveWaitingRoom", {})
        case MeetingLayout():
            layout: dict[str, Any] = {"switch_type": action.switch_type}
            if action.show_voice_active is not None:
                layout["show_voice_active"] = action.show_voice_active
            return RoomsRequest("SwitchLayout", layout)
    raise ValueError(f"{action.action} is not a meeting action")


@functools.lru_cache(maxsize=256)
def prepared_request(
    action: Action, state: RoomState, join_code: str | None = None
) -> RoomsRequest:
    """rooms_request with its params validated against the Rooms models once per distinct
    (action, state, code): a binding's action is the same object on every press, so the
    press path does no pydantic validation (the session skips validated params)."""
    request = rooms_request(action, state, join_code)
    try:
        _, params = validate_action(request.name, request.params)
    except RoomsBadRequest as exc:  # not cached: raised every time, as before
        raise ActionFailed(str(exc)) from None
    return RoomsRequest(request.name, params)


def camera_commands(
    action: CameraAction,
) -> tuple[tuple[str, list[Any]], tuple[str, list[Any]] | None]:
    """The device command for a camera action, and the stop that must follow a movement."""
    match action:
        case CameraPreset():
            return (f"preset_{action.mode}", [action.preset]), None
        case CameraMove():
            speeds = [] if action.speed is None else [action.speed, action.speed]
            return ("pt_drive", [action.direction, *speeds]), ("pt_stop", [])
        case CameraZoom():
            speed = [] if action.speed is None else [action.speed]
            return (f"zoom_{action.direction}", speed), ("zoom_stop", [])
        case CameraStop():
            return ("pt_stop", []), ("zoom_stop", [])
        case CameraHome():
            return ("home", []), None
        case CameraPower():
            return (f"power_{action.state}", []), None
    raise ValueError(f"{action.action} is not a camera action")


class ActionHost(Protocol):
    """What the runner needs from the agent; keeps actions free of the agent's wiring."""

    def room_state(self) -> RoomState: ...

    async def rooms_call(self, request: RoomsRequest) -> str: ...

    async def camera_command(self, camera: str, command: str, args: list[Any]) -> str: ...

    def join_target(self) -> tuple[str, str] | None: ...

    def set_join_in_flight(self, flag: bool) -> None: ...

    async def book_room(self, minutes: int, title: str | None) -> str: ...

    async def end_booking(self) -> str: ...

    async def invite(self, action: HuaweiInvite) -> str: ...


class ActionRunner:
    """Runs actions and macros against an ActionHost; one join at a time."""

    def __init__(self, host: ActionHost) -> None:
        self.host = host
        self._join_busy = False
        self._calendar_busy = False
        # Timed moves under way (token → move), so a shutdown can stop them before the
        # devices close; a move stopped that way is not stopped a second time.
        self._timed: dict[object, HeldAction] = {}

    def check(self, action: Action) -> None:
        state = self.host.room_state()
        reason = not_applicable_reason(action, state, self._join_busy)
        if reason:
            raise ActionNotApplicable(reason)

    async def run(self, action: Action) -> str:
        """Carry out one action; returns a short description of the outcome."""
        self.check(action)
        if isinstance(action, Delay):
            await anyio.sleep(action.seconds)
            return f"waited {action.seconds:g} s"
        if isinstance(action, CameraAction):
            return await self._camera(action)
        if isinstance(action, JoinAction):
            return await self._join(action)
        if isinstance(action, CalendarAction):
            return await self._calendar(action)
        if isinstance(action, HuaweiInvite):
            return await self.host.invite(action)
        state = self.host.room_state()
        return await self.host.rooms_call(prepared_request(action, state))

    async def _join(self, action: JoinAction) -> str:
        code = None
        if isinstance(action, MeetingJoinNext):
            target = self.host.join_target()
            if target is None:
                raise ActionNotApplicable("No booked meeting with a code")
            code = target[0]
        # Set before the first await so a second press in the same tick is already refused.
        self._join_busy = True
        self.host.set_join_in_flight(True)
        try:
            state = self.host.room_state()
            return await self.host.rooms_call(prepared_request(action, state, code))
        finally:
            self._join_busy = False
            self.host.set_join_in_flight(False)

    async def _calendar(self, action: CalendarAction) -> str:
        # One booking change at a time: two "book now" presses must not book the room twice.
        if self._calendar_busy:
            raise ActionNotApplicable("Booking change already in progress")
        self._calendar_busy = True
        try:
            if isinstance(action, CalendarBookNow):
                return await self.host.book_room(action.minutes, action.title)
            return await self.host.end_booking()
        finally:
            self._calendar_busy = False

    async def _camera(self, action: CameraAction) -> str:
        (command, args), stop = camera_commands(action)
        if stop is None:
            return await self.host.camera_command(action.camera, command, args)
        if isinstance(action, CameraStop):
            # Both stops, each sent whatever happened to the other.
            try:
                await self.host.camera_command(action.camera, command, args)
            finally:
                await self.host.camera_command(action.camera, *stop)
            return "stopped"
        # Not held by a button: move for a fixed time, then stop — the stop is always sent.
        assert isinstance(action, HeldAction)
        token = object()
        self._timed[token] = action
        try:
            await self.host.camera_command(action.camera, command, args)
            await anyio.sleep(action.seconds)
        finally:
            if self._timed.pop(token, None) is not None:
                with anyio.CancelScope(shield=True):
                    await self.stop(action)
        return f"{command} for {action.seconds:g} s"

    async def stop_timed(self) -> None:
        """Send the stop of every timed move still running (shutdown, restart)."""
        moves, self._timed = list(self._timed.values()), {}
        async with anyio.create_task_group() as tg:
            for move in moves:
                tg.start_soon(self.stop, move)

    async def start_held(self, action: HeldAction) -> str:
        (command, args), _ = camera_commands(action)
        return await self.host.camera_command(action.camera, command, args)

    async def stop(self, action: HeldAction) -> None:
        """Send the movement's stop; failures are logged, never raised (best effort)."""
        _, stop = camera_commands(action)
        assert stop is not None
        try:
            await self.host.camera_command(action.camera, *stop)
        except ActionError as exc:
            log.warning(
                "camera stop failed",
                extra={"fields": {"camera": action.camera, "reason": exc.message}},
            )

    async def run_macro(
        self, steps: list[Action], on_step: Callable[[Action, str], Awaitable[None]] | None = None
    ) -> str:
        """Run steps in order; the first failing step stops the macro (ActionError)."""
        for index, step in enumerate(steps, start=1):
            try:
                result = await self.run(step)
            except ActionError as exc:
                exc.where = f"step {index} ({step.action})"
                raise
            if on_step is not None:
                await on_step(step, result)
        return f"macro of {len(steps)} steps done"
