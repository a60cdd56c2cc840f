"""Line-protocol codec for panels and keypads: pure framing, inbound matching, outbound templates.

Everything model-specific comes from the profile's [line] section. `LineDialect` serves both
sides: the agent (parse events, render LED/text commands) and the emulator (render button
reports, recognise LED/text commands) so the two can never drift apart.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass, field
from typing import Literal

from roomagent.config.vocab import ButtonPhase
from roomagent.devices.errors import CommandUsageError
from roomagent.devices.framing import BufferedFramer
from roomagent.devices.profiles import LineSection

# Placeholders that are numbers when a template is turned back into a regex (emulator side).
_NUMERIC_FIELDS = {"n", "led", "line", "address"}
_CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f\"]")
# Button report lines remembered per panel (buttons × phases of a big keypad, with room).
PARSED_BUTTON_LINES = 1024


@dataclass
class LineFramer(BufferedFramer):
    """Splits bytes into text lines on any of the terminators; overlong lines are dropped."""

    terminators: tuple[bytes, ...]
    max_line: int = 256
    encoding: str = "ascii"
    counters: dict[str, int] = field(
        default_factory=lambda: {"frames": 0, "dropped_bytes": 0, "overlong_lines": 0}
    )
    _buf: bytearray = field(default_factory=bytearray)
    _discarding: bool = False
    _pattern: re.Pattern[bytes] = field(init=False)

    def __post_init__(self) -> None:
        # Longest first so "\r\n" wins over "\r" at the same position.
        alts = sorted(self.terminators, key=len, reverse=True)
        self._pattern = re.compile(b"|".join(re.escape(t) for t in alts))

    def feed(self, data: bytes) -> list[str]:
        buf = self._buf
        buf += data
        lines: list[str] = []
        pos = 0
        for match in self._pattern.finditer(buf):
            chunk = bytes(buf[pos : match.start()])
            pos = match.end()
            if self._discarding:  # tail of an overlong line
                self._discarding = False
                self.counters["dropped_bytes"] += len(chunk)
                continue
            if not chunk:
                continue  # empty line (e.g. "\r" then "\n" in separate reads)
            if len(chunk) > self.max_line:
                self.counters["overlong_lines"] += 1
                self.counters["dropped_bytes"] += len(chunk)
                continue
            lines.append(chunk.decode(self.encoding, errors="replace"))
            self.counters["frames"] += 1
        del buf[:pos]
        if len(buf) > self.max_line:  # no terminator in sight: drop and skip to the next one
            self.counters["overlong_lines"] += 1
            self.counters["dropped_bytes"] += len(buf)
            buf.clear()
            self._discarding = True
        return lines

    def clear(self) -> None:
        super().clear()
        self._discarding = False


EventKind = Literal["button", "ack", "error", "unknown"]


@dataclass(frozen=True)
class LineEvent:
    kind: EventKind
    text: str
    button: int | None = None
    action: ButtonPhase | None = None
    reason: str = ""


def _template_regex(template: str, choices: dict[str, list[str]]) -> re.Pattern[str]:
    """A template such as `LED {n} {mode}` to an anchored regex with named groups."""
    out, seen = "^", set()
    for literal, name, _spec, _conv in string.Formatter().parse(template):
        out += re.escape(literal)
        if name is None:
            continue
        if name in _NUMERIC_FIELDS:
            body = r"\d+"
        elif name in choices:
            body = "|".join(re.escape(c) for c in sorted(choices[name], key=len, reverse=True))
        else:
            body = ".*"
        out += f"(?P<{name}>{body})" if name not in seen else f"(?:{body})"
        seen.add(name)
    return re.compile(out + "$")


class LineDialect:
    """One panel model's line protocol, compiled from its profile section."""

    def __init__(self, section: LineSection, address: int) -> None:
        self.section = section
        self.address = address
        self.rules = [(re.compile(r.pattern), r.event) for r in section.inbound]
        self.terminator = section.terminator_out.encode(section.encoding)
        self._actions = section.button_actions
        led = section.led
        self._led_re = (
            _template_regex(led.template, {"mode": list(led.modes.values()),
                                           "colour": list(led.colours.values())})
            if led
            else None
        )  # fmt: skip
        self._text_re = _template_regex(section.text.template, {}) if section.text else None
        self._button_re = _template_regex(section.button_template, {"action": list(self._actions)})
        self._parsed: dict[str, LineEvent] = {}

    def framer(self) -> LineFramer:
        s = self.section
        terms = tuple(t.encode(s.encoding) for t in s.terminators_in)
        return LineFramer(terms, s.max_line, s.encoding)

    def encode(self, line: str) -> bytes:
        return line.encode(self.section.encoding, errors="replace") + self.terminator

    # ---- agent side ----

    def parse(self, line: str) -> LineEvent:
        # A keypad sends the same few button reports over and over: each is matched once
        # (the regexes are the costliest step of a press on a process woken cold).
        known = self._parsed.get(line)
        if known is not None:
            return known
        event = self._parse(line)
        if event.kind == "button" and len(self._parsed) < PARSED_BUTTON_LINES:
            self._parsed[line] = event  # (frozen: one event serves every press)
        return event

    def _parse(self, line: str) -> LineEvent:
        for pattern, event in self.rules:
            m = pattern.search(line)
            if not m:
                continue
            if event == "button":
                action = self._actions.get(m.group("action"))
                if action is None:
                    return LineEvent("unknown", line)
                return LineEvent("button", line, int(m.group("button")), action)
            if event == "error":
                code = m.groupdict().get("code")
                return LineEvent("error", line, reason=self.error_reason(code, line))
            return LineEvent("ack", line)
        return LineEvent("unknown", line)

    def error_reason(self, code: str | None, line: str) -> str:
        if code is None:
            return f"panel error: {line}"
        known = self.section.error_codes.get(str(int(code))) if code.isdigit() else None
        return f"{known} (ERR {code})" if known else f"panel error ERR {code}"

    def led(self, n: int, mode: str, colour: str | None = None) -> str:
        led = self.section.led
        if led is None:
            raise CommandUsageError("this panel has no LEDs in its profile")
        if mode not in led.modes:
            raise CommandUsageError(f"LED mode must be on, off or blink (got {mode!r})")
        colour_value = ""
        if led.colours:
            name = colour or led.default_colour or next(iter(led.colours))
            if name not in led.colours:
                known = ", ".join(led.colours)
                raise CommandUsageError(f"unknown colour {name!r}; known: {known}")
            colour_value = led.colours[name]
        return led.template.format(
            address=self.address, n=n, led=n + led.led_offset, mode=led.modes[mode],
            colour=colour_value,
        )  # fmt: skip

    def text(self, line_no: int, text: str) -> str:
        spec = self.section.text
        if spec is None:
            raise CommandUsageError("this panel has no text display in its profile")
        return spec.template.format(address=self.address, line=line_no, text=self.shown_text(text))

    def shown_text(self, text: str) -> str:
        """What the display shows of `text`: control characters dropped, cut to its width."""
        spec = self.section.text
        return _CONTROL_CHARS.sub("", text)[: spec.max_length if spec else None]

    # ---- panel side (emulator) ----

    def button_report(self, n: int, action: ButtonPhase) -> str:
        code = next(c for c, a in self._actions.items() if a == action)
        return self.section.button_template.format(address=self.address, n=n, action=code)

    def reports(self, action: ButtonPhase) -> bool:
        return action in self._actions.values()

    def match_led(self, line: str) -> tuple[int, str, str | None] | None:
        """(n, mode, colour name) if `line` is one of this panel's LED commands."""
        led = self.section.led
        m = self._led_re.match(line) if self._led_re and led else None
        if not m or led is None:
            return None
        groups = m.groupdict()
        n = int(groups["n"]) if "n" in groups else int(groups["led"]) - led.led_offset
        mode = next(k for k, v in led.modes.items() if v == groups["mode"])
        colour = next((k for k, v in led.colours.items() if v == groups.get("colour")), None)
        return n, mode, colour

    def match_text(self, line: str) -> tuple[int, str] | None:
        m = self._text_re.match(line) if self._text_re else None
        return (int(m.group("line")), m.group("text")) if m else None

    def match_button(self, line: str) -> tuple[int, str] | None:
        m = self._button_re.match(line)
        return (int(m.group("n")), self._actions[m.group("action")]) if m else None

    def ack_for(self, line: str) -> str | None:
        return self._answer(self.section.ack_template, line, 0)

    def error_for(self, line: str, code: int) -> str | None:
        return self._answer(self.section.error_template, line, code)

    def _answer(self, template: str | None, line: str, code: int) -> str | None:
        if template is None:
            return None
        # {body}: the command without its leading sigil ("#03@RGB …" → "03@RGB …").
        body = line[1:] if line[:1] and not line[:1].isalnum() else line
        return template.format(address=self.address, line=line, body=body, code=code)
