"""Requests in flight on a session: correlated by id, each waiting for its answer or outcome.

A response is matched to its request; one that comes after its request timed out is "late"
(remembered for EXPIRED_IDS_KEPT ids), any other is "unknown". Both are counted, never fatal.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Callable
from typing import Protocol

from roomagent.logsetup import kv
from roomagent.rooms.errors import RoomsError, RoomsTimeout
from roomagent.rooms.models import RoomsEvent
from roomagent.rooms.protocol import BadFrame, Response
from roomagent.waits import wait_set

log = logging.getLogger("roomagent.rooms")

EXPIRED_IDS_KEPT = 256  # timed-out ids remembered to tell "late" from "unknown" replies


class Pending:
    """One request waiting for its response."""

    __slots__ = ("done", "error", "response", "what")

    def __init__(self, what: str) -> None:
        self.what = what
        # asyncio's own Event: an anyio one costs a backend look-up per creation, one per
        # call on the press path (the agent runs on anyio's asyncio backend).
        self.done = asyncio.Event()
        self.response: Response | None = None
        self.error: RoomsError | None = None

    def fail(self, error: RoomsError) -> None:
        if not self.done.is_set():
            self.error = error
            self.done.set()

    async def wait(self, seconds: float, on_expiry: Callable[[], RoomsError]) -> None:
        """Until answered or failed; after `seconds`, failed with `on_expiry()`'s error."""
        await wait_set(self.done, seconds, lambda: self._expire(on_expiry))

    def _expire(self, on_expiry: Callable[[], RoomsError]) -> None:
        if not self.done.is_set():
            self.fail(on_expiry())


class OutcomeWaiter(Pending):
    """A call(wait=True) waiting for its outcome event."""

    __slots__ = ("event", "names")

    def __init__(self, action: str, names: frozenset[str]) -> None:
        super().__init__(action)
        self.names = names
        self.event: RoomsEvent | None = None


class Timed(Protocol):
    """The session's side of a timeout: its limits and counters."""

    call_timeout: float
    outcome_timeout: float
    counters: dict[str, int]


class InFlight:
    """The requests and outcome waits of one session."""

    def __init__(self) -> None:
        self.pending: dict[str, Pending] = {}
        self.outcomes: dict[str, OutcomeWaiter] = {}
        self._expired: OrderedDict[str, None] = OrderedDict()

    def answered(self, frame: Response, counters: dict[str, int]) -> None:
        pending = self.pending.pop(frame.id, None)
        if pending is not None:
            pending.response = frame
            pending.done.set()
        elif frame.id in self._expired:
            counters["late_responses"] += 1
            log.info("rooms late response dropped", extra=kv(id=frame.id))
        else:
            counters["unknown_ids"] += 1
            log.warning("rooms response to unknown id dropped", extra=kv(id=frame.id))

    def malformed(self, frame: BadFrame) -> None:
        pending = self.pending.pop(frame.id, None) if frame.id else None
        if pending is not None:
            pending.fail(RoomsError(f"malformed reply to {pending.what}: {frame.reason}"))

    def expire(self, req_id: str) -> None:
        self._expired[req_id] = None
        while len(self._expired) > EXPIRED_IDS_KEPT:
            self._expired.popitem(last=False)

    def no_answer(self, req_id: str, what: str, session: Timed) -> RoomsTimeout:
        """A request's answer did not come in time: its id is remembered as expired."""
        session.counters["timeouts"] += 1
        self.expire(req_id)
        limit = session.call_timeout
        return RoomsTimeout(f"no answer from the Rooms client to {what} within {limit:g} s")

    def no_outcome(self, name: str, session: Timed) -> RoomsTimeout:
        session.counters["timeouts"] += 1
        limit = session.outcome_timeout
        return RoomsTimeout(f"{name} was accepted but no outcome event came within {limit:g} s")

    def wake(self, event: RoomsEvent) -> None:
        for waiter in list(self.outcomes.values()):
            if event.name in waiter.names and not waiter.done.is_set():
                waiter.event = event
                waiter.done.set()

    def drop(self, error: RoomsError) -> None:
        """Disconnect: every pending call and outcome wait fails at once."""
        for pending in [*self.pending.values(), *self.outcomes.values()]:
            pending.fail(error)
        self.pending.clear()
