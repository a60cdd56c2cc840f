"""Camera emulator: a VISCA or Pelco-D/P camera on a pseudo-terminal, from its profile.

VISCA: two sockets, ACK then completion after `completion_delay`, buffer-full when both are
busy, inquiries, presets, movement state, power, the power-up announcement. Pelco: records
and applies frames, answers nothing (as real receivers).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import anyio

from roomagent.devices import pelco, visca
from roomagent.devices.profiles import Profile
from roomagent.sim.emulator import SerialEmulator

VERSION_REPLY = bytes([0x00, 0x20, 0x05, 0x1A, 0x01, 0x00, 0x02])  # vendor, model, rom, sockets


@dataclass
class CameraState:
    power: bool = True
    zoom: int = 0
    pan: int = 0
    tilt: int = 0
    focus: str = "auto"
    moving: dict[str, str] = field(default_factory=dict)  # group → direction/action
    presets: dict[int, tuple[int, int, int]] = field(default_factory=dict)
    last_recalled: int | None = None


class CameraEmulator(SerialEmulator):
    def __init__(self, profile: Profile, address: int = 1, port: str | None = None) -> None:
        super().__init__(profile, f"roomagent_camera_{profile.name}", port)
        self.address = address
        self.state = CameraState()
        self.completion_delay = 0.02
        self.sockets: dict[int, bytes] = {}  # socket → command executing there
        self._inject: list[int] = []
        if profile.family == "visca":
            assert profile.visca is not None
            self.reply_address = profile.visca.reply_address or address
            self.socket_count = 2
            self._visca = visca.ViscaFramer()
        else:
            self._pelco = pelco.PelcoFramer("pelco-p" if profile.family == "pelco-p" else "pelco-d")

    # ---- controls ----

    def inject_error(self, code: int) -> None:
        """Answer the next command with error `code` (0x01 length … 0x41 not executable)."""
        self._inject.append(code)

    async def power_cycle(self) -> None:
        self.sockets.clear()
        self.state.moving.clear()
        self.state.power = True
        if self.profile.family == "visca":
            await self.port.write(visca.announce(self.reply_address))

    def on_unplug(self) -> None:
        self.sockets.clear()
        self.state.moving.clear()  # a camera that lost its controller stops where it is

    async def handle(self, data: bytes) -> None:
        if self.profile.family != "visca":
            for frame in self._pelco.feed(data):
                self.record(pelco.encode(self._pelco.variant, frame))
                if frame.address == self.address and not self.muted:
                    self._apply_pelco(frame)
            return
        for raw in self._visca.feed(data):
            self.record(raw)
            if not self.muted:
                await self._on_visca(raw)

    # ---- Pelco ----

    def _apply_pelco(self, f: pelco.PelcoFrame) -> None:
        op = f.preset_op
        if op is not None:
            self._preset(op, f.data2)
        elif f.cmd1 in (pelco.CAMERA_ON_CMD1, pelco.CAMERA_OFF_CMD1):
            self.state.power = f.cmd1 == pelco.CAMERA_ON_CMD1
        else:
            bits = f.cmd2
            pt = next((d for d, b in pelco.PT_BITS.items() if b == bits & 0x1E and b), None)
            zoom = {pelco.ZOOM_TELE: "tele", pelco.ZOOM_WIDE: "wide"}.get(bits & 0x60)
            self._set_moving("pt", pt)
            self._set_moving("zoom", zoom)

    def _set_moving(self, group: str, action: str | None) -> None:
        if action is None or action == "stop":
            self.state.moving.pop(group, None)
        else:
            self.state.moving[group] = action

    # ---- VISCA ----

    async def _reply(self, frame: bytes) -> None:
        await self.port.write(frame)

    async def _on_visca(self, raw: bytes) -> None:
        address, body = visca.decode_command(raw)
        r = self.reply_address
        if address == 8:  # broadcast
            if body == bytes([0x30, 0x01]):
                self.address = 1
                await self._reply(visca.address_set_reply(2))
            elif body == bytes([0x01, 0x00, 0x01]):
                self.sockets.clear()
                await self._reply(raw)  # IF_Clear broadcast comes back round the chain
            return
        if address != self.address:
            return
        if self._inject:
            await self._reply(visca.error(r, 0, self._inject.pop(0)))
            return
        if body[:1] == b"\x09":
            await self._reply(self._answer_inquiry(body))
            return
        if body == bytes([0x01, 0x00, 0x01]):  # IF_Clear: cancels everything, direct answer
            self.sockets.clear()
            self.state.moving.clear()
            await self._reply(visca.completion(r, 0))
            return
        effect = self._command_effect(body)
        if effect is None:
            await self._reply(visca.error(r, 0, 0x02))  # syntax error
            return
        if not self.state.power and body[:3] != bytes([0x01, 0x04, 0x00]):  # power on/off
            await self._reply(visca.error(r, 0, 0x41))  # not executable while off
            return
        free = next((s for s in range(1, self.socket_count + 1) if s not in self.sockets), None)
        if free is None:
            await self._reply(visca.error(r, 0, 0x03))  # command buffer full
            return
        self.sockets[free] = raw
        await self._reply(visca.ack(r, free))
        immediate = body[:3] in (bytes([0x01, 0x06, 0x01]), bytes([0x01, 0x04, 0x07]))
        delay = 0.0 if immediate else self.completion_delay
        self.spawn(lambda: self._complete(free, raw, effect, delay))

    async def _complete(self, socket: int, raw: bytes, effect: Any, delay: float) -> None:
        await anyio.sleep(delay)
        if self.sockets.get(socket) is not raw:
            return  # cleared (IF_Clear, power cycle, unplug) while executing
        del self.sockets[socket]
        effect()
        self.note_activity()
        if not self.muted:
            await self._reply(visca.completion(self.reply_address, socket))

    def _command_effect(self, body: bytes) -> Any:
        """A callable applying the command to the state, or None for a syntax error."""
        s = self.state
        if body[:3] == bytes([0x01, 0x04, 0x00]) and body[3:] in (b"\x02", b"\x03"):
            return lambda: setattr(s, "power", body[3] == 0x02)
        if body[:3] == bytes([0x01, 0x04, 0x3F]) and len(body) == 5 and body[3] <= 2:
            op = next(name for name, code in visca.PRESET_OPS.items() if code == body[3])
            n = body[4]
            return lambda: self._preset(op, n)
        if body == bytes([0x01, 0x06, 0x04]):
            return self._home
        if body[:3] == bytes([0x01, 0x04, 0x07]) and len(body) == 4:
            action = {0: "stop", 2: "tele", 3: "wide"}.get(body[3] >> 4 or body[3])
            return None if action is None else lambda: self._set_moving("zoom", action)
        if body[:3] == bytes([0x01, 0x04, 0x08]) and len(body) == 4:
            action = {0: "stop", 2: "far", 3: "near"}.get(body[3] >> 4 or body[3])
            return None if action is None else lambda: self._set_moving("focus", action)
        if body[:3] == bytes([0x01, 0x04, 0x38]) and body[3:] in (b"\x02", b"\x03"):
            return lambda: setattr(s, "focus", "auto" if body[3] == 2 else "manual")
        if body == bytes([0x01, 0x04, 0x18, 0x01]):
            return lambda: None
        if body[:3] == bytes([0x01, 0x04, 0x47]) and len(body) == 7:
            return lambda: setattr(s, "zoom", visca.from_nibbles(body[3:7]))
        if body[:3] == bytes([0x01, 0x06, 0x01]) and len(body) == 7:
            ab = (body[5], body[6])
            direction = next((d for d, v in visca.PT_DIRECTIONS.items() if v == ab), None)
            return None if direction is None else lambda: self._set_moving("pt", direction)
        return None

    def _home(self) -> None:
        self.state.pan = self.state.tilt = 0

    def _preset(self, op: str, n: int) -> None:
        """op: set | recall | clear (Pelco) / reset (VISCA)."""
        s = self.state
        if op in ("clear", "reset"):
            s.presets.pop(n, None)
        elif op == "set":
            s.presets[n] = (s.pan, s.tilt, s.zoom)
        else:
            s.last_recalled = n
            s.pan, s.tilt, s.zoom = s.presets.get(n, (s.pan, s.tilt, s.zoom))

    def _answer_inquiry(self, body: bytes) -> bytes:
        s, r = self.state, self.reply_address
        name = next((k for k, v in visca.INQUIRIES.items() if bytes(v) == body), None)
        if name == "power":
            return visca.completion(r, 0, bytes([0x02 if s.power else 0x03]))
        if name == "zoom":
            return visca.completion(r, 0, bytes(visca.nibbles(s.zoom, 4)))
        if name == "focus_mode":
            return visca.completion(r, 0, bytes([0x02 if s.focus == "auto" else 0x03]))
        if name == "pan_tilt":
            return visca.completion(r, 0, bytes(visca.nibbles(s.pan, 4) + visca.nibbles(s.tilt, 4)))
        if name == "version":
            return visca.completion(r, 0, VERSION_REPLY)
        return visca.error(r, 0, 0x02)
