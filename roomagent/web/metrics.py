"""`GET /metrics`: the typed room status (control.model.RoomStatus) and the server's own
counters, exposed through prometheus_client in the text format (version 0.0.4).

The families are built in roomagent.web.metrics_families, loaded by the first scrape: an idle
room box that nobody scrapes does not carry prometheus_client (with its http.server, wsgiref
and email imports, ~1 MiB).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from roomagent.control.model import RoomStatus

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
WEB_COUNTERS = (
    "http_requests",
    "auth_failures",
    "rate_limited",
    "origin_refused",
    "bad_requests",
    "api_requests",
    "api_errors",
    "updates_dropped",
)


@dataclass
class ServerCounters:
    """What the web server itself counts."""

    http_requests: int = 0
    auth_failures: int = 0
    rate_limited: int = 0
    origin_refused: int = 0
    bad_requests: int = 0  # malformed or duplicate headers: 400
    api_requests: int = 0
    api_errors: int = 0
    api_connections: int = 0
    updates_dropped: int = 0
    extra: dict[str, int] = field(default_factory=dict)


def render(status: RoomStatus | None, server: ServerCounters) -> str:
    """The exposition text; without a status only the server's own figures."""
    # Lazy for memory: prometheus_client loads with the first scrape (see the module doc).
    from roomagent.web.metrics_families import exposition

    return exposition(status, server)
