"""The room's history: recent events (typed by `HistoryEvent`), the last error, the action
counts and the watchers that hear of every change. It outlives restarts of the parts, so the
page keeps its history and the CLI's status line its watch across a reload.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable
from datetime import datetime
from typing import Any

from roomagent.control.model import HistoryEvent
from roomagent.logsetup import kv
from roomagent.watchers import Watchers

log = logging.getLogger("roomagent.agent")

EVENT_HISTORY = 500
# How long bookkeeping (history, log line, page update) waits behind the press or event that
# caused it: long enough for the frame just written to reach its peer, even when that peer
# shares this loop (the demo, the bench), short against anything a person sees.
BOOKKEEPING_DELAY_S = 0.002
# The results an action can have (roomagent_actions_total{result}).
ACTION_RESULTS = ("ok", "refused", "failed", "busy", "not_applicable")

Update = dict[str, Any]
Watcher = Callable[[Update], None]


class History:
    def __init__(self, limit: int = EVENT_HISTORY) -> None:
        self._events: deque[dict[str, Any]] = deque(maxlen=limit)
        self._watchers: Watchers[[Update]] = Watchers(log, "agent")
        self.last_error: str | None = None
        self.last_error_at: str | None = None  # `ts` of the event that set last_error
        self.actions: dict[str, dict[str, int]] = {}

    def record(
        self,
        source: str,
        kind: str,
        message: str,
        *,
        level: int = logging.INFO,
        error: str | None = None,
        **fields: Any,
    ) -> dict[str, Any]:
        """One history event and one log line. `message` is prose for the log and people;
        the page and API clients read the structured `fields` beside it, never the prose.
        `error` (or any record at ERROR level) becomes the last error, timed by this event."""
        ts = datetime.now().astimezone().isoformat(timespec="milliseconds")
        event = HistoryEvent(ts=ts, source=source, kind=kind, message=message, **fields).dump()
        self._events.append(event)
        if error is None and level >= logging.ERROR:
            error = message
        if error is not None:
            self.last_error, self.last_error_at = error, ts
        log.log(level, message, extra=kv(source=source, kind=kind, **fields))
        self.emit({"type": "event", "event": event})
        return event

    def count_action(self, action: str, result: str) -> None:
        """One more `action` with `result` (one of ACTION_RESULTS)."""
        by_result = self.actions.setdefault(action, {})
        by_result[result] = by_result.get(result, 0) + 1

    def recent(self, limit: int = 100) -> list[dict[str, Any]]:
        return list(self._events)[-limit:] if limit > 0 else []

    def emit(self, update: Update) -> None:
        self._watchers.emit(update)  # a watcher's bug is logged, never the room's failure

    def watch(self, callback: Watcher) -> Callable[[], None]:
        return self._watchers.watch(callback)
