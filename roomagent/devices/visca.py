"""VISCA codec: pure framing, encoders and decoders (bytes in → frames out), both directions.

Controller side: `ViscaFramer` + `decode_reply`; camera side (emulator): `ViscaFramer` +
`decode_command`. The framer resynchronises on garbage, bounds its buffer and counts drops.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from roomagent.devices.framing import BufferedFramer

TERMINATOR = 0xFF
BROADCAST = 0x88
MIN_FRAME, MAX_FRAME = 3, 16  # header + 1..14 data bytes + FF

ERROR_REASONS = {
    0x01: "message length error",
    0x02: "syntax error",
    0x03: "command buffer full",
    0x04: "command cancelled",
    0x05: "no socket",
    0x41: "command not executable",
}

ADDRESS_SET = bytes([BROADCAST, 0x30, 0x01, TERMINATOR])
IF_CLEAR_BROADCAST = bytes([BROADCAST, 0x01, 0x00, 0x01, TERMINATOR])

# Pan-tilt drive direction → (a, b) bytes of `8x 01 06 01 VV WW a b FF`.
PT_DIRECTIONS = {
    "up": (0x03, 0x01),
    "down": (0x03, 0x02),
    "left": (0x01, 0x03),
    "right": (0x02, 0x03),
    "up_left": (0x01, 0x01),
    "up_right": (0x02, 0x01),
    "down_left": (0x01, 0x02),
    "down_right": (0x02, 0x02),
    "stop": (0x03, 0x03),
}
PRESET_OPS = {"reset": 0x00, "set": 0x01, "recall": 0x02}
DRIVE_CODES = {"stop": 0x00, "tele": 0x02, "wide": 0x03, "far": 0x02, "near": 0x03}
# Inquiry name → command body (after the header); answers come back as `z0 50 … FF`.
INQUIRIES = {
    "power": (0x09, 0x04, 0x00),
    "zoom": (0x09, 0x04, 0x47),
    "focus_mode": (0x09, 0x04, 0x38),
    "pan_tilt": (0x09, 0x06, 0x12),
    "version": (0x09, 0x00, 0x02),
}


@dataclass
class ViscaFramer(BufferedFramer):
    """Splits a byte stream into VISCA frames (header with the top bit set … FF)."""

    max_frame: int = MAX_FRAME
    counters: dict[str, int] = field(
        default_factory=lambda: {"frames": 0, "dropped_bytes": 0, "bad_frames": 0}
    )
    _buf: bytearray = field(default_factory=bytearray)

    def feed(self, data: bytes) -> list[bytes]:
        buf = self._buf
        buf += data
        frames: list[bytes] = []
        pos, size = 0, len(buf)
        while pos < size:
            if not 0x80 <= buf[pos] < TERMINATOR:  # not a header: garbage between frames
                pos += 1
                self.counters["dropped_bytes"] += 1
                continue
            end = buf.find(TERMINATOR, pos + 1, pos + self.max_frame)
            if end < 0:
                if size - pos < self.max_frame:
                    break  # incomplete: wait for more bytes (buffer stays < max_frame)
                pos += 1  # no FF where one must be: drop this header and resync
                self.counters["dropped_bytes"] += 1
                continue
            if end - pos + 1 < MIN_FRAME:
                self.counters["bad_frames"] += 1
                self.counters["dropped_bytes"] += end - pos + 1
            else:
                frames.append(bytes(buf[pos : end + 1]))
                self.counters["frames"] += 1
            pos = end + 1
        del buf[:pos]
        return frames


ReplyKind = Literal["ack", "completion", "error", "announce", "address_set", "broadcast", "other"]


@dataclass(frozen=True)
class ViscaReply:
    kind: ReplyKind
    address: int  # camera address the reply came from (0 for broadcasts)
    socket: int = 0
    data: bytes = b""
    code: int = 0

    @property
    def reason(self) -> str:
        return ERROR_REASONS.get(self.code, f"error {self.code:02X}")


def decode_reply(frame: bytes) -> ViscaReply:
    """A camera → controller frame (from ViscaFramer) to a reply."""
    head, body = frame[0], frame[1:-1]
    if head == BROADCAST:
        if len(body) == 2 and body[0] == 0x30:
            return ViscaReply("address_set", 0, data=bytes(body[1:]))
        return ViscaReply("broadcast", 0, data=bytes(body))
    address = (head >> 4) - 8
    if head & 0x0F or address < 1:
        return ViscaReply("other", max(address, 0), data=bytes(body))
    kind, socket = body[0] >> 4, body[0] & 0x0F
    if kind == 0x4 and len(body) == 1:
        return ViscaReply("ack", address, socket)
    if kind == 0x5:
        return ViscaReply("completion", address, socket, bytes(body[1:]))
    if kind == 0x6 and len(body) == 2:
        return ViscaReply("error", address, socket, code=body[1])
    if body == b"\x38":
        return ViscaReply("announce", address)
    return ViscaReply("other", address, data=bytes(body))


def decode_command(frame: bytes) -> tuple[int, bytes]:
    """A controller → camera frame to (address, body); address 8 is the broadcast."""
    return frame[0] & 0x0F, bytes(frame[1:-1])


# ---- controller → camera encoders -------------------------------------------------------


def message(address: int, *body: int) -> bytes:
    return bytes([0x80 | address, *body, TERMINATOR])


def nibbles(value: int, count: int) -> list[int]:
    """`0p 0q 0r 0s` encoding of a value (two's complement for negatives)."""
    value &= (1 << (4 * count)) - 1
    return [(value >> (4 * i)) & 0x0F for i in reversed(range(count))]


def from_nibbles(data: bytes, signed: bool = False) -> int:
    value = 0
    for b in data:
        value = (value << 4) | (b & 0x0F)
    bits = 4 * len(data)
    if signed and value >= 1 << (bits - 1):
        value -= 1 << bits
    return value


def power(address: int, on: bool) -> bytes:
    return message(address, 0x01, 0x04, 0x00, 0x02 if on else 0x03)


def _drive(address: int, item: int, action: str, speed: int | None) -> bytes:
    """`8x 01 04 <item> <code>`; a speed gives the variable form `2p` / `3p`."""
    code = DRIVE_CODES[action]
    if action != "stop" and speed is not None:
        code = (code << 4) | speed
    return message(address, 0x01, 0x04, item, code)


def zoom(address: int, action: str, speed: int | None = None) -> bytes:
    """action: stop | tele | wide; speed 0–7 gives the variable form `2p` / `3p`."""
    return _drive(address, 0x07, action, speed)


def zoom_direct(address: int, position: int) -> bytes:
    return message(address, 0x01, 0x04, 0x47, *nibbles(position, 4))


def focus(address: int, action: str, speed: int | None = None) -> bytes:
    """action: stop | far | near."""
    return _drive(address, 0x08, action, speed)


def focus_mode(address: int, mode: str) -> bytes:
    """mode: auto | manual | one_push."""
    if mode == "one_push":
        return message(address, 0x01, 0x04, 0x18, 0x01)
    return message(address, 0x01, 0x04, 0x38, 0x02 if mode == "auto" else 0x03)


def pan_tilt(address: int, direction: str, pan_speed: int, tilt_speed: int) -> bytes:
    a, b = PT_DIRECTIONS[direction]
    return message(address, 0x01, 0x06, 0x01, pan_speed, tilt_speed, a, b)


def home(address: int) -> bytes:
    return message(address, 0x01, 0x06, 0x04)


def preset(address: int, op: str, number: int) -> bytes:
    return message(address, 0x01, 0x04, 0x3F, PRESET_OPS[op], number)


def if_clear(address: int) -> bytes:
    return message(address, 0x01, 0x00, 0x01)


def inquiry(address: int, name: str) -> bytes:
    return message(address, *INQUIRIES[name])


def decode_inquiry(name: str, data: bytes) -> dict[str, Any]:
    """The payload of `z0 50 … FF` for an inquiry to readable fields."""
    if name == "power":
        state = {0x02: "on", 0x03: "off", 0x04: "standby"}.get(data[0] if data else -1)
        return {"power": state or f"unknown ({data.hex(' ')})"}
    if name == "zoom" and len(data) >= 4:
        return {"zoom": from_nibbles(data[:4])}
    if name == "focus_mode" and data:
        return {"focus": {0x02: "auto", 0x03: "manual"}.get(data[0], f"0x{data[0]:02X}")}
    if name == "pan_tilt" and len(data) >= 8:
        return {"pan": from_nibbles(data[:4], True), "tilt": from_nibbles(data[4:8], True)}
    if name == "version" and len(data) >= 7:
        return {
            "vendor": f"{data[0]:02X}{data[1]:02X}",
            "model": f"{data[2]:02X}{data[3]:02X}",
            "rom": f"{data[4]:02X}{data[5]:02X}",
            "sockets": data[6],
        }
    return {name: data.hex(" ") or "none"}


# ---- camera → controller encoders (used by the emulator) ---------------------------------


def reply_header(address: int) -> int:
    return (address + 8) << 4


def ack(address: int, socket: int) -> bytes:
    return bytes([reply_header(address), 0x40 | socket, TERMINATOR])


def completion(address: int, socket: int, data: bytes = b"") -> bytes:
    return bytes([reply_header(address), 0x50 | socket, *data, TERMINATOR])


def error(address: int, socket: int, code: int) -> bytes:
    return bytes([reply_header(address), 0x60 | socket, code, TERMINATOR])


def announce(address: int) -> bytes:
    return bytes([reply_header(address), 0x38, TERMINATOR])


def address_set_reply(next_address: int) -> bytes:
    return bytes([BROADCAST, 0x30, next_address, TERMINATOR])
