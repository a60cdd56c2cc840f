"""Remote commands (spec fleet.md, Topics/Rules): parsing, the allow list, de-duplication.

`{"id": "…", "action": "meeting.leave", …params}` or `{"id": "…", "press": {"device",
"button", "how"}}`; answered with `{"id", "ok": true, "result"}` or `{"id", "ok": false,
"error"}`. Transport-free: the bridge feeds payloads in and publishes what comes out.
"""

from __future__ import annotations

import json
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

import anyio

from roomagent.config.vocab import FLEET_PRESS, ButtonPhase, spoken

MAX_COMMAND_BYTES = 16 * 1024  # a command is a few keys; anything bigger is not one
MAX_ID_LENGTH = 128
DEDUP_SECONDS = 600.0  # "a command id seen in the last 10 minutes is answered again"
MAX_REMEMBERED = 10_000  # bound memory under a flood of ids
NOT_ALLOWED = "not allowed from the fleet"


class CommandError(ValueError):
    """A malformed command; `command_id` is kept when the payload had a usable one."""

    def __init__(self, reason: str, command_id: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.command_id = command_id


@dataclass(frozen=True)
class Command:
    id: str
    action: dict[str, Any] | None = None  # {"action": name, **params}
    press: dict[str, Any] | None = None  # {"device", "button", "how"}

    @property
    def name(self) -> str:
        return FLEET_PRESS if self.press is not None else str((self.action or {}).get("action"))


def parse_command(payload: bytes | str) -> Command:
    if len(payload) > MAX_COMMAND_BYTES:
        raise CommandError(f"command larger than {MAX_COMMAND_BYTES} bytes")
    try:
        data = json.loads(payload)
    except (ValueError, UnicodeDecodeError):
        raise CommandError("command is not JSON") from None
    if not isinstance(data, dict):
        raise CommandError("command must be a JSON object")
    command_id = data.get("id")
    if not isinstance(command_id, str) or not 0 < len(command_id) <= MAX_ID_LENGTH:
        raise CommandError(f'command needs an "id": a string of 1-{MAX_ID_LENGTH} characters')
    has_action, has_press = "action" in data, FLEET_PRESS in data
    if has_action == has_press:
        raise CommandError('command needs either "action" or "press"', command_id)
    if has_press:
        return Command(command_id, press=_press(data, command_id))
    name = data["action"]
    if not isinstance(name, str) or not name:
        raise CommandError('"action" must be an action name such as meeting.leave', command_id)
    params = {k: v for k, v in data.items() if k != "id"}
    return Command(command_id, action=params)


def _press(data: dict[str, Any], command_id: str) -> dict[str, Any]:
    press = data[FLEET_PRESS]
    extra = set(data) - {"id", FLEET_PRESS}
    if not isinstance(press, dict) or extra:
        raise CommandError('"press" must be {"device", "button", "how"} alone', command_id)
    device, button = press.get("device"), press.get("button")
    how = press.get("how", ButtonPhase.PRESS)
    if not isinstance(device, str) or not isinstance(button, int) or isinstance(button, bool):
        raise CommandError('"press" needs "device" (string) and "button" (integer)', command_id)
    if not isinstance(how, str) or how not in ButtonPhase._value2member_map_:
        raise CommandError(f'"how" must be {spoken(ButtonPhase)}', command_id)
    return {"device": device, "button": button, "how": ButtonPhase(how)}


def refusal(command: Command, allowed: list[str] | tuple[str, ...]) -> str | None:
    """Why the fleet may not run this command here, or None."""
    return None if command.name in allowed else f"{command.name}: {NOT_ALLOWED}"


def ok_result(command_id: str, result: Any) -> dict[str, Any]:
    return {"id": command_id, "ok": True, "result": result}


def error_result(command_id: str | None, error: str) -> dict[str, Any]:
    return {"id": command_id, "ok": False, "error": error}


@dataclass
class _Seen:
    at: float
    done: anyio.Event = field(default_factory=anyio.Event)
    result: dict[str, Any] | None = None


class CommandLog:
    """Command ids of the last DEDUP_SECONDS with their results (QoS 1 redelivers)."""

    def __init__(self, window: float = DEDUP_SECONDS, limit: int = MAX_REMEMBERED) -> None:
        self.window = window
        self.limit = limit
        self._seen: OrderedDict[str, _Seen] = OrderedDict()

    def _expire(self, now: float) -> None:
        while self._seen:
            oldest = next(iter(self._seen.values()))
            if oldest.at > now - self.window and len(self._seen) <= self.limit:
                break
            self._seen.popitem(last=False)

    def begin(self, command_id: str) -> _Seen | None:
        """None: a new id, now recorded (call `finish`). Else the earlier run's entry."""
        now = time.monotonic()
        self._expire(now)
        earlier = self._seen.get(command_id)
        if earlier is not None:
            return earlier
        self._seen[command_id] = _Seen(now)
        return None

    def finish(self, command_id: str, result: dict[str, Any]) -> None:
        entry = self._seen.get(command_id)
        if entry is not None:
            entry.result = result
            entry.done.set()

    async def answer_of(self, entry: _Seen) -> dict[str, Any]:
        """The earlier run's answer (waits while it is still running)."""
        await entry.done.wait()
        assert entry.result is not None
        return entry.result

    def __len__(self) -> int:
        return len(self._seen)
