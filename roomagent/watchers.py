"""The watchers of one source (a Rooms session, the room's history, the calendar, …): sync
callbacks told of each change, each with its unsubscribe.

A bottom-layer piece (imports nothing of roomagent), so every part can keep its watchers the
same way: a watcher that raises is logged and skipped, never a failure of its source.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Generic, ParamSpec

P = ParamSpec("P")


class Watchers(Generic[P]):
    """`watch(callback)` → its unsubscribe; `emit(*args)` calls every callback in order."""

    def __init__(self, log: logging.Logger, what: str) -> None:
        self._callbacks: list[Callable[P, None]] = []
        self._log = log
        self._what = what  # "rooms" → "rooms watcher failed"

    def watch(self, callback: Callable[P, None]) -> Callable[[], None]:
        """Call `callback` on each change until the returned unsubscribe is called (once or
        more: a second call does nothing)."""
        self._callbacks.append(callback)

        def unsubscribe() -> None:
            if callback in self._callbacks:
                self._callbacks.remove(callback)

        return unsubscribe

    def emit(self, *args: P.args, **kwargs: P.kwargs) -> None:
        # A copy: a callback may unsubscribe (itself or another) while being told.
        for callback in list(self._callbacks):
            try:
                callback(*args, **kwargs)
            except Exception:  # a watcher's bug must not break its source
                self._log.warning("%s watcher failed", self._what, exc_info=True)

    def __len__(self) -> int:
        return len(self._callbacks)
