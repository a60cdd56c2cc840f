"""Panel emulator: a keypad speaking its profile's line protocol on a pseudo-terminal.

Buttons are pressed by a test or a person (`press`/`hold`/`release`/`tap`); LED and text
commands from the agent update `.leds` / `.text` and are answered as the profile says.
"""

from __future__ import annotations

from collections.abc import Callable

import anyio

from roomagent.config.vocab import ButtonPhase
from roomagent.devices.line import LineDialect
from roomagent.devices.profiles import Profile
from roomagent.sim.emulator import SerialEmulator

UNKNOWN_COMMAND = 1  # error code answered for a line the panel does not understand


class PanelEmulator(SerialEmulator):
    def __init__(self, profile: Profile, address: int | None = None, port: str | None = None):
        super().__init__(profile, f"roomagent_panel_{profile.name}", port)
        assert profile.line is not None
        self.section = profile.line
        self.dialect = LineDialect(profile.line, address or profile.default_address)
        self._framer = self.dialect.framer()
        self.leds: dict[int, tuple[str, str | None]] = {}
        self.text: dict[int, str] = {}
        self._inject: list[int] = []
        self.on_change: Callable[[str], None] | None = None  # "led 1 blink red", "text 1 Hi"
        self._changed = anyio.Event()

    # ---- buttons ----

    async def press(self, n: int) -> None:
        await self._report(n, ButtonPhase.PRESS)

    async def hold(self, n: int) -> None:
        await self._report(n, ButtonPhase.HOLD)

    async def release(self, n: int) -> None:
        await self._report(n, ButtonPhase.RELEASE)

    async def tap(self, n: int) -> None:
        await self.press(n)
        await self.release(n)

    async def long_press(self, n: int) -> None:
        """Press, stay down past the profile's hold time (reporting HOLD if it does), release."""
        await self.press(n)
        await anyio.sleep(self.section.hold_ms * 1.5 / 1000)
        await self.hold(n)
        await self.release(n)

    async def _report(self, n: int, action: ButtonPhase) -> None:
        if self.dialect.reports(action):
            await self.port.write(self.dialect.encode(self.dialect.button_report(n, action)))

    def inject_error(self, code: int) -> None:
        self._inject.append(code)

    async def wait_change(self) -> None:
        """Until the next LED or text change (tests await this instead of sleeping)."""
        await self._changed.wait()

    # ---- lines from the agent ----

    async def handle(self, data: bytes) -> None:
        for line in self._framer.feed(data):
            self.record(line)
            if not self.muted:
                await self._on_line(line)

    async def _answer(self, line: str | None) -> None:
        if line is not None:
            await self.port.write(self.dialect.encode(line))

    async def _on_line(self, line: str) -> None:
        for exchange in (self.section.handshake, self.section.keepalive):
            if exchange is not None and line == exchange.send:
                await self._answer(exchange.reply)
                return
        if self._inject:
            await self._answer(self.dialect.error_for(line, self._inject.pop(0)))
            return
        led = self.dialect.match_led(line)
        text = self.dialect.match_text(line) if led is None else None
        if led is not None:
            n, mode, colour = led
            self.leds[n] = (mode, colour)
            self._note(f"led {n} {mode}" + (f" {colour}" if colour else ""))
        elif text is not None:
            self.text[text[0]] = text[1]
            self._note(f"text {text[0]} {text[1]}")
        else:
            await self._answer(self.dialect.error_for(line, UNKNOWN_COMMAND))
            return
        await self._answer(self.dialect.ack_for(line))

    def _note(self, change: str) -> None:
        if self.on_change is not None:
            self.on_change(change)
        self._changed.set()
        self._changed = anyio.Event()
