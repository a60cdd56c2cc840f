"""Pelco-D and Pelco-P codec: pure encoders and a framer with checksum checks and resync.

Pelco-D: `FF addr cmd1 cmd2 d1 d2 sum` (sum = addr..d2 mod 256).
Pelco-P: `A0 addr cmd1 cmd2 d1 d2 AF xor` (xor of the first seven bytes).
Both use the same command bits; receivers send nothing back on most models.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from roomagent.devices.framing import BufferedFramer

Variant = Literal["pelco-d", "pelco-p"]

# cmd2 bits (cmd1 bit 0 = focus near, shared by D and P as the spec reads them).
RIGHT, LEFT, UP, DOWN, ZOOM_TELE, ZOOM_WIDE, FOCUS_FAR = 0x02, 0x04, 0x08, 0x10, 0x20, 0x40, 0x80
FOCUS_NEAR_CMD1 = 0x01
# cmd1 camera on/off: bit 3 with the sense bit 7 (on = 88, off = 08).
CAMERA_ON_CMD1, CAMERA_OFF_CMD1 = 0x88, 0x08
PRESET_OPS = {"set": 0x03, "clear": 0x05, "recall": 0x07}
PT_BITS = {
    "up": UP,
    "down": DOWN,
    "left": LEFT,
    "right": RIGHT,
    "up_left": UP | LEFT,
    "up_right": UP | RIGHT,
    "down_left": DOWN | LEFT,
    "down_right": DOWN | RIGHT,
    "stop": 0,
}
FRAME_LEN = {"pelco-d": 7, "pelco-p": 8}
SYNC = {"pelco-d": 0xFF, "pelco-p": 0xA0}


@dataclass(frozen=True)
class PelcoFrame:
    address: int
    cmd1: int
    cmd2: int
    data1: int
    data2: int

    @property
    def is_preset(self) -> bool:
        return self.cmd1 == 0 and self.cmd2 in PRESET_OPS.values()

    @property
    def preset_op(self) -> str | None:
        if not self.is_preset:
            return None
        return next(op for op, code in PRESET_OPS.items() if code == self.cmd2)


def _checksum(variant: Variant, head: bytes) -> int:
    if variant == "pelco-d":
        return sum(head[1:6]) & 0xFF
    value = 0
    for b in head[:7]:
        value ^= b
    return value


def encode(variant: Variant, frame: PelcoFrame) -> bytes:
    body = bytes([frame.address, frame.cmd1, frame.cmd2, frame.data1, frame.data2])
    head = bytes([SYNC[variant]]) + body + (b"\xaf" if variant == "pelco-p" else b"")
    return head + bytes([_checksum(variant, head)])


def drive(variant: Variant, address: int, cmd1: int, cmd2: int, d1: int = 0, d2: int = 0) -> bytes:
    return encode(variant, PelcoFrame(address, cmd1, cmd2, d1, d2))


def pan_tilt(variant: Variant, address: int, direction: str, pan: int, tilt: int) -> bytes:
    bits = PT_BITS[direction]
    pan_speed = pan if bits & (LEFT | RIGHT) else 0
    tilt_speed = tilt if bits & (UP | DOWN) else 0
    return drive(variant, address, 0, bits, pan_speed, tilt_speed)


def zoom(variant: Variant, address: int, action: str) -> bytes:
    bits = {"tele": ZOOM_TELE, "wide": ZOOM_WIDE, "stop": 0}[action]
    return drive(variant, address, 0, bits)


def focus(variant: Variant, address: int, action: str) -> bytes:
    if action == "near":
        return drive(variant, address, FOCUS_NEAR_CMD1, 0)
    return drive(variant, address, 0, FOCUS_FAR if action == "far" else 0)


def stop(variant: Variant, address: int) -> bytes:
    return drive(variant, address, 0, 0)


def preset(variant: Variant, address: int, op: str, number: int) -> bytes:
    return drive(variant, address, 0, PRESET_OPS[op], 0, number)


def power(variant: Variant, address: int, on: bool) -> bytes:
    return drive(variant, address, CAMERA_ON_CMD1 if on else CAMERA_OFF_CMD1, 0)


@dataclass
class PelcoFramer(BufferedFramer):
    """Splits a stream into checked Pelco frames; bad checksums resync on the next sync byte."""

    variant: Variant
    counters: dict[str, int] = field(
        default_factory=lambda: {"frames": 0, "dropped_bytes": 0, "bad_checksums": 0}
    )
    _buf: bytearray = field(default_factory=bytearray)

    def feed(self, data: bytes) -> list[PelcoFrame]:
        buf, size_needed, sync = self._buf, FRAME_LEN[self.variant], SYNC[self.variant]
        buf += data
        frames: list[PelcoFrame] = []
        pos = 0
        while True:
            start = buf.find(sync, pos)
            if start < 0:
                self.counters["dropped_bytes"] += len(buf) - pos
                pos = len(buf)
                break
            self.counters["dropped_bytes"] += start - pos
            pos = start
            if len(buf) - pos < size_needed:
                break
            raw = bytes(buf[pos : pos + size_needed])
            valid = raw[-1] == _checksum(self.variant, raw)
            if self.variant == "pelco-p":
                valid = valid and raw[6] == 0xAF
            if not valid:
                self.counters["bad_checksums"] += 1
                self.counters["dropped_bytes"] += 1
                pos += 1  # this sync byte was data or noise: look for the next one
                continue
            frames.append(PelcoFrame(*raw[1:6]))
            self.counters["frames"] += 1
            pos += size_needed
        del buf[:pos]
        return frames
