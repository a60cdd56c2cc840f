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
import random
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
from roomagent.rooms import codes
from roomagent.rooms.link import auth_subprotocol
from roomagent.rooms.models import MeetingStatus, RoleType
from roomagent.rooms.protocol import (
    QUERY,
    SUBSCRIBE,
    UNSUBSCRIBE,
    BadFrame,
    Request,
    call_method,
    error_frame,
    event_frame,
    parse_request,
    result_frame,
    wire_name,
)

log = logging.getLogger("roomagent.sim.rooms")

MODULES = frozenset({"Meeting"})
ALL_MODULES = "*"  # a Subscribe with "path": [] means every module
Role = Literal["host", "co-host", "attendee"]
_ROLE_TYPES: dict[str, RoleType] = {
    "host": RoleType.HOST,
    "co-host": RoleType.CO_HOST,
    "attendee": RoleType.ATTENDEE,
}
GarbageKind = Literal[
    "invalid_json", "wrong_types", "unknown_id", "unknown_event", "huge", "binary"
]
GARBAGE_KINDS: tuple[str, ...] = GarbageKind.__args__  # type: ignore[attr-defined]


class _Refusal(Exception):
    def __init__(self, code: int, message: str | None = None) -> None:
        super().__init__(message or codes.describe(code))
        self.code = code
        self.message = message or codes.describe(code)


def format_code(code: str) -> str:
    """123456789 → "123 456 789" (how the Rooms client shows a meeting code)."""
    return " ".join(code[i : i + 3] for i in range(0, len(code), 3))


