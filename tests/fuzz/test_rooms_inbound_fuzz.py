"""The Rooms inbound path against random and mutated JSON-RPC frames.

The parser never raises and classifies everything; what it passes on (events, Query data)
fails at most with the validation error the session counts. A live session fed the same
frames by a scripted peer stays connected, keeps answering, and counts the bad frames.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import anyio
import pytest
from anyio.from_thread import BlockingPortal, start_blocking_portal
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

from roomagent.rooms import LinkState, RoomsChange, RoomsSession
from roomagent.rooms.mirror import MeetingMirror
from roomagent.rooms.models import MeetingModule, RoomsEvent
from roomagent.rooms.protocol import (
    QUERY,
    BadFrame,
    Response,
    error_frame,
    event_frame,
    parse_frame,
    parse_request,
    result_frame,
)
from roomagent.sim.rooms import RoomsSimulator
from tests.fuzz.fuzz_support import FUZZ, LIVE_FUZZ, mutate, ran

# Well-formed shapes to mutate, taken from the simulator (which follows the seed's examples).
TREE = RoomsSimulator().meeting_tree()
INFO = TREE["meeting_info"]
VALID_FRAMES = [
    result_frame("7", QUERY, {"error_code": 0, "message": "", "data": {"meeting": TREE}}),
    result_frame("8", "Call/Meeting", {"error_code": 0, "message": "", "action": "JoinMeeting"}),
    result_frame("9", "Call/Meeting", {"error_code": 2003, "message": "too few participants"}),
    error_frame("10", -32601, "Method not found"),
    event_frame("Meeting", "JoinMeetingCompleted", {"meeting_info": INFO}),
    event_frame("Meeting", "JoinMeetingCompleted", {"meeting_info": INFO}, nested=True),
    event_frame(
        "Meeting", "LayoutSwitchChanged", {"layout_switch_info": {"current_switch_type": 2}}
    ),
    event_frame("Meeting", "DissolveMeeting", {"meeting_info": INFO | {"meeting_status": 0}}),
    event_frame("Meeting", "JoinWaitingRoom", {"meeting_info": INFO}),
]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)


def replace_at(message: Any, steps: list[int], value: Any) -> Any:
    """Replace one node of a decoded frame (chosen by `steps`) with `value`."""
    if not steps or not isinstance(message, dict | list) or not message:
        return value
    if isinstance(message, dict):
        key = list(message)[steps[0] % len(message)]
        return message | {key: replace_at(message[key], steps[1:], value)}
    index = steps[0] % len(message)
    return [*message[:index], replace_at(message[index], steps[1:], value), *message[index + 1 :]]


def retyped(frame: str, steps: list[int], value: Any) -> str:
    return json.dumps(replace_at(json.loads(frame), steps, value))


valid = st.sampled_from(VALID_FRAMES)
byte_edits = st.lists(
    st.tuples(st.integers(0, 4), st.integers(0, 4096), st.integers(0, 255)), max_size=8
)
frames = st.one_of(
    st.builds(retyped, valid, st.lists(st.integers(0, 50), max_size=6), json_values),
    st.builds(lambda f, e: mutate(f.encode(), e).decode("utf-8", "replace"), valid, byte_edits),
    st.builds(lambda f, e: mutate(f.encode(), e), valid, byte_edits),  # a binary frame
    json_values.map(json.dumps),
    st.text(max_size=80),
    st.binary(max_size=80),
)


def consume(raw: str | bytes) -> type:
    """What the session does with a frame, minus the socket: parse, then apply."""
    parsed = parse_frame(raw)
    try:
        if isinstance(parsed, RoomsEvent):
            MeetingMirror().apply_event(parsed)
        elif isinstance(parsed, Response) and isinstance(parsed.data, dict):
            MeetingModule.model_validate(parsed.data.get("meeting") or {})
    except ValidationError:
        pass  # counted as a bad frame by the session
    return type(parsed)


@FUZZ
@given(frames)
def test_parser_and_mirror_never_raise(raw: str | bytes) -> None:
    ran("rooms inbound frames (parser + mirror)")
    assert consume(raw) in (Response, RoomsEvent, BadFrame)


# ---- a live session against a scripted peer ----


class ScriptedPeer:
    """A Rooms client that answers the session's set-up properly, then says what it is told."""

    def __init__(self) -> None:
        self.server: Server | None = None
        self.ws: ServerConnection | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"ws://127.0.0.1:{self.server.sockets[0].getsockname()[1]}"

    async def start(self) -> None:
        self.server = await serve(
            self._handle,
            "127.0.0.1",
            0,
            select_subprotocol=lambda _c, offered: Subprotocol(offered[0]) if offered else None,
            ping_interval=None,
        )

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()

    async def _handle(self, ws: ServerConnection) -> None:
        self.ws = ws
        try:
            async for raw in ws:
                request = parse_request(raw)
                if isinstance(request, BadFrame):
                    continue
                result: dict[str, Any] = {"error_code": 0, "message": ""}
                if request.method == QUERY:
                    result["data"] = {"meeting": TREE}
                await ws.send(result_frame(request.id, request.method, result))
        except ConnectionClosed:
            pass

    async def say(self, frames: list[str | bytes]) -> None:
        assert self.ws is not None
        for frame in frames:
            await self.ws.send(frame)


class LiveSession:
    def __init__(self, portal: BlockingPortal, peer: ScriptedPeer, session: RoomsSession) -> None:
        self.portal, self.peer, self.session = portal, peer, session
        self.probes = 0
        self._probe_seen = anyio.Event()
        session.watch(self._on_change)

    def _on_change(self, change: RoomsChange) -> None:
        event = change.event
        if (
            event is not None
            and event.name == "FuzzProbe"
            and event.payload.get("n") == self.probes
        ):
            self._probe_seen.set()

    async def say_and_sync(self, frames: list[str | bytes]) -> None:
        """Send the frames and then a probe event; return once the session has read them all."""
        self.probes += 1
        self._probe_seen = anyio.Event()
        await self.peer.say([*frames, event_frame("Meeting", "FuzzProbe", {"n": self.probes})])
        with anyio.fail_after(5):
            await self._probe_seen.wait()


@pytest.fixture(scope="module")
def live() -> Iterator[LiveSession]:
    with start_blocking_portal("asyncio") as portal:
        peer = ScriptedPeer()
        portal.call(peer.start)
        session = RoomsSession(peer.url, "fuzz-password", call_timeout=2.0, ping_interval=30.0)
        running = portal.start_task_soon(session.run)
        portal.call(session.wait_ready, 5.0)
        yield LiveSession(portal, peer, session)
        running.cancel()
        portal.call(peer.stop)


@LIVE_FUZZ
@given(st.lists(frames, min_size=1, max_size=4))
def test_live_session_survives_hostile_frames(live: LiveSession, batch: list[str | bytes]) -> None:
    ran("rooms frames through a live session")
    session = live.session
    before = dict(session.counters)
    live.portal.call(live.say_and_sync, batch)
    after = session.counters
    assert session.link is LinkState.READY
    assert after["reconnects"] == before["reconnects"]
    assert after["frames_in"] - before["frames_in"] >= len(batch) + 1
    bad = sum(1 for raw in batch if isinstance(parse_frame(raw), BadFrame))
    assert after["bad_frames"] - before["bad_frames"] >= bad
    # And it still works: a real request gets its real answer.
    data = live.portal.call(session.query, ["Meeting"])
    assert data["meeting"]["meeting_info"]["meeting_code"] == TREE["meeting_info"]["meeting_code"]
