"""Runs actions and macros against an ActionHost: one join and one booking change at a time,
timed camera moves that always get their stop, and Rooms params validated once per binding."""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

import anyio

from roomagent.control.actions.base import (
    ActionError,
    ActionFailed,
    ActionHost,
    ActionModel,
    ActionNotApplicable,
    RoomsRequest,
)
from roomagent.control.state import RoomState
from roomagent.logsetup import kv
from roomagent.rooms.errors import RoomsBadRequest
from roomagent.rooms.protocol import prepare_call

if TYPE_CHECKING:
    from roomagent.control.actions.calendar import CalendarAction
    from roomagent.control.actions.camera import HeldAction
    from roomagent.control.actions.meeting import JoinAction, MeetingAction

log = logging.getLogger("roomagent.control.actions")


@functools.lru_cache(maxsize=256)
def prepared_request(
    action: MeetingAction, state: RoomState, join_code: str | None = None
) -> RoomsRequest:
    """The action's Call/Meeting with its params validated against the Rooms models and its
    frame encoded once per distinct (action, state, code): a binding's action is the same
    object on every press, so the press path neither validates nor encodes (but the id)."""
    request = action.request(state, join_code)
    try:
        prepared = prepare_call(request.name, request.params)
    except RoomsBadRequest as exc:  # not cached: raised every time, as before
        raise ActionFailed(str(exc)) from None
    return RoomsRequest(request.name, prepared.params, prepared)


class ActionRunner:
    def __init__(self, host: ActionHost) -> None:
        self.host = host
        self._join_busy = False
        self._calendar_busy = False
        # Timed moves under way (token → move), so a shutdown can stop them before the
        # devices close; a move stopped that way is not stopped a second time.
        self._timed: dict[object, HeldAction] = {}

    def check(self, action: ActionModel) -> None:
        reason = action.refusal(self.host.room_state(), self._join_busy)
        if reason:
            raise ActionNotApplicable(reason)

    async def run(self, action: ActionModel) -> str:
        """Carry out one action; returns a short description of the outcome."""
        self.check(action)
        return await action.run(self)

    async def run_macro(
        self,
        steps: list[ActionModel],
        on_step: Callable[[ActionModel, str], Awaitable[None]] | None = None,
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

    # ---- what the action families call ----------------------------------------------------

    async def call(self, action: MeetingAction) -> str:
        return await self.host.rooms_call(prepared_request(action, self.host.room_state()))

    async def join(self, action: JoinAction) -> str:
        code = action.join_code(self.host)
        # Set before the first await so a second press in the same tick is already refused.
        self._join_busy = True
        self.host.set_join_in_flight(True)
        try:
            state = self.host.room_state()
            return await self.host.rooms_call(prepared_request(action, state, code))
        finally:
            self._join_busy = False
            self.host.set_join_in_flight(False)

    async def booking(self, action: CalendarAction) -> str:
        # One booking change at a time: two "book now" presses must not book the room twice.
        if self._calendar_busy:
            raise ActionNotApplicable("Booking change already in progress")
        self._calendar_busy = True
        try:
            return await action.change(self.host)
        finally:
            self._calendar_busy = False

    async def timed_move(self, action: HeldAction) -> str:
        """Not held by a button: move for a fixed time, then stop — the stop is always sent."""
        (command, args), _ = action.commands()
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
        (command, args), _ = action.commands()
        return await self.host.camera_command(action.camera, command, args)

    async def stop(self, action: HeldAction) -> None:
        """Send the movement's stop; failures are logged, never raised (best effort)."""
        _, stop = action.commands()
        assert stop is not None
        try:
            await self.host.camera_command(action.camera, *stop)
        except ActionError as exc:
            log.warning("camera stop failed", extra=kv(camera=action.camera, reason=exc.message))
