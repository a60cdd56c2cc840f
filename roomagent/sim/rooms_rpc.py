"""The simulated Rooms client's JSON-RPC side: answering Subscribe, Query and Call/Meeting.

The request half of RoomsSimulator (roomagent/sim/rooms.py): parse a frame, record it, wake
whoever waits for it, answer it from the meeting (SimulatedMeeting) and keep each connection's
subscriptions. Envelopes come from roomagent.rooms.protocol, the same ones the session parses.
"""

from __future__ import annotations

from typing import Any

import anyio
from anyio.abc import TaskGroup
from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed

from roomagent.rooms import codes
from roomagent.rooms.protocol import (
    QUERY,
    SUBSCRIBE,
    UNSUBSCRIBE,
    BadFrame,
    Request,
    call_method,
    error_frame,
    parse_request,
    result_frame,
    wire_name,
)
from roomagent.sim.rooms_meeting import Refusal, SimulatedMeeting

MODULES = frozenset({"Meeting"})
ALL_MODULES = "*"  # a Subscribe with "path": [] means every module
CallWaiter = tuple[str | None, anyio.Event, list[tuple[str, Any]]]


class RoomsRequests(SimulatedMeeting):
    """Answers requests; RoomsSimulator owns the connections and the task group."""

    received: list[tuple[str, dict[str, Any]]]
    close_after_query: float | None
    _connections: dict[ServerConnection, set[str]]
    _tg: TaskGroup | None
    _call_waiters: list[CallWaiter]

    async def _answer(self, ws: ServerConnection, raw: str | bytes) -> None:
        request = parse_request(raw)
        if isinstance(request, BadFrame):
            code = codes.JSONRPC_PARSE_ERROR
            if request.reason != "invalid JSON":
                code = codes.JSONRPC_INVALID_REQUEST
            await send_frame(ws, error_frame(request.id, code, request.reason))
            return
        self.received.append((request.method, request.params))
        self._wake_call_waiters(request)
        reply = self._reply(ws, request)
        await send_frame(ws, reply)
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
        except Refusal as refusal:
            refused: dict[str, Any] = {"error_code": refusal.code, "message": refusal.message}
            if method.startswith("Call/"):
                refused["action"] = params.get("action")
            return result_frame(request.id, method, refused)
        return error_frame(request.id, codes.JSONRPC_METHOD_NOT_FOUND, "Method not found")

    def _subscribe(self, ws: ServerConnection, params: dict[str, Any], on: bool) -> None:
        path = params.get("path", [])
        if not isinstance(path, list) or not all(isinstance(p, str) for p in path):
            raise Refusal(codes.INVALID_PARAMS, "path must be a list of names")
        if path and path[0] not in MODULES:
            raise Refusal(codes.INVALID_PARAMS, f"unknown module {path[0]}")
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
            raise Refusal(codes.INVALID_PARAMS, "path must be a non-empty list of names")
        if path[0] not in MODULES:
            raise Refusal(codes.INVALID_PARAMS, f"unknown path {'/'.join(path)}")
        tree = self.meeting_tree()
        if len(path) == 1:
            return {"meeting": tree}, False
        node: Any = tree
        for segment in path[1:]:
            node = _child(node, wire_name(segment))
            if node is _MISSING:
                raise Refusal(codes.INVALID_PARAMS, f"unknown path {'/'.join(path)}")
        return {wire_name(path[-1]): node}, True

    # ---- observing what the client sent ----

    async def next_call(self, method: str | None = None) -> tuple[str, Any]:
        """Wait for the next request (of `method`, if given) and return (method, params)."""
        box: list[tuple[str, Any]] = []
        done = anyio.Event()
        self._call_waiters.append((method, done, box))
        await done.wait()
        return box[0]

    def _wake_call_waiters(self, request: Request) -> None:
        keep: list[CallWaiter] = []
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


async def _close_later(ws: ServerConnection, delay: float) -> None:
    await anyio.sleep(delay)
    await ws.close()


async def send_frame(ws: ServerConnection, frame: str | bytes) -> None:
    """Send, ignoring a peer that is already gone."""
    try:
        await ws.send(frame)
    except ConnectionClosed:
        pass
