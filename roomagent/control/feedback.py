"""Room state → panel LEDs and text lines.

`render` is pure (rules + room view → the frame a panel should show); `PanelFeedback` keeps one
panel in line with it, sending only what changed, layering short notices (a blinking button
and a message after a refused press) on top, and re-sending everything after a reconnect.
"""

from __future__ import annotations

import asyncio
import logging
import math
import string
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import anyio

from roomagent.config.model import FeedbackSection
from roomagent.control.state import RoomView
from roomagent.logsetup import kv
from roomagent.waits import wait_set

log = logging.getLogger(__name__)

# How long a notice (refusal, failure) stays on the panel before the state shows again.
NOTICE_SECONDS = 4.0
NOTICE_COLOUR = "red"
# A press of a key whose action is still running: a short blink and "busy…", no more.
BUSY_SECONDS = 1.0
# A test command from the page or the API ("blink LED 1") shows this long; then every LED and
# line shows the room state again (issue 13: at most 5 s).
TEST_SECONDS = 4.0

Led = tuple[str, str | None]  # (mode on|off|blink, colour or None)
# send(command, args, kwargs): the device's command vocabulary ("led", "text").
Send = Callable[[str, list[Any], dict[str, Any]], Awaitable[object]]


@dataclass
class PanelFrame:
    leds: dict[int, Led] = field(default_factory=dict)
    texts: dict[int, str] = field(default_factory=dict)


