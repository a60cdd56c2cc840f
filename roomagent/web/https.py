"""One port that speaks HTTPS, and answers plain HTTP only with a pointer to HTTPS.

A browser told `http://box:8443/` would otherwise get a reset (a TLS server reading "GET")
and staff would not know why. Each connection's first byte decides: a TLS handshake record
(0x16) is wrapped in TLS with the certificate in use at that moment (so a reload applies to
the next connection); anything else is marked `plain_http` and the server answers it with a
redirect, never the page. The byte is peeked, not read, so nothing is lost either way.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import ssl
from typing import TYPE_CHECKING, Any

from websockets.asyncio.server import ServerConnection

if TYPE_CHECKING:  # the certificate machinery is imported only when TLS is on
    from roomagent.web.tls import ServerTls

log = logging.getLogger(__name__)

TLS_HANDSHAKE_RECORD = 0x16
FIRST_BYTE_TIMEOUT_S = 10.0  # a client that connects and says nothing is dropped
HANDSHAKE_TIMEOUT_S = 10.0


class _Held(asyncio.Protocol):
    """Keeps what arrives between the end of the TLS handshake and the hand-over."""

    def __init__(self) -> None:
        self.data: list[bytes] = []
        self.eof = False
        self.lost: tuple[Exception | None] | None = None

    def data_received(self, data: bytes) -> None:
        self.data.append(data)

    def eof_received(self) -> bool:
        self.eof = True
        return True  # the real protocol decides once it has the data

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = (exc,)


class Waiting:
    """Connections still deciding (peek or handshake), so a stopping server can drop them."""

    def __init__(self) -> None:
        self.peeking: set[SniffingConnection] = set()
        self.tasks: set[asyncio.Task[None]] = set()  # TLS handshakes under way

    def drop_all(self) -> None:
        for task in list(self.tasks):
            task.cancel()  # start_tls closes its transport when cancelled
        for connection in list(self.peeking):
            connection.drop()


class SniffingConnection(ServerConnection):
    """websockets' connection, started only once the first byte says TLS or plain HTTP."""

    def __init__(self, *args: Any, tls: ServerTls, waiting: Waiting, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.tls = tls
        self.waiting = waiting
        self.plain_http = False
        self._raw: asyncio.Transport | None = None
        self._view: socket.socket | None = None
        self._timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._raw = transport
        transport.pause_reading()  # asyncio reads nothing until the decision
        self.waiting.peeking.add(self)
        # A duplicate of the socket: asyncio allows no reader on a transport's own fd.
        fd = transport.get_extra_info("socket").fileno()
        self._view = socket.fromfd(fd, socket.AF_INET, socket.SOCK_STREAM)
        self._view.setblocking(False)
        self.loop.add_reader(self._view.fileno(), self._first_byte)
        self._timer = self.loop.call_later(FIRST_BYTE_TIMEOUT_S, self.drop)

    def connection_lost(self, exc: Exception | None) -> None:
        if self._raw is not None:  # dropped before websockets had the connection
            return
        super().connection_lost(exc)

    def _stop_waiting(self) -> asyncio.Transport:
        raw = self._raw
        assert raw is not None
        if self._view is not None:
            self.loop.remove_reader(self._view.fileno())
            self._view.close()
            self._view = None
        if self._timer is not None:
            self._timer.cancel()
        self.waiting.peeking.discard(self)
        return raw

    def drop(self) -> None:
        self._stop_waiting().abort()

    def _peek(self) -> bytes | None:
        """The first byte without consuming it; None: not there yet."""
        assert self._view is not None
        try:
            return self._view.recv(1, socket.MSG_PEEK)
        except (BlockingIOError, InterruptedError):
            return None
        except OSError:
            return b""

    def _first_byte(self) -> None:
        first = self._peek()
        if first is None:
            return  # spurious wake-up; the reader stays
        raw = self._stop_waiting()
        if not first:
            raw.abort()
            return
        if first[0] == TLS_HANDSHAKE_RECORD:
            task = self.loop.create_task(self._start_tls(raw))
            self.waiting.tasks.add(task)
            task.add_done_callback(self.waiting.tasks.discard)
            return
        self.plain_http = True
        self._hand_over(raw)
        raw.resume_reading()

    def _hand_over(self, transport: asyncio.BaseTransport) -> None:
        self._raw = None
        super().connection_made(transport)

    async def _start_tls(self, raw: asyncio.Transport) -> None:
        held = _Held()
        try:
            wrapped = await self.loop.start_tls(
                raw,
                held,
                self.tls.context,
                server_side=True,
                ssl_handshake_timeout=HANDSHAKE_TIMEOUT_S,
            )
        except (OSError, ssl.SSLError, TimeoutError, ConnectionError) as exc:
            # A browser that has not accepted the certificate yet ends up here too.
            log.debug("TLS handshake failed: %s", exc)
            raw.abort()
            return
        if wrapped is None:  # the peer left during the handshake
            raw.abort()
            return
        wrapped.set_protocol(self)
        self._hand_over(wrapped)
        for data in held.data:
            self.data_received(data)
        if held.eof:
            self.eof_received()  # websockets' connection never keeps a half-open socket
            wrapped.close()
        if held.lost is not None:
            self.connection_lost(held.lost[0])
