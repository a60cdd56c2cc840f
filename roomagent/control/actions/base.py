"""The action registry's base: every action is one class (its parameters as pydantic fields,
when it applies, how it runs), registered when its class is defined.

An action class that forgets a part fails at import: a missing docstring (the docs' action
table reads it), `action` not a single-name Literal, a name used twice, or a part its family
marks as required (`@required`) left unimplemented.
"""

from __future__ import annotations

import sys
import typing
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Literal, Protocol, TypeVar

from pydantic import BaseModel, ConfigDict

from roomagent.control.state import RoomState
from roomagent.rooms.models import ActionParams
from roomagent.rooms.protocol import PreparedCall

if TYPE_CHECKING:
    from roomagent.control.actions.cloud import HuaweiInvite
    from roomagent.control.actions.runner import ActionRunner


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


@dataclass(frozen=True)
class RoomsRequest:
    """A Call/Meeting action with its action_params (a dict, or already validated)."""

    name: str
    params: dict[str, Any] | ActionParams
    prepared: PreparedCall | None = None  # validated and encoded (ActionRunner)


class ActionHost(Protocol):
    """What actions need from the room core; keeps actions free of the core's wiring."""

    def room_state(self) -> RoomState: ...

    async def rooms_call(self, request: RoomsRequest) -> str: ...

    async def camera_command(self, camera: str, command: str, args: list[Any]) -> str: ...

    def join_target(self) -> tuple[str, str] | None: ...

    def set_join_in_flight(self, flag: bool) -> None: ...

    async def book_room(self, minutes: int, title: str | None) -> str: ...

    async def end_booking(self) -> str: ...

    async def invite(self, action: HuaweiInvite) -> str: ...


F = TypeVar("F", bound=Callable[..., Any])


def required(func: F) -> F:
    """Marks a part every concrete action of a family must implement."""
    func.__required_part__ = True  # type: ignore[attr-defined]
    return func


# Every action by name, in the order the classes were defined (the docs' table order).
REGISTRY: dict[str, type[ActionModel]] = {}


class ActionModel(BaseModel):
    """Base of every action; abstract families start with an underscore."""

    # defer_build: an action's validator is built by its first parse (the bindings' at
    # start), so the actions no binding names cost nothing on an idle box (issue 10).
    model_config = ConfigDict(defer_build=True, extra="forbid", frozen=True)

    action: str
    # Moves while a button is held: started on press/hold, stopped on release.
    held: ClassVar[bool] = False
    # Only a step of a macro (delay).
    macro_only: ClassVar[bool] = False
    # The device kind a `camera`-style parameter must name, checked by check-config.
    device_kind: ClassVar[str | None] = None
    # Its first step (up to its first wait) may run in the press's own callback, outside any
    # task: it touches no anyio before that wait (anyio needs a current task). A Rooms call
    # then goes out in the tick its button's bytes arrived (bindings.Workers.run).
    eager: ClassVar[bool] = False

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        if cls.__name__.startswith("_"):
            return
        names = typing.get_args(cls.model_fields["action"].annotation)
        if (
            typing.get_origin(cls.model_fields["action"].annotation) is not Literal
            or len(names) != 1
        ):
            raise TypeError(f"{cls.__name__}: `action` must be Literal['<one name>']")
        name = names[0]
        if not (cls.__doc__ or "").strip() and sys.flags.optimize < 2:  # -OO drops docstrings
            raise TypeError(f"action {name}: no docstring (the docs' action table reads it)")
        # Dunders skipped: a deferred model's __pydantic_core_schema__ etc. are placeholders
        # that build the validator on any attribute read (defer_build above).
        missing = [
            part
            for part in dir(cls)
            if not part.startswith("__")
            and getattr(getattr(cls, part, None), "__required_part__", False)
        ]
        if missing:
            raise TypeError(f"action {name}: no {', '.join(missing)}() of its own")
        if name in REGISTRY:
            raise TypeError(f"action {name}: defined twice ({REGISTRY[name].__name__})")
        REGISTRY[name] = cls

    @classmethod
    def summary(cls) -> str:
        """The docstring's first paragraph on one line, for people (the docs' table)."""
        first = (cls.__doc__ or "").strip().split("\n\n")[0]
        return " ".join(line.strip() for line in first.splitlines())

    def newest_wins(self) -> bool:
        """A newer press supersedes a running one instead of being refused as busy (aiming a
        camera: a burst of presses ends where the last one points)."""
        return False

    @required
    def refusal(self, state: RoomState, join_busy: bool) -> str | None:
        """Why the room cannot do this now (a short line for the panel), or None."""
        raise NotImplementedError

    @required
    async def run(self, runner: ActionRunner) -> str:
        """Carry it out (the room already agreed); a short description of the outcome."""
        raise NotImplementedError