class _Blank(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return ""


def render_text(template: str, values: dict[str, str]) -> str:
    """Fill a text template; an unknown field renders empty rather than failing at runtime."""
    try:
        return string.Formatter().vformat(template, (), _Blank(values)).strip()
    except (ValueError, IndexError, AttributeError):
        return template


def render(rules: Sequence[FeedbackSection], view: RoomView, panel: str) -> PanelFrame:
    """What `panel` should show for `view`: every LED and line named by its rules."""
    return PanelFrame(render_leds(rules, view, panel), render_texts(rules, view, panel))


def render_leds(rules: Sequence[FeedbackSection], view: RoomView, panel: str) -> dict[int, Led]:
    """The LEDs alone: cheap, so they go out before the text lines are even formatted."""
    conditions = view.conditions(exclude_device=panel)
    leds: dict[int, Led] = {}
    for rule in rules:
        if rule.device != panel or rule.led is None:
            continue
        current = leds.get(rule.led)
        if rule.when in conditions and (current is None or current[0] == "off"):
            leds[rule.led] = (rule.mode, rule.colour)
        elif current is None:
            leds[rule.led] = ("off", None)
    return leds


def render_texts(rules: Sequence[FeedbackSection], view: RoomView, panel: str) -> dict[int, str]:
    """The text lines: a line's first matching rule; lines with no matching rule cleared."""
    conditions = view.conditions(exclude_device=panel)
    values = view.fields()
    texts: dict[int, str] = {}
    for rule in rules:
        if rule.device != panel or rule.text_line is None or rule.text is None:
            continue
        if rule.when in conditions and rule.text_line not in texts:
            texts[rule.text_line] = render_text(rule.text, values)
    for rule in rules:
        if rule.device == panel and rule.text_line is not None:
            texts.setdefault(rule.text_line, "")
    return texts


def fit(text: str, width: int | None) -> str:
    """Shorten to the panel's line width at a word boundary, marking the cut with '..'."""
    if width is None or len(text) <= width:
        return text
    cut = text[: max(width - 2, 1)]
    if " " in cut[width // 2 :]:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ,;:") + ".."


def notice_line(rules: Sequence[FeedbackSection], panel: str) -> int:
    """The panel's message line: its last text line in the rules, else line 1."""
    lines = [r.text_line for r in rules if r.device == panel and r.text_line is not None]
    return max(lines, default=1)


class PanelFeedback:
    """Drives one panel. `update()`/`notice()` are sync (called from watchers); `run()` sends."""

    def __init__(
        self,
        panel: str,
        rules: Sequence[FeedbackSection],
        send: Send,
        *,
        text_width: int | None = None,
    ) -> None:
        self.panel = panel
        self.text_width = text_width
        self.rules = list(rules)
        self._send = send
        self._view = RoomView()
        self._sent = PanelFrame()
        self._led_notices: dict[int, float] = {}  # led → until (monotonic)
        self._text_notice: tuple[str, float] | None = None
        self._restore_at: float | None = None  # a test command shows until then
        # asyncio's own events, cleared and set again: a room event wakes the panel's task
        # without a new anyio Event or a cancel scope on the way to the LED frame.
        self._wake = asyncio.Event()
        self._synced = asyncio.Event()  # set while the panel shows everything it should

    def _dirty(self) -> None:
        self._wake.set()
        self._synced.clear()

    def update(self, view: RoomView) -> None:
        self._view = view
        self._dirty()

    def set_rules(self, rules: Sequence[FeedbackSection]) -> None:
        self.rules = list(rules)
        self._dirty()

    def resend_all(self) -> None:
        """The panel came back (or was replaced): it shows nothing we sent before."""
        self._sent = PanelFrame()
        self._dirty()

    def tested(self, seconds: float = TEST_SECONDS) -> None:
        """A test command wrote to the panel behind the feedback's back: after `seconds` every
        LED and line is sent again as the room state says."""
        self._restore_at = anyio.current_time() + seconds
        self._dirty()

    async def wait_synced(self) -> None:
        """Until the panel shows the current state (callers bound it with a timeout)."""
        await self._synced.wait()

    def notice(self, led: int | None, text: str, seconds: float = NOTICE_SECONDS) -> None:
        until = anyio.current_time() + seconds
        if led is not None:
            # A short notice never cuts a longer one on the same LED short.
            self._led_notices[led] = max(until, self._led_notices.get(led, until))
        self._text_notice = (fit(text, self.text_width), until)
        self._dirty()

    def desired_leds(self, now: float) -> dict[int, Led]:
        leds = render_leds(self.rules, self._view, self.panel)
        for led, until in list(self._led_notices.items()):
            if until <= now:
                del self._led_notices[led]
                leds.setdefault(led, ("off", None))  # restore what the rules say
            else:
                leds[led] = ("blink", NOTICE_COLOUR)
        return leds

    def desired_texts(self, now: float) -> dict[int, str]:
        texts = render_texts(self.rules, self._view, self.panel)
        if self._text_notice is not None:
            text, until = self._text_notice
            if until <= now:
                self._text_notice = None
            else:
                texts[notice_line(self.rules, self.panel)] = text
        return texts

    def _next_expiry(self) -> float:
        times = list(self._led_notices.values())
        if self._restore_at is not None:
            times.append(self._restore_at)
        if self._text_notice is not None:
            times.append(self._text_notice[1])
        return min(times, default=math.inf)

    async def run(self) -> None:
        while True:
            self._wake.clear()
            if await self._flush() and not self._wake.is_set():
                self._synced.set()
            # The next notice's end wakes it like a change does.
            await wait_set(self._wake, max(self._next_expiry() - anyio.current_time(), 0.0))

    async def _flush(self) -> bool:
        """Send what differs from what the panel shows; True when all of it got through."""
        now = anyio.current_time()
        if self._restore_at is not None and self._restore_at <= now:
            self._restore_at = None
            self._sent = PanelFrame()  # what the test left is unknown: send everything
        delivered = self._restore_at is None  # not showing the room state while a test shows
        for led, (mode, colour) in sorted(self.desired_leds(now).items()):
            if self._sent.leds.get(led) != (mode, colour):
                extra = {"colour": colour} if colour else {}
                if await self._try("led", [led, mode], extra):
                    self._sent.leds[led] = (mode, colour)
                else:
                    delivered = False
        for line, text in sorted(self.desired_texts(now).items()):
            if self._sent.texts.get(line) != text:
                if await self._try("text", [line, text], {}):
                    self._sent.texts[line] = text
                else:
                    delivered = False
        return delivered

    async def _try(self, command: str, args: list[Any], extra: dict[str, Any]) -> bool:
        try:
            await self._send(command, args, extra)
        except Exception as exc:  # offline / timeout: retried on the next change or reconnect
            log.debug(
                "panel feedback not delivered",
                extra=kv(device=self.panel, command=command, reason=str(exc)),
            )
            return False
        return True
