"""Button events → actions and macros.

The press path adds no delay: the event is looked up and its action started in the same
tick. The one exception is a button bound both on press and on hold: its press action runs
on release unless the button was held (tap vs hold), so a hold never runs both. Held camera
moves start on press (or hold) and always get their stop on release — also when the start
failed or timed out, and when the panel disappears mid-hold.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import types
from collections.abc import Callable, Coroutine, Generator, Sequence
from dataclasses import dataclass, field
from typing import Any

import anyio
from anyio.abc import TaskGroup

from roomagent.config.model import BindingSection
from roomagent.config.vocab import ButtonPhase
from roomagent.control.actions import (
    Action,
    ActionError,
    ActionRunner,
    HeldAction,
    newest_wins,
    parse_action,
)
from roomagent.logsetup import kv

log = logging.getLogger(__name__)

# On release, how long the stop waits for a slow start to be answered before it is sent
# anyway (a muted camera must still get its stop promptly).
STOP_GRACE_SECONDS = 0.3

Key = tuple[str, int, str]  # (device, button, on: a ButtonPhase, hashed as its string)


@dataclass(frozen=True)
class Bound:
    """One binding, parsed: a single action or a macro."""

    steps: tuple[Action, ...]
    macro: bool

    @property
    def label(self) -> str:
        return "macro" if self.macro else self.steps[0].action

    def describe(self) -> str:
        """For people: `camera.preset camera=cam preset=1`, a macro's steps joined by `; `."""
        return "; ".join(
            " ".join(
                [step.action]
                + [
                    f"{k}={v}"
                    for k, v in step.model_dump(exclude={"action"}, exclude_defaults=True).items()
                    if k != "password"
                ]
            )
            for step in self.steps
        )

    @property
    def held(self) -> HeldAction | None:
        step = self.steps[0]
        return step if not self.macro and isinstance(step, HeldAction) else None


def build_table(bindings: Sequence[BindingSection]) -> dict[Key, Bound]:
    """Parse every binding once at load; the config checks already vouched for them."""
    table: dict[Key, Bound] = {}
    for binding in bindings:
        if isinstance(binding.action, str):
            bound = Bound((parse_action({"action": binding.action, **binding.params()}),), False)
        else:
            bound = Bound(tuple(parse_action(step) for step in binding.action), True)
        table.setdefault((binding.device, binding.button, binding.on), bound)
    return table


@dataclass
class _Held:
    action: HeldAction
    started: anyio.Event = field(default_factory=anyio.Event)


# report(device, button, label, the error or None, result): an action a button started ended
Report = Callable[[str, int, str, ActionError | None, str], None]
# busy(device, button, label): a press of a key whose action is still running was not started
Busy = Callable[[str, int, str], None]
Job = Callable[[], Coroutine[Any, Any, None]]


class Workers:
    """Tasks parked in the agent's task group, each running one job at a time and parking
    again when it is done. Waking a parked task costs a fraction of spawning one (anyio's
    start_soon was the largest step on a cold press path), so a steady room spawns none; a
    new one is spawned only when no parked task is left, after the job's first step."""

    MAX_IDLE = 4  # a burst of presses leaves at most this many parked

    def __init__(self, tg: TaskGroup) -> None:
        self._tg = tg
        self._idle: list[asyncio.Future[Job]] = []
        self._adding = False

    def run(self, job: Job, *, eager: bool = False) -> None:
        """Run `job` on a parked task. `eager`: its first step runs here and now, in the
        caller's callback, and only its rest goes to the task (a press's Rooms call is on
        the wire before this returns); the job must touch no anyio before its first wait."""
        if eager:
            coro = job()
            try:
                first = coro.send(None)
            except StopIteration:
                return  # done within this tick: no task needed

            async def rest() -> None:  # (a named coroutine function: anyio names tasks by it)
                await _resume(coro, first)

            # Handed over after the loop's next poll (timers come after I/O): what arrived
            # meanwhile, the answer's peer reading our frame among it, goes first.
            asyncio.get_running_loop().call_later(0, self._give_rest, rest, coro)
            return
        self._give(job)

    def _give_rest(self, rest: Job, coro: Coroutine[Any, Any, None]) -> None:
        try:
            self._give(rest)
        except RuntimeError:  # the task group closed meanwhile (shutdown): the rest is dropped
            coro.close()

    def _give(self, job: Job) -> None:
        while self._idle:
            parked = self._idle.pop()
            if not parked.done():  # (a cancelled one is gone with its task)
                parked.set_result(job)  # its step runs before the callback below: FIFO
                break
        else:
            self._tg.start_soon(job)
        if not self._idle and not self._adding:
            self._adding = True
            asyncio.get_running_loop().call_soon(self._add)

    def _add(self) -> None:
        try:
            self._tg.start_soon(self._work)
        except RuntimeError:  # the task group has closed (shutdown): none needed
            self._adding = False

    async def _work(self) -> None:
        self._adding = False
        loop = asyncio.get_running_loop()
        while len(self._idle) < self.MAX_IDLE:
            parked = loop.create_future()
            self._idle.append(parked)
            job = await parked
            await job()


