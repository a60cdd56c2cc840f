"""Structured (logfmt) logs on stdout for journald, with secrets masked on the way out.

Every log line goes through `RedactingFilter`: values registered with `register_secret`
(Rooms password, cloud tokens, meeting passcodes) and `key=value` pairs whose key looks
secret are replaced by `***`, so a careless log call cannot leak a credential.
"""

from __future__ import annotations

import logging
import re
import sys
import threading
import time
from typing import Any

_SECRET_KEY = re.compile(
    r"(?i)\b(password|passwd|pwd|token|accesstoken|access_token|pcode\d?|passcode|secret|"
    r"authorization|meeting_password|guestpwd|livepullpwd)(\"?\s*[=:]\s*\"?)([^\s\",}&]+)"
)
_secrets: set[str] = set()
_lock = threading.Lock()


def register_secret(value: str | None) -> None:
    """Remember a secret value so it is masked wherever it would appear in a log line."""
    if value and len(value) >= 3:
        with _lock:
            _secrets.add(value)


def redact(text: str) -> str:
    """Mask registered secrets and secret-looking key=value pairs in `text`."""
    with _lock:
        known = sorted(_secrets, key=len, reverse=True)
    for value in known:
        if value in text:
            text = text.replace(value, "***")
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


def _quote(value: object) -> str:
    text = str(value)
    if text == "" or any(c in text for c in ' "=\t\n'):
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
    return text


class LogfmtFormatter(logging.Formatter):
    """`ts=… level=… logger=… msg="…" key=value …` — one line per record."""

    def format(self, record: logging.LogRecord) -> str:
        ts = time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(record.created))
        parts = [
            f"ts={ts}.{int(record.msecs):03d}",
            f"level={record.levelname.lower()}",
            f"logger={record.name}",
            f"msg={_quote(record.getMessage())}",
        ]
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            parts.extend(f"{k}={_quote(v)}" for k, v in fields.items())
        if record.exc_info and record.levelno >= logging.ERROR:
            exc = record.exc_info[1]
            parts.append(f"error={_quote(f'{type(exc).__name__}: {exc}')}")
        return redact(" ".join(parts))


def setup_logging(level: str = "info") -> None:
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(LogfmtFormatter())
    root.addHandler(handler)
    root.setLevel(level.upper())
    # Third-party chatter stays at warning unless debugging.
    for noisy in ("websockets", "httpx", "httpcore", "zeroconf", "asyncio"):
        logging.getLogger(noisy).setLevel(logging.DEBUG if level == "debug" else logging.WARNING)


def kv(**fields: object) -> dict[str, dict[str, object]]:
    """`log.info("joined", extra=kv(code=…))` attaches structured fields."""
    return {"fields": fields}
