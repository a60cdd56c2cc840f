"""A spec-faithful Rooms client (CSAPI server) on a real WebSocket server, with fault injection.

What tests, the HIL suite and `roomagent demo` talk to. Wire shapes come from
roomagent.rooms.protocol (the same envelope constants the session parses) and follow the
seed's examples: the whole-Query response carries no "method", the meeting tree nests times
in meeting_time{} and self fields in self_info.share_user_info, and layout_type is 0.

    async with RoomsSimulator(password="pw") as sim:   # or: await sim.run()
        ... sim.url, sim.received, await sim.next_call(), sim.stall(), await sim.restart()
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from http import HTTPStatus
from typing import Any, Literal

import anyio
import anyio.lowlevel
from anyio.abc import TaskGroup
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request as HttpRequest
from websockets.http11 import Response as HttpResponse
from websockets.typing import Subprotocol

from roomagent.logsetup import kv, register_secret
from roomagent.rooms.link import auth_subprotocol
from roomagent.rooms.protocol import event_frame
from roomagent.sim.rooms_meeting import Role, format_code
from roomagent.sim.rooms_rpc import ALL_MODULES, MODULES, CallWaiter, RoomsRequests, send_frame

# The import path tests, the HIL suite, benchmarks and the demo use.
__all__ = [
    "ALL_MODULES",
    "GARBAGE_KINDS",
    "MODULES",
    "GarbageKind",
    "Role",
    "RoomsSimulator",
    "format_code",
]

log = logging.getLogger("roomagent.sim.rooms")

GarbageKind = Literal[
    "invalid_json", "wrong_types", "unknown_id", "unknown_event", "huge", "binary"
]
GARBAGE_KINDS: tuple[str, ...] = GarbageKind.__args__  # type: ignore[attr-defined]


class RoomsSimulator(RoomsRequests):
    """The Rooms client's CSAPI, simulated. All settable attributes take effect at once.

    The meeting lives in SimulatedMeeting (rooms_meeting.py), the request answering in
    RoomsRequests (rooms_rpc.py); this class owns the server, connections and fault knobs."""

    def __init__(
        self,
        password: str = "",
        host: str = "127.0.0.1",
        port: int = 0,
        event_delay: float = 0.2,
        *,
        huge_frame_bytes: int = 2 << 20,
    ) -> None:
        register_secret(password)
        self.password = password
        self.host = host
        self.port = port
        self.event_delay = event_delay
        self.huge_frame_bytes = huge_frame_bytes
        # Behaviour knobs (tests flip them).
        self.logged_in = True  # False → Start/Join refused with 3001
        self.can_start = True  # account may start quick meetings
        self.echo_subprotocol = True  # some clients answer without the header
        self.nested_events = False  # payload under params.data instead of beside sub_event
        self.waiting_room_codes: set[str] = set()
        self.meeting_passwords: dict[str, str] = {}  # code → passcode the join must give
        self.join_role: Role = "attendee"
        self.join_participants = 3
        self.host_present = True  # when we are not the host ourselves
        self.pmi_code = "800100200"
        self.received: list[tuple[str, dict[str, Any]]] = []
        # A flapping peer: close every connection this long after answering its first Query.
        self.close_after_query: float | None = None
        self.connections_total = 0  # every connection accepted, for reconnect-rate checks
        self._connections: dict[ServerConnection, set[str]] = {}
        self._server: Server | None = None
        self._tg: TaskGroup | None = None
        self._generation = 0  # bumps on restart: pending transitions of the old life are void
        self._stalled = False
        self._resumed: anyio.Event | None = None
        self._call_waiters: list[CallWaiter] = []
        self.reset_state()

    # ---- server ----

    @property
    def url(self) -> str:
        return f"ws://{self.host}:{self.port}"

    @property
    def connection_count(self) -> int:
        return len(self._connections)

    def subscriptions(self) -> list[set[str]]:
        return [set(subs) for subs in self._connections.values()]

    # ---- lifecycle ----

    async def __aenter__(self) -> RoomsSimulator:
        await self._listen()  # first: a busy port raises OSError as itself
        self._tg = anyio.create_task_group()
        await self._tg.__aenter__()
        return self

    async def __aexit__(self, *exc_info: Any) -> bool | None:
        await self._close(abort=False)
        assert self._tg is not None
        self._tg.cancel_scope.cancel()
        return await self._tg.__aexit__(*exc_info)

    async def run(self) -> None:
        """Serve until cancelled."""
        async with self:
            await anyio.sleep_forever()

    async def _listen(self) -> None:
        self._server = await serve(
            self._handle,
            self.host,
            self.port,
            process_request=self._check_auth,
            select_subprotocol=self._select_subprotocol,
            ping_interval=None,  # the client keeps the link alive, not us
            close_timeout=1.0,
            compression=None,
        )
        self.port = self._server.sockets[0].getsockname()[1]
        log.debug("rooms simulator listening", extra=kv(url=self.url))

    async def _close(self, *, abort: bool) -> None:
        if abort:
            self.drop_connections()
        server, self._server = self._server, None
        if server is not None:
            server.close()
            await server.wait_closed()

    async def kill(self) -> None:
        """The Rooms client dies: listener closed, connections cut without a close frame."""
        self._generation += 1
        await self._close(abort=True)

    @property
    def listening(self) -> bool:
        return self._server is not None

    async def listen_again(self) -> None:
        """After kill(): listen on the same port again with the state kept (the client
        restarted while the meeting went on). The demo's "rooms start"."""
        if self._server is None:
            self._stalled = False
            await self._listen()

    async def restart(self) -> None:
        """Die and come back on the same port with fresh state (no subscriptions)."""
        await self.kill()
        self.reset_state()
        self._stalled = False
        await self._listen()

    def drop_connections(self) -> None:
        """Cut every connection at the TCP level (no close handshake)."""
        for ws in list(self._connections):
            ws.transport.abort()

    def stall(self) -> None:
        """Half-open peer: stop reading, so no pongs and no answers (the socket stays up)."""
        self._stalled = True
        self._resumed = anyio.Event()
        for ws in self._connections:
            ws.transport.pause_reading()

    def resume(self) -> None:
        self._stalled = False
        for ws in self._connections:
            ws.transport.resume_reading()
        if self._resumed is not None:
            self._resumed.set()

    # ---- auth ----

    def _check_auth(
        self, connection: ServerConnection, request: HttpRequest
    ) -> HttpResponse | None:
        if auth_subprotocol(self.password) in _offered(request.headers):
            return None
        log.info("rooms simulator refused a password")
        return connection.respond(HTTPStatus.UNAUTHORIZED, "authentication failed\n")

    def _select_subprotocol(
        self, connection: ServerConnection, subprotocols: Any
    ) -> Subprotocol | None:
        expected = auth_subprotocol(self.password)
        return Subprotocol(expected) if self.echo_subprotocol and expected in subprotocols else None

    # ---- connections ----

    async def _handle(self, ws: ServerConnection) -> None:
        self._connections[ws] = set()
        self.connections_total += 1
        try:
            async for raw in ws:
                if self._stalled and self._resumed is not None:
                    await self._resumed.wait()
                await self._answer(ws, raw)
        except ConnectionClosed:
            pass
        finally:
            self._connections.pop(ws, None)

    # ---- events ----

    def _later(self, transition: Callable[[], None]) -> None:
        """Run `transition` after event_delay, unless the simulator restarted meanwhile."""
        generation = self._generation

        async def fire() -> None:
            await anyio.sleep(self.event_delay)
            if generation == self._generation:
                transition()

        assert self._tg is not None, "use `async with RoomsSimulator(...)` or `await sim.run()`"
        self._tg.start_soon(fire)

    def _emit(self, name: str, payload: dict[str, Any], module: str = "Meeting") -> None:
        frame = event_frame(module, name, payload, nested=self.nested_events)
        self._broadcast(frame, module)

    def _broadcast(self, frame: str | bytes, module: str | None) -> None:
        assert self._tg is not None
        for ws, subs in list(self._connections.items()):
            if module is None or module in subs or ALL_MODULES in subs:
                self._tg.start_soon(send_frame, ws, frame)

    async def emit_event(self, name: str, payload: dict[str, Any] | None = None) -> None:
        """Send an Event/Meeting now (for tests of events nobody asked for)."""
        self._emit(name, payload or {})
        await anyio.lowlevel.checkpoint()

    # ---- fault injection ----

    async def send_garbage(self, kind: GarbageKind) -> None:
        """Send hostile frames of `kind` to every connection."""
        frames: list[str | bytes]
        if kind == "invalid_json":
            frames = ['{"jsonrpc": "2.0", "id": ', "\x00not json"]
        elif kind == "wrong_types":
            frames = [
                '{"jsonrpc":"2.0","id":"zz","result":"not an object"}',
                '{"jsonrpc":"2.0","id":["x"],"result":{"error_code":0}}',
                event_frame("Meeting", "LayoutSwitchChanged", {"layout_switch_info": "banana"}),
                '{"jsonrpc":"2.0","method":"Event/Meeting","params":"nope"}',
            ]
        elif kind == "unknown_id":
            frames = ['{"jsonrpc":"2.0","id":"no-such-id","result":{"error_code":0,"message":""}}']
        elif kind == "unknown_event":
            frames = [event_frame("Meeting", "SomethingNew", {"x": 1})]
        elif kind == "huge":
            frames = [event_frame("Meeting", "Padding", {"pad": "x" * self.huge_frame_bytes})]
        elif kind == "binary":
            frames = [b"\x00\x01\x02"]
        else:
            raise ValueError(f"unknown garbage kind {kind!r}; known: {', '.join(GARBAGE_KINDS)}")
        for ws in list(self._connections):
            for frame in frames:
                await send_frame(ws, frame)

    async def flood(self, seconds: float, name: str = "LayoutSwitchChanged") -> int:
        """Send events to every connection as fast as the socket takes them for `seconds`;
        returns how many went out (a peer gone wild, for load tests)."""
        frame = event_frame("Meeting", name, {"layout_switch_info": {"current_switch_type": 2}})
        if name == "LayoutSwitchChanged":
            # A real client's events describe its own state: a session that re-reads the
            # Meeting state mid-flood (coalescing) must read the layout the events say.
            self.switch_type = 2
        sent = 0
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and self._connections:
            for ws in list(self._connections):
                for _ in range(50):
                    await send_frame(ws, frame)
                sent += 50
            await anyio.lowlevel.checkpoint()
        return sent


def _offered(headers: Headers) -> list[str]:
    return [
        p.strip() for value in headers.get_all("Sec-WebSocket-Protocol") for p in value.split(",")
    ]
