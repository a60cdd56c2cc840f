"""Peer behaviours the simulator does not produce, from a small scripted CSAPI server."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import anyio
import pytest
from websockets.asyncio.server import ServerConnection, serve

from roomagent.rooms import RoomsAuthFailed, RoomsError, RoomsRefused
from roomagent.rooms.protocol import error_frame, event_frame, result_frame

from .conftest import make_session, running

pytestmark = pytest.mark.anyio

Script = Callable[[dict[str, Any]], list[str]]


def answer_setup(request: dict[str, Any]) -> list[str] | None:
    """Subscribe and the mirror's Query get plain successful answers."""
    if request["method"] == "Subscribe" or request.get("params") == {"path": ["Meeting"]}:
        data = {"meeting": {"meeting_info": {"meeting_status": 0}}}
        return [result_frame(request["id"], request["method"], {"error_code": 0, "data": data})]
    return None


@asynccontextmanager
async def scripted(script: Script) -> AsyncIterator[str]:
    async def handler(ws: ServerConnection) -> None:
        async for raw in ws:
            request = json.loads(raw)
            for frame in answer_setup(request) or script(request):
                await ws.send(frame)

    async with serve(handler, "127.0.0.1", 0) as server:
        yield f"ws://127.0.0.1:{server.sockets[0].getsockname()[1]}"


async def test_jsonrpc_error_object_is_a_refusal() -> None:
    def script(request: dict[str, Any]) -> list[str]:
        return [error_frame(request["id"], -32601, "Method not found")]

    async with scripted(script) as url, running(make_session(url)) as session:
        with pytest.raises(RoomsRefused) as info:
            await session.query(["Meeting", "MeetingInfo"])
        assert info.value.error_code == -32601 and info.value.message == "Method not found"


async def test_outcome_event_before_the_response() -> None:
    def script(request: dict[str, Any]) -> list[str]:
        accepted = {"error_code": 0, "message": "", "action": "LeaveMeeting"}
        return [
            event_frame("Meeting", "LeaveMeeting", {"meeting_info": {"meeting_status": 0}}),
            result_frame(request["id"], request["method"], accepted),
        ]

    async with scripted(script) as url, running(make_session(url)) as session:
        with anyio.fail_after(2):
            outcome = await session.call("LeaveMeeting", wait=True)
        assert outcome is not None and outcome.name == "LeaveMeeting"


async def test_malformed_reply_fails_the_call_at_once() -> None:
    def script(request: dict[str, Any]) -> list[str]:
        return [json.dumps({"jsonrpc": "2.0", "id": request["id"], "result": [1, 2]})]

    session = make_session("ws://unused", call_timeout=30)
    async with scripted(script) as url:
        session.url = url
        async with running(session):
            with anyio.fail_after(2), pytest.raises(RoomsError, match="malformed reply"):
                await session.query(["Meeting", "MeetingInfo"])
            assert session.counters["bad_frames"] == 1


async def test_immediate_policy_close_means_auth_failed() -> None:
    async def handler(ws: ServerConnection) -> None:
        await ws.close(1008, "bad password")

    async with serve(handler, "127.0.0.1", 0) as server:
        url = f"ws://127.0.0.1:{server.sockets[0].getsockname()[1]}"
        with pytest.raises(RoomsAuthFailed):
            async with make_session(url).connected(5):
                pass
