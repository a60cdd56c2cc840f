"""Structured (logfmt) logs for journald, with secrets masked on the way out.

Every log line goes through `LogfmtFormatter`, which redacts: values registered with
`register_secret` (Rooms password, cloud tokens), `key=value` pairs whose key looks secret
(a meeting passcode is masked by its field, never registered) and the credential headers
websockets logs at debug are replaced by `***`, so a careless log call cannot leak one.
Control characters from peers are escaped, so a line in the log is always one line.
"""

from __future__ import annotations

import logging
import re
import sys
import threading
import time
from collections import OrderedDict
from typing import Any, TextIO

_SECRET_KEY = re.compile(
    r"(?i)\b(password|passwd|pwd|token|accesstoken|access_token|pcode\d?|passcode|secret|"
    r"authorization|meeting_password|guestpwd|livepullpwd|cookie)"
    r"(\\?\"?\s*[=:]\s*\\?\"?)([^\s\\\",}&]+)"
)
# A header line as websockets logs it at debug ("> Authorization: Basic cnQ6…"): the whole
# value goes, scheme and credential alike; a Cookie line loses every value.
_SECRET_HEADER = re.compile(
    r"(?i)\b(proxy-authorization|authorization|set-cookie|cookie|sec-websocket-protocol)"
    r"(:\s*)([^\"\n]*)"
)
# httpcore (under httpx) logs headers as a list of (b'Name', b'value') tuples at debug.
_SECRET_HEADER_TUPLE = re.compile(
    r"(?i)(b?['\"](?:proxy-authorization|authorization|set-cookie|cookie|"
    r"sec-websocket-protocol)['\"],\s*b?['\"])([^'\"]*)"
)
SECRET_HEADERS = frozenset(
    {"authorization", "proxy-authorization", "cookie", "set-cookie", "sec-websocket-protocol"}
)
# [assumption] a handful of configured secrets (Rooms, web, clouds) plus what the clouds hand
# out per meeting: bounded, oldest forgotten first, so redaction stays cheap for good.
MAX_SECRETS = 256
_secrets: OrderedDict[str, None] = OrderedDict()
_pattern: re.Pattern[str] | None = None
_lock = threading.Lock()


def register_secret(value: str | None) -> None:
    """Remember a secret value so it is masked wherever it would appear in a log line.

    For configured credentials only: a meeting passcode is masked by its field instead.
    """
    global _pattern
    if not value or len(value) < 3:
        return
    with _lock:
        if value in _secrets:
            _secrets.move_to_end(value)
            return
        _secrets[value] = None
        while len(_secrets) > MAX_SECRETS:
            _secrets.popitem(last=False)
        _pattern = None


def _known() -> re.Pattern[str] | None:
    global _pattern
    with _lock:
        if _pattern is None and _secrets:
            # Longest first, so a secret containing another is masked whole.
            ordered = sorted(_secrets, key=len, reverse=True)
            _pattern = re.compile("|".join(re.escape(v) for v in ordered))
        return _pattern


def redact(text: str) -> str:
    """Mask registered secrets, credential headers and secret-looking key=value pairs."""
    known = _known()
    if known is not None:
        text = known.sub("***", text)
    text = _SECRET_HEADER.sub(lambda m: f"{m.group(1)}{m.group(2)}***", text)
    text = _SECRET_HEADER_TUPLE.sub(lambda m: f"{m.group(1)}***", text)
    return _SECRET_KEY.sub(lambda m: f"{m.group(1)}{m.group(2)}***", text)


# Keys whose values never leave the agent, whatever a status or result dict holds.
_SECRET_FIELD = re.compile(
    r"(?i)^(?:.*_)?(password|passwd|passcode|pwd|token|accesstoken|secret|pcode\d?|"
    r"authorization|guestpwd|livepullpwd|cookie)(?:_hash)?$"
)
MASK = "***"


