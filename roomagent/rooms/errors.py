"""Errors of the Rooms session. `str(err)` is a plain sentence for people, never a secret."""

from __future__ import annotations

from roomagent.rooms.codes import describe


class RoomsError(Exception):
    """Base of every error the Rooms session raises."""


class RoomsUnreachable(RoomsError):
    """The Rooms client cannot be reached (refused, DNS, timeout, not a WebSocket server)."""


class RoomsAuthFailed(RoomsError):
    """The Rooms client refused the password."""

    def __init__(self, message: str = "authentication failed") -> None:
        super().__init__(message)


class RoomsRefused(RoomsError):
    """The Rooms client answered the request with a non-zero error_code (or a JSON-RPC error)."""

    def __init__(self, error_code: int, message: str = "", action: str | None = None) -> None:
        self.error_code = error_code
        self.message = message or describe(error_code)
        self.action = action
        what = f"{action} refused" if action else "request refused"
        super().__init__(f"Rooms client: {what}: {self.message} (error_code {error_code})")


class RoomsTimeout(RoomsError):
    """No answer (or no outcome event) in time."""


class RoomsDisconnected(RoomsError):
    """The connection is not up, or dropped while the request was pending."""

    def __init__(self, message: str = "Rooms client disconnected") -> None:
        super().__init__(message)


class RoomsBadRequest(RoomsError):
    """The request failed local validation; nothing was sent."""
