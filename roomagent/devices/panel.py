"""Panel driver: the line family (Kramer P3000, Lutron, generic ASCII…) from its profile."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import anyio

from roomagent.config.vocab import ButtonPhase
from roomagent.devices.base import CommandSpec, DeviceEvent, Driver, Link, parse_int
from roomagent.devices.errors import DeviceError, DeviceTimeout
from roomagent.devices.families import Family, register
from roomagent.devices.line import LineDialect, LineEvent, LineFramer
from roomagent.devices.profiles import Profile, Range
from roomagent.waits import wait_set

PANEL_SPECS = (
    CommandSpec("led", ("N", "on|off|blink", "[COLOUR]")),
    CommandSpec("text", ("LINE", "STRING")),
)
_TEXT_LINES = Range(min=0, max=99)
PREPARED_COMMANDS = 256  # LED and text commands remembered, rendered (then forgotten at once)


Led = tuple[str, str | None]  # (on|off|blink, colour name or None)


@dataclass(frozen=True)
class PanelCommand:
    line: str
    expect_reply: bool
    led: tuple[int, Led] | None = None  # what the panel shows once it took the command
    text: tuple[int, str] | None = None


class _Waiter:
    """The one outstanding exchange: a reply line (ack/error) or a line matching `expect`.

    `any_frame`: a keepalive, which any valid frame from the panel answers (a panel busy
    sending presses, or answering with an ack or an error, is alive all the same)."""

    def __init__(self, expect: re.Pattern[str] | None, any_frame: bool = False) -> None:
        self.expect = expect
        self.any_frame = any_frame
        self.event = asyncio.Event()  # (not anyio's: no backend look-up per LED command)
        self.error: DeviceError | None = None
        self.line = ""
        self.resolved = False

    def resolve(self, line: str, error: DeviceError | None = None) -> None:
        self.line, self.error, self.resolved = line, error, True
        self.event.set()

    async def wait(self, seconds: float) -> bool:
        """Until resolved (True) or `seconds` passed (False)."""
        await wait_set(self.event, seconds)
        return self.resolved


class LineDriver(Driver):
    kind: Literal["camera", "panel"] = "panel"
    specs = PANEL_SPECS
    framer: LineFramer

    def __init__(self, profile: Profile, address: int, link: Link) -> None:
        super().__init__(profile, address, link)
        assert profile.line is not None
        self.section = profile.line
        self.dialect = LineDialect(profile.line, address)
        self.framer = self.dialect.framer()
        # One exchange at a time: replies carry no correlation id. fast_acquire: a free lock
        # is taken without a trip through the event loop (an LED frame goes out at once).
        self._lock = anyio.Lock(fast_acquire=True)
        self._waiter: _Waiter | None = None
        self._pressed: dict[int, int] = {}  # button → press serial (for synthesised hold)
        self._held: set[int] = set()  # holds already reported for the current press
        self._press_serial = 0
        # Synthesised-hold timers per pressed button: a loop timer, not a task per press (a
        # task spawn on the press path costs more than the press's own parsing).
        self._hold_timers: dict[int, asyncio.TimerHandle] = {}
        self.counters.update(unknown_lines=0, buttons=0, out_of_order=0, keepalive_misses=0)
        # What the panel shows, as far as it took our commands (a reconnect forgets it).
        self.leds: dict[int, Led] = {}
        self.texts: dict[int, str] = {}
        self._prepared: dict[tuple[Any, ...], PanelCommand] = {}

    # ---- commands ----

    def prepare(self, name: str, args: Sequence[Any], kw: dict[str, Any]) -> PanelCommand:
        # The feedback sends the same few LED and text commands again and again: each is
        # checked and rendered once (a command's arguments alone decide its line).
        try:
            # (typed: True and 1 hash alike, and only one of them is an LED number)
            key = (name, *((type(a), a) for a in args), *sorted(kw.items()))
            known = self._prepared.get(key)
        except TypeError:  # an unhashable argument (an API caller's list): not remembered
            return self._prepare(name, args, kw)
        if known is None:
            known = self._prepare(name, args, kw)
            if len(self._prepared) >= PREPARED_COMMANDS:
                self._prepared.clear()
            self._prepared[key] = known
        return known

    def _prepare(self, name: str, args: Sequence[Any], kw: dict[str, Any]) -> PanelCommand:
        self.spec(name, args)
        if name == "led":
            n = parse_int("LED number", args[0], self.section.buttons)
            colour = args[2] if len(args) > 2 else kw.get("colour")
            mode = str(args[1]).lower()
            line = self.dialect.led(n, mode, colour)
            assert self.section.led is not None
            return PanelCommand(line, self.section.led.expect_reply, led=(n, (mode, colour)))
        line_no = parse_int("text line", args[0], _TEXT_LINES)
        line = self.dialect.text(line_no, str(args[1]))
        assert self.section.text is not None
        shown = self.dialect.shown_text(str(args[1]))
        return PanelCommand(line, self.section.text.expect_reply, text=(line_no, shown))

    async def execute(self, prepared: PanelCommand) -> dict[str, Any]:
        if not prepared.expect_reply:
            async with self._lock:
                await self.link.write(self.dialect.encode(prepared.line))
        else:
            await self._exchange(prepared.line, None, self.profile.timeouts.ack)
        self._took(prepared)
        return {}

    def _took(self, prepared: PanelCommand) -> None:
        """The panel took the command: remember what it shows now and say so."""
        if prepared.led is not None:
            n, led = prepared.led
            if self.leds.get(n) == led:
                return
            self.leds[n] = led
            detail = f"led {n} {led[0]}" + (f" {led[1]}" if led[1] else "")
        elif prepared.text is not None:
            line_no, text = prepared.text
            if self.texts.get(line_no) == text:
                return
            self.texts[line_no] = text
            detail = f"text {line_no} {text}"
        else:
            return
        self.link.emit(DeviceEvent("shown", detail=detail))

    async def _exchange(
        self, line: str, expect: re.Pattern[str] | None, wait_s: float, any_frame: bool = False
    ) -> str:
        async with self._lock:
            waiter = self._waiter = _Waiter(expect, any_frame)
            try:
                await self.link.write(self.dialect.encode(line))
                answered = await waiter.wait(wait_s)
            finally:
                self._waiter = None
        if not answered:
            self.counters["timeouts"] += 1
            raise DeviceTimeout(f"no answer from the panel to {line!r} within {wait_s:g} s")
        if waiter.error is not None:
            raise waiter.error
        return waiter.line

    async def start_up(self) -> None:
        hs = self.section.handshake
        if hs is not None:
            try:
                await self._exchange(hs.send, re.compile(hs.expect), hs.timeout)
            except DeviceError as exc:
                raise DeviceTimeout(f"handshake failed: {exc.reason}") from None

    async def background(self) -> None:
        ka = self.section.keepalive
        if ka is None:
            return
        expect, misses = re.compile(ka.expect), 0
        while True:
            await anyio.sleep(ka.interval)
            try:
                await self._exchange(ka.send, expect, ka.timeout, any_frame=True)
                misses = 0
            except DeviceError:
                misses += 1
                self.counters["keepalive_misses"] += 1
                if misses >= ka.misses:
                    self.link.lost(f"keepalive: no answer to {ka.send!r} ({misses} missed)")
                    return

    # ---- inbound ----

    def feed(self, data: bytes) -> None:
        for line in self.framer.feed(data):
            waiter = self._waiter
            if waiter and waiter.expect is not None and waiter.expect.search(line):
                waiter.resolve(line)
                continue
            event = self.dialect.parse(line)
            if waiter is not None and waiter.any_frame and event.kind != "unknown":
                waiter.resolve(line)  # it talks, so it is alive; the frame still counts below
                waiter = None
            self._on_event(event, waiter)

    def _on_event(self, ev: LineEvent, waiter: _Waiter | None) -> None:
        if ev.kind == "button" and ev.button is not None and ev.action is not None:
            self._on_button(ev.button, ev.action)
        elif ev.kind == "ack":
            if waiter is not None and waiter.expect is None:
                waiter.resolve(ev.text)
            self.link.emit(DeviceEvent("ack", detail=ev.text))
        elif ev.kind == "error":
            self.counters["errors"] += 1
            if waiter is not None:
                waiter.resolve(ev.text, DeviceError(ev.reason))
            self.link.emit(DeviceEvent("error", detail=ev.reason))
        else:
            self.counters["unknown_lines"] += 1

    def _on_button(self, button: int, action: ButtonPhase) -> None:
        self.counters["buttons"] += 1
        if action == "press":  # a member compares as its string (cheaper than its lookup)
            self._press_serial += 1
            self._pressed[button] = self._press_serial
            self._held.discard(button)
            # The press goes out first: the hold timer is bookkeeping, the action is not.
            self.link.emit(DeviceEvent("button", button, action, f"button {button} press"))
            if not self.section.reports_hold:
                self._arm_hold(button, self._press_serial)
            return
        if button not in self._pressed:
            self.counters["out_of_order"] += 1  # a lost press: still report what we saw
        if action == "hold":
            if button in self._held and not self.section.reports_hold:
                return  # already synthesised for this press: report one hold, not two
            self._held.add(button)
        if action == "release":
            self._pressed.pop(button, None)
            self._held.discard(button)
            self._cancel_hold(button)
        self.link.emit(DeviceEvent("button", button, action, f"button {button} {action}"))

    def _arm_hold(self, button: int, serial: int) -> None:
        self._cancel_hold(button)
        loop = asyncio.get_running_loop()
        delay = self.section.hold_ms / 1000
        self._hold_timers[button] = loop.call_later(delay, self._synthesise_hold, button, serial)

    def _cancel_hold(self, button: int) -> None:
        timer = self._hold_timers.pop(button, None)
        if timer is not None:
            timer.cancel()

    def _cancel_holds(self) -> None:
        for timer in self._hold_timers.values():
            timer.cancel()
        self._hold_timers.clear()

    def _synthesise_hold(self, button: int, serial: int) -> None:
        self._hold_timers.pop(button, None)
        if self._pressed.get(button) == serial and button not in self._held:
            self._held.add(button)  # still the same press: it is a hold
            self.link.emit(DeviceEvent("button", button, ButtonPhase.HOLD, f"button {button} hold"))

    def reset(self) -> None:
        super().reset()
        self._held.clear()
        self._pressed.clear()  # buttons held across an unplug are not held any more
        self.leds.clear()  # a panel plugged in again shows nothing we know of
        self.texts.clear()
        self._cancel_holds()

    def fail_pending(self, reason: str) -> None:
        self._cancel_holds()  # the session is over: no hold from a press before it ended
        if self._waiter is not None:
            self._waiter.resolve("", DeviceError(reason))


# The panel family this module implements (the registry: roomagent/devices/families.py).
register(Family("line", "panel", "line", True, (0, 255, 1), LineDriver))