def scrub(value: Any) -> Any:
    """A JSON-safe copy with secret-named fields masked and registered secrets redacted."""
    if isinstance(value, dict):
        return {
            str(k): (MASK if _SECRET_FIELD.match(str(k)) and v not in (None, "") else scrub(v))
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [scrub(v) for v in value]
    if isinstance(value, str):
        return redact(value)
    if value is None or isinstance(value, bool | int | float):
        return value
    return redact(str(value))


# C0 controls, DEL and C1 controls: a peer's NUL, ESC or CR must not forge or hide log lines.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def escape_controls(text: str) -> str:
    """`text` with every control character written as an escape (\\n, \\x1b, \\u2028)."""
    if not _CONTROL.search(text):
        return text

    def escape(m: re.Match[str]) -> str:
        char = m.group()
        if char in _NAMED:
            return _NAMED[char]
        return f"\\x{ord(char):02x}" if ord(char) < 0x100 else f"\\u{ord(char):04x}"

    return _CONTROL.sub(escape, text)


def _quote(value: object) -> str:
    text = str(value)
    if text == "" or any(c in text for c in ' "=\\') or _CONTROL.search(text):
        return '"' + escape_controls(text.replace("\\", "\\\\").replace('"', '\\"')) + '"'
    return text


FRAME_SHOWN = 300  # characters of a WebSocket text frame shown in a debug line


def _mask_library_args(record: logging.LogRecord) -> None:
    """websockets' debug lines, masked by field: each handshake header comes as
    ("> %s: %s", name, value), and a frame as ("> %s", frame) whose repr cuts the middle out
    of the text (a passcode could stay while its key is cut off). So a secret header's value
    goes, and a text frame is shown redacted first, then shortened."""
    args = record.args
    if not isinstance(args, tuple) or not isinstance(record.msg, str):
        return
    if len(args) == 2 and record.msg.endswith("%s: %s") and str(args[0]).lower() in SECRET_HEADERS:
        record.args = (args[0], MASK)
    elif len(args) == 1 and record.msg.endswith("%s"):
        frame = args[0]
        data = getattr(frame, "data", None)
        kind = getattr(getattr(frame, "opcode", None), "name", "")
        if kind == "TEXT" and isinstance(data, bytes | bytearray | memoryview):
            text = redact(bytes(data).decode("utf-8", errors="replace"))
            shown = text if len(text) <= FRAME_SHOWN else text[:FRAME_SHOWN] + "…"
            record.args = (f"TEXT {shown} [{len(data)} bytes]",)


class LogfmtFormatter(logging.Formatter):
    """`ts=… level=… logger=… msg="…" key=value …` — one line per record."""

    def format(self, record: logging.LogRecord) -> str:
        _mask_library_args(record)
        ts = time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(record.created))
        parts = [
            f"ts={ts}.{int(record.msecs):03d}",
            f"level={record.levelname.lower()}",
            f"logger={record.name}",
            f"msg={_quote(redact(record.getMessage()))}",
        ]
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            parts.extend(f"{k}={_quote(redact(str(v)))}" for k, v in fields.items())
        if record.exc_info and record.levelno >= logging.ERROR:
            exc = record.exc_info[1]
            parts.append(f"error={_quote(f'{type(exc).__name__}: {exc}')}")
        return redact(" ".join(parts))


def setup_logging(level: str = "info", stream: TextIO | None = None) -> None:
    """Log to `stream` (stdout, for journald, unless told otherwise)."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    handler = logging.StreamHandler(stream or sys.stdout)
    handler.setFormatter(LogfmtFormatter())
    root.addHandler(handler)
    root.setLevel(level.upper())
    # Third-party chatter stays at warning unless debugging.
    for noisy in ("websockets", "httpx", "httpcore", "zeroconf", "asyncio"):
        logging.getLogger(noisy).setLevel(logging.DEBUG if level == "debug" else logging.WARNING)


def kv(**fields: object) -> dict[str, dict[str, object]]:
    """`log.info("joined", extra=kv(code=…))` attaches structured fields."""
    return {"fields": fields}


class LogBudget:
    """At most `lines` log lines per `per_s` seconds for each key (a flood from a peer must
    not fill the disk); `allow` says whether to log, and how many lines were held back."""

    def __init__(self, lines: int = 20, per_s: float = 1.0) -> None:
        self.lines = lines
        self.per_s = per_s
        self._window: dict[str, tuple[float, int, int]] = {}  # key → (start, logged, held)

    def allow(self, key: str) -> int | None:
        """None: hold this line back. Else log it, with the returned count of held-back lines
        (since the last logged one) as a field when it is not 0."""
        now = time.monotonic()
        start, logged, held = self._window.get(key, (now, 0, 0))
        if now - start >= self.per_s:
            start, logged = now, 0
        if logged >= self.lines:
            self._window[key] = (start, logged, held + 1)
            return None
        self._window[key] = (start, logged + 1, 0)
        return held
