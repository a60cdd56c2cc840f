"""When to try the Rooms client again after a session ended, and how much to say about it.

The backoff resets only after a session stayed up for STABLE_S: a peer that accepts and
closes every session at once (a crash loop, a full licence) is retried at the backed-off
pace, not hammered. The first attempt of a streak is logged at info; the ones after it at
debug, with a summary at warning every SUMMARY_S ("still unreachable after N attempts").
"""

from __future__ import annotations

import logging
import random
import time

from roomagent.logsetup import kv

log = logging.getLogger("roomagent.rooms")

BACKOFF_BASE = 0.5
STABLE_S = 30.0  # [assumption] a session this long proves the peer is back
SUMMARY_S = 60.0


def backoff_delay(failures: int, cap: float, base: float = BACKOFF_BASE) -> float:
    """First retry immediate, then exponential with jitter (half fixed, half random)."""
    if failures <= 0:
        return 0.0
    ceiling = min(cap, base * 2 ** (failures - 1))
    return ceiling / 2 + random.uniform(0, ceiling / 2)


class Reconnect:
    """The retry state of one session: failures in a row and the current streak of attempts."""

    def __init__(self, cap: float, *, stable_s: float = STABLE_S, summary_s: float = SUMMARY_S):
        self.cap = cap
        self.stable_s = stable_s
        self.summary_s = summary_s
        self.failures = 0
        self.attempts = 0  # since the link was last up for good (0: none yet)
        self._ready_at: float | None = None
        self._summary_at = 0.0

    @property
    def quiet(self) -> bool:
        """Past the first attempt of a streak: link changes are logged at debug."""
        return self.attempts > 1

    def ready(self) -> None:
        self._ready_at = time.monotonic()

    def ended(self, error: str, *, auth_failed: bool) -> float:
        """The session ended: the delay before the next attempt (logged as the policy says)."""
        now = time.monotonic()
        stayed = now - self._ready_at if self._ready_at is not None else 0.0
        self._ready_at = None
        if stayed >= self.stable_s:
            self.failures = self.attempts = 0  # it was back for good: a new streak starts
        else:
            self.failures += 1
        self.attempts += 1
        # A refused password will not fix itself quickly: retry at the capped pace.
        delay = self.cap if auth_failed else backoff_delay(self.failures, self.cap)
        fields = kv(delay_s=round(delay, 2), attempt=self.attempts, error=error)
        if self.attempts == 1:
            self._summary_at = now
            log.info("rooms reconnect", extra=fields)
        elif now - self._summary_at >= self.summary_s:
            self._summary_at = now
            log.warning(
                f"Rooms client still unreachable after {self.attempts} attempts",
                extra=kv(attempts=self.attempts, last_error=error, delay_s=round(delay, 2)),
            )
        else:
            log.debug("rooms reconnect", extra=fields)
        return delay