class RoomsSimulator:
    """The Rooms client's CSAPI, simulated. All settable attributes take effect at once."""

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
        self._call_waiters: list[tuple[str | None, anyio.Event, list[tuple[str, Any]]]] = []
        self.reset_state()

    # ---- state ----

    def reset_state(self) -> None:
        self.status = MeetingStatus.IDLE
        self.role: Role = "attendee"
        self.participants = 1
        self.switch_type = 1
        self.show_voice_active = True
        self.meeting_code = ""
        self.meeting_title = ""
        self.meeting_type = 0
        self.meeting_password = ""
        self.begin_time = 0
        self.mic_on = True
        self.camera_on = True

    @property
    def url(self) -> str:
        return f"ws://{self.host}:{self.port}"

    @property
    def connection_count(self) -> int:
        return len(self._connections)

    def subscriptions(self) -> list[set[str]]:
        return [set(subs) for subs in self._connections.values()]

    def meeting_tree(self) -> dict[str, Any]:
        """data.meeting as the seed's example shapes it."""
        in_meeting = self.status == MeetingStatus.IN_MEETING
        role_type = _ROLE_TYPES[self.role] if in_meeting else RoleType.UNKNOWN
        enable = in_meeting and self.participants >= 2
        host_status = self.role == "host" or self.host_present
        return {
            "multi_scree_info": {"multi_screen_status": 0, "main_monitor_id": ""},
            "layout_info": {
                "main_screen_layout_info": {
                    "layout_model": 0,
                    "show_small_view": True,
                    "layout_type": 0,
                },
                "layout_switch_info": {
                    "current_switch_type": self.switch_type,
                    "layout_switch_enable": enable,
                    "layout_switch_list": [
                        {"switch_type": t, "enable": enable}
                        | ({"show_voice_active": self.show_voice_active} if t == 2 else {})
                        for t in range(1, 8)
                    ],
                },
            },
            "meeting_info": self._meeting_info() | {"host_status": int(bool(host_status))},
            "self_info": {
                "share_user_info": {
                    "app_uid": "sim-uid-1",
                    "app_id": "sim-corp",
                    "user_id": "sim-user-1" if in_meeting else "",
                    "host": in_meeting and self.role == "host",
                    "co_host": in_meeting and self.role == "co-host",
                    "instance_id": 5,
                    "user_type": 1,
                    "is_creator": in_meeting and self.role == "host",
                    "role_type": int(role_type),
                    "video_on": in_meeting and self.camera_on,
                    "audio_on": in_meeting and self.mic_on,
                    "screen_sharing": False,
                    "screen_share_type": 0,
                    "web_sharing": False,
                    "nickname": "Simulated Room",
                }
            },
            "meeting_list": [
                {
                    "meeting_title": "Weekly sync",
                    "meeting_time": {"begin_time": 1686207304, "end_time": 1686210904},
                    "meeting_creator_name": "Alice",
                    "meeting_code": "612345789",
                    "meeting_id": "1000001",
                    "meeting_type": 1,
                    "formatted_meeting_code": format_code("612345789"),
                }
            ],
        }

    def _meeting_info(self) -> dict[str, Any]:
        active = self.status in (MeetingStatus.IN_MEETING, MeetingStatus.WAITING_ROOM)
        code = self.meeting_code if active else ""
        return {
            "meeting_status": int(self.status),
            "meeting_type": self.meeting_type if active else -1,
            "meeting_title": self.meeting_title if active else "",
            "meeting_code": code,
            "meeting_password": self.meeting_password if active else "",
            "meeting_time": {
                "begin_time": self.begin_time if active else 0,
                "end_time": self.begin_time + 3600 if active else 0,
            },
            "formatted_meeting_code": format_code(code) if code else "",
            "meeting_creator_name": ("Simulated Room" if self.role == "host" else "Alice")
            if active
            else "",
            "meeting_url": f"https://meeting.tencent.com/dm/{code}" if code else "",
        }

    def _self_user_info(self) -> dict[str, Any]:
        # Events carry the flat form (the Query example nests it): clients must take both.
        return dict(self.meeting_tree()["self_info"]["share_user_info"])

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

    # ---- requests ----

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

    async def _answer(self, ws: ServerConnection, raw: str | bytes) -> None:
        request = parse_request(raw)
        if isinstance(request, BadFrame):
            code = codes.JSONRPC_PARSE_ERROR
            if request.reason != "invalid JSON":
                code = codes.JSONRPC_INVALID_REQUEST
            await _send(ws, error_frame(request.id, code, request.reason))
            return
        self.received.append((request.method, request.params))
        self._wake_call_waiters(request)
        reply = self._reply(ws, request)
        await _send(ws, reply)
        if request.method == QUERY and self.close_after_query is not None and self._tg:
            self._tg.start_soon(_close_later, ws, self.close_after_query)

    def _reply(self, ws: ServerConnection, request: Request) -> str:
        method, params = request.method, request.params
        try:
            if method in (SUBSCRIBE, UNSUBSCRIBE):
                self._subscribe(ws, params, method == SUBSCRIBE)
                return result_frame(request.id, method, {"error_code": 0, "message": ""})
            if method == QUERY:
                data, partial = self._query(params)
                result: dict[str, Any] = {
                    "error_code": 0,
                    "message": "成功" if partial else "",
                    "data": data,
                }
                # Seed: the whole-Query response example has no "method"; the partial one has.
                return result_frame(request.id, method, result, echo_method=partial)
            if method == call_method("Meeting"):
                action = params.get("action")
                self._call(action, params.get("action_params"))
                accepted = {"error_code": 0, "message": "", "action": action}
                return result_frame(request.id, method, accepted)
        except _Refusal as refusal:
            refused: dict[str, Any] = {"error_code": refusal.code, "message": refusal.message}
            if method.startswith("Call/"):
                refused["action"] = params.get("action")
            return result_frame(request.id, method, refused)
        return error_frame(request.id, codes.JSONRPC_METHOD_NOT_FOUND, "Method not found")

    def _subscribe(self, ws: ServerConnection, params: dict[str, Any], on: bool) -> None:
        path = params.get("path", [])
        if not isinstance(path, list) or not all(isinstance(p, str) for p in path):
            raise _Refusal(codes.INVALID_PARAMS, "path must be a list of names")
        if path and path[0] not in MODULES:
            raise _Refusal(codes.INVALID_PARAMS, f"unknown module {path[0]}")
        module = path[0] if path else ALL_MODULES
        subs = self._connections.setdefault(ws, set())
        if on:
            subs.add(module)
        else:
            subs.discard(module)
            if module == ALL_MODULES:
                subs.clear()

    def _query(self, params: dict[str, Any]) -> tuple[dict[str, Any], bool]:
        path = params.get("path")
        if not isinstance(path, list) or not path or not all(isinstance(p, str) for p in path):
            raise _Refusal(codes.INVALID_PARAMS, "path must be a non-empty list of names")
        if path[0] not in MODULES:
            raise _Refusal(codes.INVALID_PARAMS, f"unknown path {'/'.join(path)}")
        tree = self.meeting_tree()
        if len(path) == 1:
            return {"meeting": tree}, False
        node: Any = tree
        for segment in path[1:]:
            node = _child(node, wire_name(segment))
            if node is _MISSING:
                raise _Refusal(codes.INVALID_PARAMS, f"unknown path {'/'.join(path)}")
        return {wire_name(path[-1]): node}, True

    # ---- the six actions ----

    def _call(self, action: Any, action_params: Any) -> None:
        if action_params is None:
            action_params = {}
        if not isinstance(action_params, dict):
            raise _Refusal(codes.INVALID_PARAMS, "action_params must be an object")
        handler = self._actions().get(action) if isinstance(action, str) else None
        if handler is None:
            raise _Refusal(codes.UNKNOWN_METHOD, f"unknown action {action}")
        handler(action_params)

    def _actions(self) -> dict[str, Callable[[dict[str, Any]], None]]:
        return {
            "StartMeeting": self._start_meeting,
            "JoinMeeting": self._join_meeting,
            "DissolveMeeting": self._dissolve_meeting,
            "LeaveMeeting": self._leave_meeting,
            "LeaveWaitingRoom": self._leave_waiting_room,
            "SwitchLayout": self._switch_layout,
        }

    def _require(self, status: MeetingStatus) -> None:
        if self.status != status:
            raise _Refusal(codes.WRONG_MEETING_STATE, f"not allowed while {self.status.label}")

    def _start_meeting(self, p: dict[str, Any]) -> None:
        kind = p.get("meeting_type", "instant")
        if kind not in ("instant", "pmi"):
            raise _Refusal(codes.INVALID_PARAMS, "meeting_type must be instant or pmi")
        if not (self.logged_in and self.can_start):
            raise _Refusal(codes.NO_MEETING_CAPABILITY)
        self._require(MeetingStatus.IDLE)
        self.status = MeetingStatus.JOINING
        code = self.pmi_code if kind == "pmi" else _new_code()

        def enter() -> None:
            self._enter(code, "Simulated Room's quick meeting", "host", 1, password="")
            self._emit_joined()

        self._later(enter)

    def _join_meeting(self, p: dict[str, Any]) -> None:
        code, password = p.get("meeting_code"), p.get("password", "")
        if not isinstance(code, str) or not code.isdigit():
            raise _Refusal(codes.INVALID_PARAMS, "meeting_code must be a string of digits")
        if not isinstance(password, str):
            raise _Refusal(codes.INVALID_PARAMS, "password must be a string")
        for key in ("mic_enable", "camera_enable"):
            if key in p and not isinstance(p[key], bool):
                raise _Refusal(codes.INVALID_PARAMS, f"{key} must be true or false")
        if not self.logged_in:
            raise _Refusal(codes.NO_MEETING_CAPABILITY)
        self._require(MeetingStatus.IDLE)
        if self.meeting_passwords.get(code, password) != password:
            raise _Refusal(codes.INVALID_PARAMS, "wrong meeting password")
        self.mic_on = p.get("mic_enable", True)
        self.camera_on = p.get("camera_enable", True)
        self.status = MeetingStatus.JOINING

        def arrive() -> None:
            if code in self.waiting_room_codes:
                self._enter(code, f"Meeting {format_code(code)}", self.join_role, 0, password)
                self.status = MeetingStatus.WAITING_ROOM
                self._emit("JoinWaitingRoom", {"meeting_info": self._meeting_info()})
                return
            self._enter(
                code,
                f"Meeting {format_code(code)}",
                self.join_role,
                self.join_participants,
                password,
            )
            self._emit_joined()

        self._later(arrive)

    def _dissolve_meeting(self, p: dict[str, Any]) -> None:
        self._require(MeetingStatus.IN_MEETING)
        if self.role not in ("host", "co-host"):
            raise _Refusal(codes.NOT_HOST)
        self._later(lambda: self._end("DissolveMeeting"))

    def _leave_meeting(self, p: dict[str, Any]) -> None:
        self._require(MeetingStatus.IN_MEETING)
        self._later(lambda: self._end("LeaveMeeting"))

    def _leave_waiting_room(self, p: dict[str, Any]) -> None:
        self._require(MeetingStatus.WAITING_ROOM)
        self._later(lambda: self._end("LeaveWaitingRoom"))

    def _switch_layout(self, p: dict[str, Any]) -> None:
        kind, voice = p.get("switch_type"), p.get("show_voice_active")
        if isinstance(kind, bool) or not isinstance(kind, int) or not 1 <= kind <= 7:
            raise _Refusal(codes.INVALID_PARAMS, "switch_type must be an integer 1-7")
        if voice is not None and not isinstance(voice, bool):
            raise _Refusal(codes.INVALID_PARAMS, "show_voice_active must be true or false")
        self._require(MeetingStatus.IN_MEETING)
        if self.participants < 2:
            raise _Refusal(codes.TOO_FEW_PARTICIPANTS)

        def switch() -> None:
            first_speaker = kind == 2 and self.switch_type != 2
            self.switch_type = kind
            if kind == 2:
                # Seed: the first switch to the speaker layout always shows the small window.
                self.show_voice_active = True if first_speaker or voice is None else voice
            info = self.meeting_tree()["layout_info"]["layout_switch_info"]
            self._emit("LayoutSwitchChanged", {"layout_switch_info": info})

        self._later(switch)

    # ---- transitions and events ----

    def _enter(self, code: str, title: str, role: Role, participants: int, password: str) -> None:
        self.status = MeetingStatus.IN_MEETING
        self.meeting_code = code
        self.meeting_title = title
        self.role = role
        self.participants = participants
        self.meeting_password = password
        self.begin_time = int(time.time())

    def _end(self, event: str) -> None:
        info = self._meeting_info()
        self.reset_state()
        self._emit(event, {"meeting_info": info | {"meeting_status": 0}})

    def _emit_joined(self) -> None:
        self._emit(
            "JoinMeetingCompleted",
            {
                "meeting_info": self._meeting_info(),
                "self_user_info": self._self_user_info(),
                "device_info": {"device_name": "Simulated Room"},
                "mic_info": {"enable": self.mic_on},
                "speaker_info": {"enable": True},
                "camera_info": {"enable": self.camera_on},
            },
        )

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
                self._tg.start_soon(_send, ws, frame)

    async def emit_event(self, name: str, payload: dict[str, Any] | None = None) -> None:
        """Send an Event/Meeting now (for tests of events nobody asked for)."""
        self._emit(name, payload or {})
        await anyio.lowlevel.checkpoint()

    async def admit(self) -> None:
        """The host lets the room in from the waiting room."""
        if self.status != MeetingStatus.WAITING_ROOM:
            raise RuntimeError("the room is not in the waiting room")
        self.status = MeetingStatus.IN_MEETING
        self.participants = max(self.join_participants, 2)
        self._emit_joined()
        await anyio.lowlevel.checkpoint()

    async def end_meeting(self) -> None:
        """The host ends the meeting from elsewhere: the room gets DissolveMeeting."""
        if self.status in (MeetingStatus.IN_MEETING, MeetingStatus.WAITING_ROOM):
            self._end("DissolveMeeting")
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
                await _send(ws, frame)

    async def flood(self, seconds: float, name: str = "LayoutSwitchChanged") -> int:
        """Send events to every connection as fast as the socket takes them for `seconds`;
        returns how many went out (a peer gone wild, for load tests)."""
        frame = event_frame("Meeting", name, {"layout_switch_info": {"current_switch_type": 2}})
        sent = 0
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and self._connections:
            for ws in list(self._connections):
                for _ in range(50):
                    await _send(ws, frame)
                sent += 50
            await anyio.lowlevel.checkpoint()
        return sent

    # ---- observing what the client sent ----

    async def next_call(self, method: str | None = None) -> tuple[str, Any]:
        """Wait for the next request (of `method`, if given) and return (method, params)."""
        box: list[tuple[str, Any]] = []
        done = anyio.Event()
        self._call_waiters.append((method, done, box))
        await done.wait()
        return box[0]

    def _wake_call_waiters(self, request: Request) -> None:
        keep: list[tuple[str | None, anyio.Event, list[tuple[str, Any]]]] = []
        for method, done, box in self._call_waiters:
            if method is None or method == request.method:
                box.append((request.method, request.params))
                done.set()
            else:
                keep.append((method, done, box))
        self._call_waiters = keep

    def calls(self, method: str | None = None) -> list[tuple[str, Any]]:
        return [r for r in self.received if method is None or r[0] == method]


_MISSING: Any = object()


def _child(node: Any, name: str) -> Any:
    """node[name], also one level down (meeting_time, share_user_info, layout_info)."""
    if not isinstance(node, dict):
        return _MISSING
    if name in node:
        return node[name]
    for value in node.values():
        if isinstance(value, dict) and name in value:
            return value[name]
    return _MISSING


def _offered(headers: Headers) -> list[str]:
    return [
        p.strip() for value in headers.get_all("Sec-WebSocket-Protocol") for p in value.split(",")
    ]


def _new_code() -> str:
    return str(random.randint(100_000_000, 999_999_999))


async def _close_later(ws: ServerConnection, delay: float) -> None:
    await anyio.sleep(delay)
    await ws.close()


async def _send(ws: ServerConnection, frame: str | bytes) -> None:
    try:
        await ws.send(frame)
    except ConnectionClosed:
        pass
