"""When the agent's last error happened: the facade's `last_error` is a bare sentence, so the
page could not say "2 min ago" or tell an old, resolved error from a fresh one.

`ErrorTimedAgent` wraps the facade and adds `last_error_at` to every status: the timestamp of
the newest recent event whose message carries the error (the agent records every error in
its history), else the moment this server first saw that error (it has scrolled out of the
history). Everything else passes straight through.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from roomagent.web.facade import AgentFacade

# How far back to look for the error's event; the page shows far fewer, and a status call
# must stay cheap (it runs on every live update).
SEARCH_EVENTS = 200


def error_time(error: str, events: list[dict[str, Any]]) -> Any:
    """The `ts` of the newest event whose message contains `error`, or None."""
    for event in reversed(events):
        message = event.get("message")
        if isinstance(message, str) and error in message:
            return event.get("ts")
    return None


class ErrorTimedAgent:
    """The agent facade, with `last_error_at` added to `status()`."""

    def __init__(self, agent: AgentFacade) -> None:
        self.inner = agent
        self._seen: tuple[str, str] | None = None  # (error, first seen) for scrolled-out errors

    def status(self) -> dict[str, Any]:
        status = self.inner.status()
        error = status.get("last_error")
        if not isinstance(error, str) or not error:
            status["last_error_at"] = None
            return status
        when = error_time(error, self.inner.recent_events(SEARCH_EVENTS))
        if when is None:
            if self._seen is None or self._seen[0] != error:
                self._seen = (error, datetime.now().astimezone().isoformat(timespec="seconds"))
            when = self._seen[1]
        status["last_error_at"] = when
        return status

    def recent_events(self, limit: int = 100) -> list[dict[str, Any]]:
        return self.inner.recent_events(limit)

    async def perform(self, action: dict[str, Any]) -> dict[str, Any]:
        return await self.inner.perform(action)

    async def device_command(self, device: str, command: str, args: list[Any]) -> dict[str, Any]:
        return await self.inner.device_command(device, command, args)

    async def press(self, device: str, button: int, kind: str = "press") -> Any:
        return await self.inner.press(device, button, kind)

    def config_view(self) -> dict[str, Any]:
        return self.inner.config_view()

    def watch(self, callback: Callable[[dict[str, Any]], None]) -> Callable[[], None]:
        return self.inner.watch(callback)
