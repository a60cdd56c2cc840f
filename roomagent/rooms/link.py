"""The link to the Rooms client: its states, what observers get, opening one connection.

`LinkObservers` is the session's observer side (watch, wait for READY or another state);
`open_link` makes the WebSocket connection with subprotocol auth and turns the library's
refusals into the Rooms errors a person can act on.
"""

from __future__ import annotations

import base64
import enum
import logging
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import anyio
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus, InvalidURI

from roomagent.rooms.errors import (
    RoomsAuthFailed,
    RoomsDisconnected,
    RoomsError,
    RoomsTimeout,
    RoomsUnreachable,
)
from roomagent.rooms.models import RoomsEvent
from roomagent.watchers import Watchers

log = logging.getLogger("roomagent.rooms")

# [assumption] spec §1: a wrong password is refused with HTTP 401/403, or the server
# closes at once; these close codes right after the handshake mean "refused".
AUTH_REFUSED_STATUSES = frozenset({401, 403})
AUTH_REFUSED_CLOSE_CODES = frozenset({1008, 4001, 4003, 4401, 4403})
MESSAGE_TOO_BIG = 1009


class LinkState(enum.StrEnum):
    CONNECTING = "connecting"
    READY = "ready"  # connected, subscribed, mirror queried
    DISCONNECTED = "disconnected"
    AUTH_FAILED = "auth_failed"


@dataclass(frozen=True)
class RoomsChange:
    """What observers get: the link moved, the mirror changed, or an event arrived."""

    kind: Literal["link", "mirror", "event"]
    link: LinkState
    event: RoomsEvent | None = None
    mirror: dict[str, Any] | None = None


Watcher = Callable[[RoomsChange], None]


def auth_subprotocol(password: str) -> str:
    """`auth-<urlencode(base64(password))>` (spec §1)."""
    encoded = base64.b64encode(password.encode("utf-8")).decode("ascii")
    return "auth-" + urllib.parse.quote(encoded, safe="")


class LinkObservers:
    """Watchers of a session and waits on its link state (the session's base)."""

    def __init__(self) -> None:
        self.link = LinkState.DISCONNECTED
        self.last_error: str | None = None
        self._watchers: Watchers[[RoomsChange]] = Watchers(log, "rooms")
        self._changed: anyio.Event | None = None
        self._fatal: RoomsError | None = None

    def watch(self, callback: Watcher) -> Callable[[], None]:
        """Call `callback(change)` on link, mirror and event changes; returns unsubscribe."""
        return self._watchers.watch(callback)

    def _notify(self, change: RoomsChange) -> None:
        self._watchers.emit(change)  # an observer's bug is logged, never the session's end
        changed, self._changed = self._changed, None
        if changed is not None:
            changed.set()

    async def wait_ready(self, timeout: float | None = None) -> None:  # noqa: ASYNC109
        """Return once READY; RoomsTimeout after `timeout`; a one-shot run's failure raises."""
        try:
            with anyio.fail_after(timeout):
                while self.link != LinkState.READY:
                    if self._fatal is not None:
                        raise self._fatal
                    if self._changed is None:
                        self._changed = anyio.Event()
                    await self._changed.wait()
        except TimeoutError:
            why = f" ({self.last_error})" if self.last_error else ""
            raise RoomsTimeout(f"Rooms client not ready within {timeout:g} s{why}") from None

    async def wait_link(self, link: LinkState, timeout: float | None = None) -> None:  # noqa: ASYNC109
        """Return once the link is `link` or passes through it (even if it moves on at once,
        e.g. DISCONNECTED on the way to a reconnect); RoomsTimeout after `timeout`."""
        if self.link == link:
            return
        reached = anyio.Event()

        def on_change(change: RoomsChange) -> None:
            if change.kind == "link" and change.link == link:
                reached.set()

        unsubscribe = self.watch(on_change)
        try:
            with anyio.fail_after(timeout):
                await reached.wait()
        except TimeoutError:
            why = f" ({self.last_error})" if self.last_error else ""
            raise RoomsTimeout(f"Rooms link not {link.value} within {timeout:g} s{why}") from None
        finally:
            unsubscribe()


async def open_link(
    url: str, password: str, *, open_timeout: float, ping_interval: float, max_size: int
) -> ClientConnection:
    """One connection to the Rooms client, or the Rooms error saying why not."""
    try:
        return await connect(
            url,
            subprotocols=[auth_subprotocol(password)],  # type: ignore[list-item]
            open_timeout=open_timeout,
            # Dead peer detected within two intervals: ping, wait half, close a quarter.
            ping_interval=ping_interval,
            ping_timeout=ping_interval / 2,
            close_timeout=min(ping_interval / 4, 5.0),
            max_size=max_size,
            proxy=None,
            user_agent_header="roomagent",
        )
    except InvalidStatus as exc:
        status = exc.response.status_code
        if status in AUTH_REFUSED_STATUSES:
            raise RoomsAuthFailed() from None
        raise RoomsUnreachable(f"Rooms client at {url} answered HTTP {status}") from None
    except InvalidURI:
        raise RoomsUnreachable(f"not a valid Rooms URL: {url}") from None
    except (OSError, TimeoutError, InvalidHandshake) as exc:
        reason = plain_reason(exc)
        raise RoomsUnreachable(f"cannot reach the Rooms client at {url}: {reason}") from None


def why_ended(
    closed: ConnectionClosed | None, ready: bool, frames: int, setup_error: RoomsError | None
) -> RoomsError:
    """Why a connection ended: refused (closed at once with an auth code), set-up failed, or
    disconnected with the peer's close code."""
    close = (closed.rcvd or closed.sent) if closed else None
    if (
        not ready
        and frames == 0
        and closed
        and closed.rcvd
        and closed.rcvd.code in AUTH_REFUSED_CLOSE_CODES
    ):
        return RoomsAuthFailed()
    if setup_error is not None and not ready:
        return RoomsDisconnected(f"Rooms session set-up failed: {setup_error}")
    reason = f"{close.code} {close.reason}".strip() if close else "connection lost"
    return RoomsDisconnected(f"Rooms client disconnected ({reason})")


def plain_reason(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return "timed out"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror.lower()
    return str(exc) or type(exc).__name__
