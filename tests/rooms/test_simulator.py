"""The simulator's wire behaviour, seen by a raw WebSocket client (as the spec and seed say)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import InvalidStatus

from roomagent.rooms.link import auth_subprotocol
from roomagent.sim.rooms import RoomsSimulator

from .conftest import PASSWORD, make_session, running

pytestmark = pytest.mark.anyio


async def ask(ws: ClientConnection, method: str, params: Any = None, req_id: str = "1") -> Any:
    message: dict[str, Any] = {"jsonrpc": "2.0", "id": req_id, "method": method}
    if params is not None:
        message["params"] = params
    await ws.send(json.dumps(message))
    return json.loads(await ws.recv())


def raw(sim: RoomsSimulator, password: str = PASSWORD) -> connect:
    return connect(sim.url, subprotocols=[auth_subprotocol(password)], proxy=None)  # type: ignore[list-item]


async def test_bad_password_gets_http_401(sim: RoomsSimulator) -> None:
    with pytest.raises(InvalidStatus) as info:
        async with raw(sim, "nope"):
            pass
    assert info.value.response.status_code == 401


async def test_query_shapes_follow_the_seed(sim: RoomsSimulator) -> None:
    async with raw(sim) as ws:
        assert ws.subprotocol == auth_subprotocol(PASSWORD)
        whole = await ask(ws, "Query", {"path": ["Meeting"]})
        assert "method" not in whole  # the seed's whole-Query example has none
        meeting = whole["result"]["data"]["meeting"]
        assert "meeting_time" in meeting["meeting_info"]
        assert "share_user_info" in meeting["self_info"]
        assert meeting["layout_info"]["main_screen_layout_info"]["layout_type"] == 0
        part = await ask(ws, "Query", {"path": ["Meeting", "MeetingInfo", "MeetingCode"]})
        assert part["method"] == "Query" and part["result"]["data"] == {"meeting_code": ""}
        bad = await ask(ws, "Query", {"path": ["Meeting", "Nope"]})
        assert bad["result"]["error_code"] == 1001


async def test_protocol_errors(sim: RoomsSimulator) -> None:
    async with raw(sim) as ws:
        unknown = await ask(ws, "Frobnicate", {})
        assert unknown["error"]["code"] == -32601
        action = await ask(ws, "Call/Meeting", {"action": "Teleport"})
        assert action["result"]["error_code"] == 1002 and action["result"]["action"] == "Teleport"
        code_as_number = await ask(
            ws, "Call/Meeting", {"action": "JoinMeeting", "action_params": {"meeting_code": 1}}
        )
        assert code_as_number["result"]["error_code"] == 1001
        layout = await ask(
            ws, "Call/Meeting", {"action": "SwitchLayout", "action_params": {"switch_type": 8}}
        )
        assert layout["result"]["error_code"] == 1001
        await ws.send("{not json")
        assert json.loads(await ws.recv())["error"]["code"] == -32700


async def test_subscribe_unsubscribe_and_event_routing(sim: RoomsSimulator) -> None:
    async with raw(sim) as ws:
        assert (await ask(ws, "Subscribe", {"path": ["Meeting"]}))["result"]["error_code"] == 0
        assert sim.subscriptions() == [{"Meeting"}]
        assert (await ask(ws, "Unsubscribe", {"path": ["Meeting"]}))["result"]["error_code"] == 0
        assert sim.subscriptions() == [set()]
        assert (await ask(ws, "Subscribe", {"path": ["Nope"]}))["result"]["error_code"] == 1001
    watcher = make_session(sim.url)
    bystander = make_session(sim.url, subscribe=())
    async with running(watcher), running(bystander):
        assert await watcher.call("StartMeeting", wait=True) is not None
        await bystander.query(["Meeting", "MeetingInfo"])  # answered after any event it got
        assert watcher.counters["events"] >= 1 and bystander.counters["events"] == 0
