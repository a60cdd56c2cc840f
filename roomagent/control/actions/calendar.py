"""Calendar actions (the room calendar: book now, end early) and the macro-only delay."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, Literal

import anyio
from pydantic import Field

from roomagent.control.actions.base import ActionHost, ActionModel, required
from roomagent.control.state import RoomState

if TYPE_CHECKING:
    from roomagent.control.actions.runner import ActionRunner

# A panel's "book this room now" (issue 6: default 30 min; the calendar keeps the same default
# for direct callers, but a binding always passes its own).
DEFAULT_BOOK_MINUTES = 30


class _CalendarAction(ActionModel):
    def refusal(self, state: RoomState, join_busy: bool) -> str | None:
        return None  # the calendar does not need the Rooms client

    @required
    async def change(self, host: ActionHost) -> str:
        """The booking change itself (the runner allows one at a time)."""
        raise NotImplementedError

    async def run(self, runner: ActionRunner) -> str:
        return await runner.booking(self)


class CalendarBookNow(_CalendarAction):
    """Book this room from now in the room calendar (shortened to the next booking)."""

    action: Literal["calendar.book_now"]
    minutes: int = Field(default=DEFAULT_BOOK_MINUTES, ge=15, le=240)
    title: str | None = Field(
        default=None,
        pattern=r"\S",
        max_length=100,
        description="a title of 1-100 characters, not blank",
    )

    async def change(self, host: ActionHost) -> str:
        return await host.book_room(self.minutes, self.title)


class CalendarEndEarly(_CalendarAction):
    """End the booking in progress now (its end moves to now)."""

    action: Literal["calendar.end_early"]

    async def change(self, host: ActionHost) -> str:
        return await host.end_booking()


class Delay(ActionModel):
    """Only inside a macro: wait before the next step."""

    action: Literal["delay"]
    macro_only: ClassVar[bool] = True
    seconds: float = Field(gt=0, le=60)

    def refusal(self, state: RoomState, join_busy: bool) -> str | None:
        return None

    async def run(self, runner: ActionRunner) -> str:
        await anyio.sleep(self.seconds)
        return f"waited {self.seconds:g} s"


CalendarAction = _CalendarAction