@types.coroutine
def _resume(coro: Coroutine[Any, Any, None], waiting_on: Any) -> Generator[Any, Any, None]:
    """The rest of a coroutine whose first step ran outside any task: the task awaiting this
    waits for what that step waited for, then drives the coroutine as `await` would (values
    sent in, a cancellation thrown in)."""
    while True:
        try:
            sent = yield waiting_on
        except BaseException as exc:  # handed on, as `await` does
            try:
                waiting_on = coro.throw(exc)
            except StopIteration:
                return
            continue
        try:
            waiting_on = coro.send(sent)
        except StopIteration:
            return


class ButtonHandler:
    """Dispatches button events to the runner inside the agent's task group."""

    def __init__(
        self,
        table: dict[Key, Bound],
        runner: ActionRunner,
        tg: TaskGroup,
        report: Report,
        busy: Busy | None = None,
    ) -> None:
        self.table = table
        self.runner = runner
        self._tg = tg
        self._report = report
        self._on_busy = busy
        self._held: dict[tuple[str, int], _Held] = {}
        self._busy: set[Key] = set()
        self._taps: dict[tuple[str, int], bool] = {}  # pressed, waiting to be a tap or a hold
        self._workers = Workers(tg)

    def handle(self, device: str, button: int, kind: ButtonPhase) -> bool:
        """Act on one button event (sync, from a device watcher). True when something ran.
        (The phases are compared as their strings: an enum member's attribute lookup costs
        more than the comparison on the press path.)"""
        started = False
        if kind == "release":
            held = self._held.pop((device, button), None)
            if held is not None:
                self._tg.start_soon(self._stop, device, held)
                started = True
            if self._taps.pop((device, button), False):
                started = self._start(device, button, "press") or started
        elif kind == "hold":
            self._taps.pop((device, button), None)  # it is a hold, not a tap
        elif kind == "press" and self._is_tap_or_hold(device, button):
            # Short press vs long press (as on Crestron/Companion keypads): the press action
            # waits for the release so that holding runs only the hold action.
            self._taps[(device, button)] = True
            return True
        return self._start(device, button, kind) or started

    def _is_tap_or_hold(self, device: str, button: int) -> bool:
        press = self.table.get((device, button, "press"))
        return press is not None and press.held is None and (device, button, "hold") in self.table

    def _start(self, device: str, button: int, kind: str) -> bool:
        bound = self.table.get((device, button, kind))
        if bound is None:
            return False
        if bound.held is not None:
            if (device, button) not in self._held:  # a repeated hold keeps the one move going
                held = _Held(bound.held)
                self._held[(device, button)] = held
                self._tg.start_soon(self._start_held, device, button, held)
            return True
        key = (device, button, kind)
        if not bound.macro and newest_wins(bound.steps[0]):
            # Aiming a camera: every press runs, the camera's driver skips the unsent ones a
            # newer press made moot, so the camera ends where the last press points.
            self._spawn(functools.partial(self._run, None, bound, key), bound)
            return True
        if key in self._busy:
            # Not started again (a join in flight stays one join), but acknowledged: a press
            # that does nothing visible gets pressed harder, then reported as broken.
            if self._on_busy is not None:
                self._on_busy(device, button, bound.label)
            else:
                log.info("press ignored: still running", extra=kv(device=device, button=button))
            return False
        self._busy.add(key)
        self._spawn(functools.partial(self._run, key, bound, key), bound)
        return True

    def _spawn(self, job: Job, bound: Bound) -> None:
        self._workers.run(job, eager=not bound.macro and bound.steps[0].eager)

    def release_all(self, device: str) -> None:
        """The panel went away mid-hold: stop whatever its held buttons were moving."""
        for dev, button in [k for k in self._held if k[0] == device]:
            held = self._held.pop((dev, button))
            self._tg.start_soon(self._stop, device, held)

    async def stop_all(self) -> None:
        """Shutdown or restart: no release will come, so stop every held move now."""
        held, self._held = self._held, {}
        async with anyio.create_task_group() as tg:
            for (device, _), move in held.items():
                tg.start_soon(self._stop, device, move)

    async def _run(self, busy: Key | None, bound: Bound, key: Key) -> None:
        """Run a bound action; `busy` is the key held busy while it runs (None: not held)."""
        device, button, _ = key
        try:
            if bound.macro:
                result = await self.runner.run_macro(list(bound.steps))
            else:
                result = await self.runner.run(bound.steps[0])
        except ActionError as exc:
            self._report(device, button, bound.label, exc, "")
        else:
            self._report(device, button, bound.label, None, result)
        finally:
            if busy is not None:
                self._busy.discard(busy)

    async def _start_held(self, device: str, button: int, held: _Held) -> None:
        try:
            result = await self.runner.start_held(held.action)
        except ActionError as exc:
            self._report(device, button, held.action.action, exc, "")
        else:
            self._report(device, button, held.action.action, None, result)
        finally:
            held.started.set()

    async def _stop(self, device: str, held: _Held) -> None:
        with anyio.move_on_after(STOP_GRACE_SECONDS):
            await held.started.wait()
        await self.runner.stop(held.action)
        log.debug("held move stopped", extra=kv(device=device, camera=held.action.camera))


def describe_table(table: dict[Key, Bound]) -> list[dict[str, Any]]:
    """Bindings as plain dicts (for the demo's help text and the page)."""
    return [
        {"device": d, "button": b, "on": on, "action": bound.label, "text": bound.describe()}
        for (d, b, on), bound in sorted(table.items())
    ]
