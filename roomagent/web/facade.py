"""What the web server needs from the agent: the facade of `roomagent.control.core.RoomCore`.

The server depends on this Protocol only (docs/architecture.md, "control → web"), so the page
and the API can be tested against any object with these methods and the real Agent can change
behind it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from roomagent.config.vocab import ButtonPhase
from roomagent.control.model import RoomStatus


class AgentFacade(Protocol):
    def status(self) -> dict[str, Any]:
        """version, uptime_s, room{name,id,state}, rooms{link,url,last_error},
        meeting{status,code,title,host_present}, devices[{name,kind,profile,port,online,
        reason,counters}], calendar{current,next,today[]}, last_error,
        last_error_at (the `ts` of the event that set last_error): `status_model()` dumped."""
        ...

    def status_model(self) -> RoomStatus:
        """The same status as the typed model, for readers of fields (/metrics): no dump."""
        ...

    def recent_events(self, limit: int = 100) -> list[dict[str, Any]]:
        """Newest last: {ts, source, kind, message} plus the structured fields of
        `roomagent.control.model.EVENT_FIELDS`, which the page words its sentences from."""
        ...

    async def perform(self, action: dict[str, Any]) -> dict[str, Any]:
        """Run one binding action: {"action": "camera.preset", "camera": "cam", "preset": 1}."""
        ...

    async def device_command(self, device: str, command: str, args: list[Any]) -> dict[str, Any]:
        """A device test command in the CLI vocabulary ("preset_recall", "led", "text", …)."""
        ...

    async def press(self, device: str, button: int, kind: ButtonPhase = ButtonPhase.PRESS) -> Any:
        """A virtual button, handled exactly like a real panel press."""
        ...

    def config_view(self) -> dict[str, Any]:
        """The effective configuration with secrets masked as "***"."""
        ...

    def watch(self, callback: Callable[[dict[str, Any]], None]) -> Callable[[], None]:
        """`callback(update)` on any state change (sync, must not block); returns unsubscribe."""
        ...
