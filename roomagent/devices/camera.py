"""Camera drivers: the common command vocabulary mapped to VISCA and to Pelco-D / Pelco-P."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import anyio

from roomagent.devices import pelco, visca
from roomagent.devices.base import CommandSpec, DeviceEvent, Driver, Link, parse_int
from roomagent.devices.errors import (
    CommandUsageError,
    DeviceError,
    DeviceSuperseded,
    DeviceTimeout,
)
from roomagent.devices.families import Family, register
from roomagent.devices.profiles import PelcoSection, Profile, Range, ViscaSection

CAMERA_SPECS = (
    CommandSpec("power_on"),
    CommandSpec("power_off"),
    CommandSpec("preset_recall", ("N",)),
    CommandSpec("preset_set", ("N",)),
    CommandSpec("preset_reset", ("N",)),
    CommandSpec("home"),
    CommandSpec("zoom_tele", ("[SPEED]",)),
    CommandSpec("zoom_wide", ("[SPEED]",)),
    CommandSpec("zoom_stop"),
    CommandSpec("pan_left", ("[SPEED]",)),
    CommandSpec("pan_right", ("[SPEED]",)),
    CommandSpec("tilt_up", ("[SPEED]",)),
    CommandSpec("tilt_down", ("[SPEED]",)),
    CommandSpec("pt_drive", ("DIRECTION", "[PAN_SPEED]", "[TILT_SPEED]")),
    CommandSpec("pt_stop"),
    CommandSpec("focus_auto"),
    CommandSpec("focus_manual"),
    CommandSpec("focus_one_push"),
    CommandSpec("focus_far", ("[SPEED]",)),
    CommandSpec("focus_near", ("[SPEED]",)),
    CommandSpec("focus_stop"),
    CommandSpec("inquire_power"),
    CommandSpec("inquire_zoom"),
    CommandSpec("inquire_pan_tilt"),
    CommandSpec("inquire_focus_mode"),
    CommandSpec("inquire_version"),
)
_PT_ALIASES = {"pan_left": "left", "pan_right": "right", "tilt_up": "up", "tilt_down": "down"}
# Which movement a stop ends: a stop drops unsent starts of its group and jumps the queue.
_STOPS = {"pt_stop": "pt", "zoom_stop": "zoom", "focus_stop": "focus"}


@dataclass(frozen=True)
class CameraCommand:
    """A checked command in family-neutral form."""

    name: str
    op: str  # power | preset | home | zoom | pt | focus | focus_mode | inquire
    params: tuple[Any, ...] = ()
    group: str | None = None  # movement group (pt / zoom / focus)
    is_stop: bool = False

    @property
    def aim(self) -> str | None:
        """What the command moves the camera to: a newer command with the same aim makes an
        unsent older one moot (newest press wins). Presets, home and pan/tilt all aim the
        camera; zoom and focus have their own; storing a preset and inquiries aim nowhere."""
        if self.op == "preset":
            return "position" if self.params[0] == "recall" else None
        if self.op in ("home", "pt"):
            return "position"
        return self.group


class CameraDriver(Driver):
    kind: Literal["camera", "panel"] = "camera"
    specs = CAMERA_SPECS
    section: ViscaSection | PelcoSection
    zoom_speed: Range | None = None
    focus_speed: Range | None = None

    def prepare(self, name: str, args: Sequence[Any], kw: dict[str, Any]) -> CameraCommand:
        self.spec(name, args)
        s = self.section
        speed = args[0] if args else kw.get("speed")
        if name in ("power_on", "power_off"):
            return CameraCommand(name, "power", (name == "power_on",))
        if name.startswith("preset_"):
            number = parse_int("preset number", args[0], s.presets)
            return CameraCommand(name, "preset", (name.removeprefix("preset_"), number))
        if name == "home":
            return CameraCommand(name, "home")
        if name in _STOPS:
            group = _STOPS[name]  # a stop's op is its movement group's
            params: tuple[Any, ...] = ("stop", 0, 0) if group == "pt" else ("stop", None)
            return CameraCommand(name, group, params, group, is_stop=True)
        if name in _PT_ALIASES or name == "pt_drive":
            direction = _PT_ALIASES.get(name) or str(args[0])
            if direction not in visca.PT_DIRECTIONS or direction == "stop":
                allowed = ", ".join(d for d in visca.PT_DIRECTIONS if d != "stop")
                raise CommandUsageError(f"direction must be one of {allowed} (got {direction!r})")
            if name == "pt_drive":
                pan_arg, tilt_arg = [*args[1:], None, None][:2]
            else:  # one SPEED for the axis that moves; the other keeps its default
                pan_arg = speed if name.startswith("pan") else None
                tilt_arg = speed if name.startswith("tilt") else None
            pan = s.pan_speed.fallback
            tilt = s.tilt_speed.fallback
            if pan_arg is not None:
                pan = parse_int("pan speed", pan_arg, s.pan_speed)
            if tilt_arg is not None:
                tilt = parse_int("tilt speed", tilt_arg, s.tilt_speed)
            return CameraCommand(name, "pt", (direction, pan, tilt), "pt")
        if name in ("zoom_tele", "zoom_wide", "focus_far", "focus_near"):
            group, action = name.split("_")
            rng = self.zoom_speed if group == "zoom" else self.focus_speed
            value = None
            if speed is not None:
                if rng is None:
                    raise CommandUsageError(f"{self.profile.family} has no {group} speed")
                value = parse_int(f"{group} speed", speed, rng)
            return CameraCommand(name, group, (action, value), group)
        if name.startswith("focus_"):
            return CameraCommand(name, "focus_mode", (name.removeprefix("focus_"),))
        return CameraCommand(name, "inquire", (name.removeprefix("inquire_"),))


# ---------------------------------------------------------------- VISCA -----------------


@dataclass(eq=False)
class _Request:
    command: CameraCommand | None
    frame: bytes
    direct: bool  # answered by `z0 50 … FF` without an ACK (inquiries, IF_Clear)
    inquiry: str | None = None
    acked: anyio.Event = field(default_factory=anyio.Event)
    done: anyio.Event = field(default_factory=anyio.Event)
    socket: int = 0
    result: dict[str, Any] = field(default_factory=dict)
    error: DeviceError | None = None

    @property
    def is_stop(self) -> bool:
        return bool(self.command and self.command.is_stop)

    def finish(
        self, error: DeviceError | None = None, result: dict[str, Any] | None = None
    ) -> None:
        if self.done.is_set():
            return
        self.error = error
        self.result = result or {}
        self.acked.set()
        self.done.set()


class ViscaDriver(CameraDriver):
    """ACK/completion per socket, at most `sockets` commands executing, the rest queued here."""

    framer: visca.ViscaFramer

    def __init__(self, profile: Profile, address: int, link: Link) -> None:
        super().__init__(profile, address, link)
        assert profile.visca is not None
        self.section = self.visca = profile.visca
        self.zoom_speed, self.focus_speed = self.visca.zoom_speed, self.visca.focus_speed
        self.reply_address = self.visca.reply_address or address
        self.framer = visca.ViscaFramer()
        self._pending: deque[_Request] = deque()
        self._awaiting: _Request | None = None  # sent, waiting for its ACK (or direct answer)
        self._sockets: dict[int, _Request] = {}
        self._changed = anyio.Event()
        self._timeouts_in_a_row = 0
        self.counters.update(
            odd_completions=0, socket_reused=0, reply_address_mismatch=0, unexpected_acks=0,
            unknown_frames=0, announcements=0, superseded=0,
        )  # fmt: skip

    # ---- queueing ----

    def _notify(self) -> None:
        self._changed.set()
        self._changed = anyio.Event()

    def _may_send(self, req: _Request) -> bool:
        if not self._pending or self._pending[0] is not req or self._awaiting is not None:
            return False
        return req.direct or len(self._sockets) < self.visca.sockets

    def _enqueue(self, req: _Request) -> None:
        command = req.command
        if command is None:
            self._pending.append(req)
            return
        if not req.is_stop:
            # Newest press wins: a queued (unsent) command aiming the camera the same way is
            # dropped, so a burst of preset presses ends where the last one points, with no
            # more than the camera's sockets in use.
            if command.aim is not None:
                self._supersede(lambda q: q.aim == command.aim and not q.is_stop, "a newer command")
            self._pending.append(req)
            return
        # An unsent start of this movement is now moot.
        self._supersede(lambda q: q.group == command.group and not q.is_stop, "a stop")
        index = next((i for i, q in enumerate(self._pending) if not q.is_stop), len(self._pending))
        self._pending.insert(index, req)

    def _supersede(self, moot: Callable[[CameraCommand], bool], by: str) -> None:
        for queued in list(self._pending):
            if queued.command is not None and moot(queued.command):
                self._pending.remove(queued)
                self.counters["superseded"] += 1
                queued.finish(DeviceSuperseded(f"superseded by {by} before it was sent"))

    def _timed_out(self, what: str) -> DeviceTimeout:
        self.counters["timeouts"] += 1
        self._timeouts_in_a_row += 1
        if self._timeouts_in_a_row >= self.profile.timeouts.offline_after:
            self.link.lost(f"camera not answering ({self._timeouts_in_a_row} timeouts in a row)")
        return DeviceTimeout(what)

    async def _run(self, req: _Request) -> dict[str, Any]:
        t = self.profile.timeouts
        self._enqueue(req)
        self._notify()
        try:
            with anyio.fail_after(t.completion + t.ack):  # bounded wait for our turn
                while not self._may_send(req):
                    if req.done.is_set():
                        break
                    await self._changed.wait()
            if not req.done.is_set():
                self._pending.popleft()
                self._awaiting = req
                await self.link.write(req.frame)
                first_wait = t.inquiry if req.direct else t.ack
                with anyio.move_on_after(first_wait):
                    await req.acked.wait()
                if not req.acked.is_set():
                    what = "answer" if req.direct else "ACK"
                    raise self._timed_out(f"no {what} from the camera within {first_wait:g} s")
                with anyio.move_on_after(t.completion):
                    await req.done.wait()
                if not req.done.is_set():
                    raise self._timed_out(
                        f"no completion from the camera within {t.completion:g} s"
                    )
        except TimeoutError:
            raise self._timed_out("the camera stayed busy; command not sent") from None
        finally:
            self._forget(req)
        if req.error is not None:
            raise req.error
        return req.result

    def _forget(self, req: _Request) -> None:
        if req in self._pending:
            self._pending.remove(req)
        if self._awaiting is req:
            self._awaiting = None
        if self._sockets.get(req.socket) is req:
            del self._sockets[req.socket]  # never completed: free the socket, don't deadlock
        self._notify()

    # ---- commands ----

    def _frame(self, cmd: CameraCommand) -> tuple[bytes, str | None]:
        a, p = self.address, cmd.params
        if cmd.op == "power":
            return visca.power(a, p[0]), None
        if cmd.op == "preset":
            return visca.preset(a, p[0], p[1]), None
        if cmd.op == "home":
            return visca.home(a), None
        if cmd.op == "zoom":
            return visca.zoom(a, p[0], p[1]), None
        if cmd.op == "focus":
            return visca.focus(a, p[0], p[1]), None
        if cmd.op == "focus_mode":
            return visca.focus_mode(a, p[0]), None
        if cmd.op == "pt":
            return visca.pan_tilt(a, p[0], p[1] or 1, p[2] or 1), None
        return visca.inquiry(a, p[0]), p[0]

    async def execute(self, prepared: CameraCommand) -> dict[str, Any]:
        frame, inquiry = self._frame(prepared)
        return await self._run(_Request(prepared, frame, inquiry is not None, inquiry))

    async def start_up(self) -> None:
        for step in self.visca.startup:
            if step == "address_set":
                if self.address == 1:  # address set always numbers the first camera 1
                    await self.link.write(visca.ADDRESS_SET)
            elif step == "if_clear":
                await self._run(_Request(None, visca.if_clear(self.address), True))
            else:
                name = step.removeprefix("inquire_")
                await self._run(_Request(None, visca.inquiry(self.address, name), True, name))

    # ---- replies ----

    def feed(self, data: bytes) -> None:
        for frame in self.framer.feed(data):
            self._on_reply(visca.decode_reply(frame))

    def _on_reply(self, r: visca.ViscaReply) -> None:
        if r.kind in ("ack", "completion", "error", "announce"):
            self._timeouts_in_a_row = 0
            if r.address != self.reply_address:
                self.counters["reply_address_mismatch"] += 1  # one camera per port: still ours
        if r.kind == "ack":
            self._on_ack(r.socket)
        elif r.kind == "completion":
            self._on_completion(r)
        elif r.kind == "error":
            self._on_error(r)
        elif r.kind == "announce":
            self.counters["announcements"] += 1
            self.fail_pending("the camera restarted")
            self.link.restart("camera announced power-up")
        elif r.kind not in ("address_set", "broadcast"):
            self.counters["unknown_frames"] += 1
        self._notify()

    def _on_ack(self, socket: int) -> None:
        req = self._awaiting
        if req is None or req.direct:
            self.counters["unexpected_acks"] += 1
            return
        old = self._sockets.get(socket)
        if old is not None:  # the camera reused a busy socket: the old command is over
            self.counters["socket_reused"] += 1
            old.finish()
        req.socket = socket
        self._sockets[socket] = req
        self._awaiting = None
        req.acked.set()

    def _on_completion(self, r: visca.ViscaReply) -> None:
        if r.socket == 0:
            req = self._awaiting
            if req is not None and req.direct:
                self._awaiting = None
                req.finish(result=visca.decode_inquiry(req.inquiry, r.data) if req.inquiry else {})
                return
        else:
            done = self._sockets.pop(r.socket, None)
            if done is not None:
                done.finish()
                return
        self.counters["odd_completions"] += 1  # completion for an empty socket: tolerated

    def _on_error(self, r: visca.ViscaReply) -> None:
        self.counters["errors"] += 1
        self.link.emit(DeviceEvent("error", detail=r.reason))
        target: _Request | None
        if r.code == 0x04 and r.socket in self._sockets:  # cancelled: names its socket
            target = self._sockets.pop(r.socket)
        elif self._awaiting is not None:
            target, self._awaiting = self._awaiting, None
        else:
            target = self._sockets.pop(r.socket, None)
        if target is None:
            self.counters["odd_completions"] += 1
            return
        target.finish(DeviceError(r.reason))

    def fail_pending(self, reason: str) -> None:
        for req in [*self._pending, *self._sockets.values()] + (
            [self._awaiting] if self._awaiting else []
        ):
            req.finish(DeviceError(reason))
        self._pending.clear()
        self._sockets.clear()
        self._awaiting = None
        self._notify()


# ---------------------------------------------------------------- Pelco -----------------


class PelcoDriver(CameraDriver):
    """Fire-and-forget: a command succeeds once written; frames paced by the profile."""

    framer: pelco.PelcoFramer

    def __init__(self, profile: Profile, address: int, link: Link) -> None:
        super().__init__(profile, address, link)
        assert profile.pelco is not None
        self.section = self.pelco = profile.pelco
        self.variant: pelco.Variant = "pelco-p" if profile.family == "pelco-p" else "pelco-d"
        self.framer = pelco.PelcoFramer(self.variant)
        self._lock = anyio.Lock()
        self._last_write = 0.0

    def _frame(self, cmd: CameraCommand) -> bytes:
        v, a, p = self.variant, self.address, cmd.params
        if cmd.op == "power":
            return pelco.power(v, a, p[0])
        if cmd.op == "preset":
            op = {"reset": "clear"}.get(p[0], p[0])
            return pelco.preset(v, a, op, p[1])
        if cmd.op == "home":
            if self.pelco.home_preset is None:
                raise CommandUsageError(f"profile {self.profile.name} has no home_preset")
            return pelco.preset(v, a, "recall", self.pelco.home_preset)
        if cmd.op == "pt":
            return pelco.pan_tilt(v, a, p[0], p[1], p[2])
        if cmd.op == "zoom":
            return pelco.zoom(v, a, p[0])
        if cmd.op == "focus":
            return pelco.focus(v, a, p[0])
        raise CommandUsageError(
            f"{self.profile.family} cameras do not answer inquiries or take {cmd.name}"
        )

    async def execute(self, prepared: CameraCommand) -> dict[str, Any]:
        frame = self._frame(prepared)
        gap = self.pelco.min_interval_ms / 1000
        async with self._lock:
            wait = self._last_write + gap - time.monotonic()
            if wait > 0:
                await anyio.sleep(wait)  # pacing: receivers drop frames that come too fast
            await self.link.write(frame)
            self._last_write = time.monotonic()
        return {}

    def feed(self, data: bytes) -> None:
        self.framer.feed(data)  # most receivers are silent; count what does arrive

    def fail_pending(self, reason: str) -> None:
        """Nothing is held back: commands are written straight away."""


# The camera families this module implements (the registry: roomagent/devices/families.py).
register(Family("visca", "camera", "visca", False, (1, 7, 1), ViscaDriver))
register(Family("pelco-d", "camera", "pelco", False, (1, 255, 1), PelcoDriver))
register(Family("pelco-p", "camera", "pelco", False, (0, 31, 0), PelcoDriver))
