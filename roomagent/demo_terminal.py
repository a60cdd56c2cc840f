"""The demo's terminal: the keys a newcomer types, and what the room did, in words.

Keys drive the virtual keypad and inject the faults a room meets (a cable pulled, the Rooms
client gone, a host who admits the room from the waiting room), so the page turning red and
the keypad's offline LED can be seen without hardware. Lines printed:
`[agent] …` what the agent did, `[panel] …` what the keypad shows, `[camera] …` what the
camera does, `[demo] …` answers to what was typed.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TextIO

import anyio
from anyio.abc import TaskGroup

from roomagent.config.vocab import ButtonPhase
from roomagent.control.bindings import Bound, Key
from roomagent.control.core import RoomCore
from roomagent.control.panels_view import offline_words
from roomagent.control.state import format_meeting_code
from roomagent.rooms import LinkState
from roomagent.sim.camera import CameraEmulator
from roomagent.sim.panel import PanelEmulator
from roomagent.sim.rooms import RoomsSimulator

PANEL = "panel"
CAMERA = "camera"
# A held key (`hN`) stays down long enough for the keypad's hold time to pass.
HOLD_SECONDS = 1.5
TAP_SECONDS = 0.1
# `fault`: how long the camera stays unplugged before it is plugged back in.
FAULT_SECONDS = 5.0

KEYS = (
    ("N", "tap keypad button N (e.g. 1 starts a meeting)"),
    ("hN", "hold button N for 1.5 s"),
    ("pN, rN", "press button N and keep it down, release it (for held camera moves)"),
    ("unplug panel, unplug camera", "pull a USB cable: the page says what to check, LED 16 lights"),
    ("plug panel, plug camera", "plug it back in"),
    ("rooms stop, rooms start", "stop / restore the Rooms client (the meeting system)"),
    ("admit", "the host admits the room from the waiting room (after 2)"),
    ("fault", f"show a fault and its recovery: the camera unplugged for {FAULT_SECONDS:g} s"),
    ("s", "the room's status"),
    ("?, help", "these keys again"),
    ("q", "quit (also Ctrl-C)"),
)

# What a finished action did, for people: "meeting started", not "StartMeeting: …".
DONE = {
    "meeting.start": "meeting started",
    "meeting.join": "joined the meeting",
    "meeting.join_next": "joined the booked meeting",
    "meeting.leave": "left the meeting",
    "meeting.dissolve": "meeting ended for everyone",
    "meeting.leave_waiting_room": "left the waiting room",
    "meeting.layout": "layout changed",
    "camera.preset": "camera at preset",
    "camera.move": "camera moving",
    "camera.zoom": "camera zooming",
    "camera.home": "camera at home position",
    "camera.power": "camera power switched",
    "camera.stop": "camera stopped",
    "macro": "macro done",
}
SAY = {
    "meeting.start": "start meeting",
    "meeting.join": "join meeting",
    "meeting.join_next": "join the booked meeting",
    "meeting.leave": "leave meeting",
    "meeting.dissolve": "end meeting for everyone",
    "meeting.leave_waiting_room": "leave the waiting room",
    "meeting.layout": "change layout",
    "calendar.book_now": "book the room",
    "calendar.end_early": "end the booking",
}
MOVES = {"pt": "pan/tilt", "zoom": "zoom"}


def key_help() -> list[str]:
    width = max(len(k) for k, _ in KEYS)
    return [f"  {k:<{width}}  {what}" for k, what in KEYS]


def say(action: str) -> str:
    return SAY.get(action) or action.replace("_", " ").replace(".", " ")


def held_buttons(table: Mapping[Key, Bound], panel: str = PANEL) -> set[int]:
    """Buttons whose action lasts while the button is down (a camera move on press)."""
    return {b for (d, b, on), bound in table.items() if d == panel and bound.held is not None}


def action_line(event: Mapping[str, Any], code: str | None) -> str:
    """A finished or refused action as a sentence: `button 1: meeting started (…)`."""
    who = f"button {event['button']}" if event.get("button") is not None else "page"
    action = str(event.get("action") or "")
    outcome = str(event.get("outcome") or "")
    if event.get("kind") == "busy":
        return f"{who}: still busy with {say(action)}; press not repeated"
    if event.get("ok") is False or event.get("kind") == "refused":
        step = f" ({event['step']})" if event.get("step") else ""
        return f"{who}: {say(action)}{step} not done — {event.get('reason') or 'failed'}"
    if "WaitingRoom" in outcome and action.startswith("meeting."):
        return f"{who}: in the waiting room ({code or '?'}) — type admit to let the room in"
    done = DONE.get(action)
    if done is None:  # an agent sentence ("Room booked until 10:45") as it is
        return f"{who}: {outcome or 'done'}"
    if action == "camera.preset":
        number = re.search(r"(\d+)\s*$", outcome)
        return f"{who}: {done} {number.group(1) if number else ''}".rstrip()
    if action in ("meeting.start", "meeting.join", "meeting.join_next") and code:
        return f"{who}: {done} ({code})"
    return f"{who}: {done}"


def event_line(event: Mapping[str, Any], core: RoomCore) -> str | None:
    """One history event as the demo prints it, or None for those it leaves to the page."""
    kind = event.get("kind")
    if kind in ("action", "refused", "busy") and event.get("action"):
        if event.get("source") == "api":
            return None  # the page's own presses are on the page
        code = format_meeting_code(core.machine.view.meeting_code) or None
        return "[agent] " + action_line(event, code)
    if kind == "link":
        if event.get("link") == LinkState.READY:
            return "[agent] Rooms client connected"
        return f"[agent] Rooms client offline: {event.get('reason') or 'not reachable'}"
    if kind in ("online", "offline"):
        name = str(event.get("device") or event.get("source"))
        device = core.devices.get(name)
        if kind == "online":
            return f"[agent] {name} online"
        port = device.port if device else ""
        text, _ = offline_words(device.kind if device else "", event.get("reason"), port)
        return f"[agent] {name} offline: {text} ({event.get('reason')})"
    if kind == "error":
        return f"[agent] {event.get('message')}"
    return None


@dataclass
class DemoTerminal:
    """What the demo does with each line typed (`handle`), and the camera's echo."""

    core: RoomCore
    sim: RoomsSimulator
    panel: PanelEmulator
    camera: CameraEmulator
    tg: TaskGroup
    out: TextIO
    stop: Callable[[], None]
    _moving: dict[str, str] = field(default_factory=dict)

    def say(self, line: str) -> None:
        print(line, file=self.out, flush=True)

    def on_update(self, update: Mapping[str, Any]) -> None:
        event = update.get("event")
        if update.get("type") == "event" and isinstance(event, Mapping):
            line = event_line(event, self.core)
            if line is not None:
                self.say(line)

    async def echo_camera(self) -> None:
        """Print what the camera starts and stops doing (a stop is news too)."""
        while True:
            await self.camera.wait_until(lambda: self.camera.state.moving != self._moving)
            now = dict(self.camera.state.moving)
            for group, what in now.items():
                if self._moving.get(group) != what:
                    self.say(f"[camera] {MOVES.get(group, group)} {what.replace('_', ' ')}")
            for group in self._moving.keys() - now.keys():
                self.say(f"[camera] {MOVES.get(group, group)} stopped")
            self._moving = now

    def handle(self, command: str) -> None:
        words = command.split()
        if not words:
            return
        if command in ("q", "quit", "exit"):
            self.stop()
        elif command in ("?", "help", "h"):
            self.say("Keys:")
            for line in key_help():
                self.say(line)
        elif command == "s":
            self.status()
        elif words[0] in ("unplug", "plug", "replug"):
            self.cable(words[0] != "unplug", words[1] if len(words) > 1 else PANEL)
        elif words[0] == "rooms" and len(words) == 2 and words[1] in ("stop", "start"):
            self.tg.start_soon(self.rooms, words[1] == "start")
        elif command == "admit":
            self.tg.start_soon(self.admit)
        elif command == "fault":
            self.tg.start_soon(self.fault)
        else:
            self.button(command)

    def button(self, command: str) -> None:
        kind, digits = (command[0], command[1:]) if command[0] in "hpr" else ("t", command)
        if not digits.isdigit():
            self.say(f"[demo] unknown input {command!r}: type ? for the keys")
            return
        n = int(digits)
        keypad = self.panel.section.buttons
        if not keypad.contains(n):
            self.say(f"[demo] the keypad has buttons {keypad.min}–{keypad.max}; no button {n}")
            return
        if not any((PANEL, n, on) in self.core.table for on in ButtonPhase):
            self.say(f"[demo] button {n} is not assigned (the keypad sends it; nothing happens)")
        if kind == "p":
            self.tg.start_soon(self.panel.press, n)
        elif kind == "r":
            self.tg.start_soon(self.panel.release, n)
        else:
            self.tg.start_soon(self._press_for, n, HOLD_SECONDS if kind == "h" else TAP_SECONDS)

    async def _press_for(self, n: int, seconds: float) -> None:
        await self.panel.press(n)
        await anyio.sleep(seconds)
        await self.panel.release(n)

    def cable(self, plug: bool, which: str) -> None:
        device = {PANEL: self.panel, "keypad": self.panel, CAMERA: self.camera}.get(which)
        if device is None:
            self.say(f"[demo] unplug what? type 'unplug panel' or 'unplug camera' (not {which!r})")
            return
        name = CAMERA if device is self.camera else PANEL
        if plug == (device.port.fd is not None):
            self.say(f"[demo] the {name} is already {'plugged in' if plug else 'unplugged'}")
            return
        if plug:
            device.replug()
            self.say(f"[demo] {name} plugged back in: the agent finds it within a few seconds")
        else:
            device.unplug()
            self.say(f"[demo] {name} unplugged: see the page, and LED 16 lights")

    async def rooms(self, start: bool) -> None:
        if start:
            if self.sim.listening:
                self.say("[demo] the Rooms client is already running")
                return
            await self.sim.listen_again()
            self.say("[demo] Rooms client back: the agent reconnects by itself")
        else:
            if not self.sim.listening:
                self.say("[demo] the Rooms client is already stopped")
                return
            await self.sim.kill()
            self.say("[demo] Rooms client stopped: the page says the meeting is unknown")

    async def admit(self) -> None:
        try:
            await self.sim.admit()
        except RuntimeError:
            self.say("[demo] nobody to admit: press 2 first (it joins a meeting with a host)")
            return
        self.say("[demo] the host admitted the room")

    async def fault(self) -> None:
        if self.camera.port.fd is None:
            self.say("[demo] the camera is unplugged already; type 'plug camera'")
            return
        self.cable(False, CAMERA)
        await anyio.sleep(FAULT_SECONDS)
        self.cable(True, CAMERA)

    def status(self) -> None:
        status = self.core.status()
        devices = ", ".join(
            f"{d['name']} {'online' if d['online'] else 'offline'}" for d in status["devices"]
        )
        meeting = status["meeting"]
        code = format_meeting_code(meeting.get("code")) if meeting.get("code") else ""
        self.say(
            f"[status] room {status['room']['state']}; Rooms {status['rooms']['link']}; "
            f"meeting {meeting['status']} {code}".rstrip()
            + f"; {devices}"
        )
