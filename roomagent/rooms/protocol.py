"""JSON-RPC 2.0 framing of CSAPI: build frames and parse inbound ones without ever raising.

Both directions live here so that the envelope assumptions (spec §2) sit in one place: the
session parses what the simulator builds with the same constants.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from roomagent.rooms.models import ActionParams, ActionSpec, RoomsEvent, validate_action

JSONRPC = "2.0"
QUERY = "Query"
SUBSCRIBE = "Subscribe"
UNSUBSCRIBE = "Unsubscribe"
CALL_PREFIX = "Call/"

# [assumption] event envelope (spec §2): method "Event/<Module>", the event name in
# params.sub_event, payload fields beside it — or nested under params.data.
EVENT_PREFIX = "Event/"
EVENT_NAME_KEY = "sub_event"
EVENT_NESTED_KEY = "data"


def call_method(module: str = "Meeting") -> str:
    return f"{CALL_PREFIX}{module}"


def event_method(module: str = "Meeting") -> str:
    return f"{EVENT_PREFIX}{module}"


def encode(message: dict[str, Any]) -> str:
    return json.dumps(message, ensure_ascii=False, separators=(",", ":"))


def request_frame(req_id: str, method: str, params: dict[str, Any] | None = None) -> str:
    return RequestFrame(method, params).frame(req_id)


_REQUEST_HEAD = encode({"jsonrpc": JSONRPC})[:-1] + ',"id":'


class RequestFrame:
    """A request encoded once but for its id: a binding's Call/Meeting is the same frame on
    every press, so the press path encodes only the id (the same text as one json.dumps of
    {"jsonrpc", "id", "method", "params"})."""

    __slots__ = ("_tail", "method", "params")

    def __init__(self, method: str, params: dict[str, Any] | None = None) -> None:
        self.method, self.params = method, params
        rest: dict[str, Any] = {"method": method}
        if params is not None:
            rest["params"] = params
        self._tail = "," + encode(rest)[1:]

    def frame(self, req_id: str) -> str:
        return _REQUEST_HEAD + json.dumps(req_id, ensure_ascii=False) + self._tail


@dataclass(frozen=True)
class PreparedCall:
    """A Call/<module> action validated and encoded once (`prepare_call`), sent as is."""

    spec: ActionSpec
    params: ActionParams
    request: RequestFrame


def prepare_call(action: str, params: Any = None, module: str = "Meeting") -> PreparedCall:
    """Validate an action and its params (RoomsBadRequest if not) and encode its request."""
    spec, args = validate_action(action, params)
    return PreparedCall(
        spec, args, RequestFrame(call_method(module), call_params(spec.name, args.wire()))
    )


def call_params(action: str, action_params: dict[str, Any] | None) -> dict[str, Any]:
    params: dict[str, Any] = {"action": action}
    if action_params:
        params["action_params"] = action_params
    return params


def result_frame(
    req_id: Any, method: str | None, result: dict[str, Any], *, echo_method: bool = True
) -> str:
    """A response. The seed's whole-Query example omits "method"; others echo it."""
    message: dict[str, Any] = {"jsonrpc": JSONRPC, "id": req_id}
    if echo_method and method:
        message["method"] = method
    message["result"] = result
    return encode(message)


def error_frame(req_id: Any, code: int, message: str) -> str:
    return encode({"jsonrpc": JSONRPC, "id": req_id, "error": {"code": code, "message": message}})


def event_frame(module: str, name: str, payload: dict[str, Any], *, nested: bool = False) -> str:
    params: dict[str, Any] = {EVENT_NAME_KEY: name}
    if nested:
        params[EVENT_NESTED_KEY] = payload
    else:
        params.update(payload)
    return encode({"jsonrpc": JSONRPC, "method": event_method(module), "params": params})


_WORD = re.compile(r"(?<!^)(?=[A-Z])")


def wire_name(segment: str) -> str:
    """Query path segment → wire name: MeetingInfo → meeting_info (spec §3)."""
    return _WORD.sub("_", segment).lower()


# ---- inbound ----


@dataclass(frozen=True)
class Response:
    """A reply to one of our requests. error_code 0 = accepted/ok."""

    id: str
    method: str | None
    error_code: int
    message: str
    action: str | None
    data: Any
    rpc_error: bool = False  # came as a JSON-RPC `error` object, not result.error_code


@dataclass(frozen=True)
class BadFrame:
    """An inbound frame we cannot use. `id` is set when it still names one of our requests."""

    reason: str
    id: str | None = None


@dataclass(frozen=True)
class Request:
    """A request as the server side (the simulator) sees it."""

    id: Any
    method: str
    params: dict[str, Any]


Inbound = Response | RoomsEvent | BadFrame


def _id_key(value: Any) -> str | None:
    # We send string ids; a server that echoes them as numbers still matches.
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, str | int):
        return str(value)
    return None


def _load(raw: str | bytes) -> Any:
    if isinstance(raw, bytes):
        raw = raw.decode("utf-8")
    return json.loads(raw)


def parse_frame(raw: str | bytes) -> Inbound:
    """Classify one inbound text frame. Never raises: bad input becomes BadFrame."""
    try:
        msg = _load(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return BadFrame("invalid JSON")
    try:
        return _classify(msg)
    except (TypeError, ValueError, AttributeError, RecursionError) as exc:  # belt and braces
        return BadFrame(f"malformed message: {type(exc).__name__}")


def _classify(msg: Any) -> Inbound:
    if not isinstance(msg, dict):
        return BadFrame("not a JSON object")
    method = msg.get("method")
    if "id" not in msg or msg.get("id") is None:
        if "error" in msg:
            return BadFrame(f"error without id: {_rpc_error_text(msg['error'])}")
        if isinstance(method, str) and method.startswith(EVENT_PREFIX):
            return _event(method, msg.get("params"))
        return BadFrame("notification that is not an event")
    req_id = _id_key(msg["id"])
    if req_id is None:
        return BadFrame("id of a wrong type")
    if method is not None and not isinstance(method, str):
        return BadFrame("method of a wrong type", req_id)
    if "error" in msg:
        err = msg["error"]
        if not isinstance(err, dict) or not _is_int(err.get("code")):
            return BadFrame("malformed JSON-RPC error object", req_id)
        return Response(req_id, method, err["code"], _text(err.get("message")), None, None, True)
    result = msg.get("result")
    if not isinstance(result, dict):
        if "result" not in msg and method is not None:
            return BadFrame("unexpected request from the peer", req_id)
        return BadFrame("result is not an object", req_id)
    code = result.get("error_code", 0)
    if not _is_int(code):
        return BadFrame("error_code of a wrong type", req_id)
    action = result.get("action")
    return Response(
        id=req_id,
        method=method,
        error_code=code,
        message=_text(result.get("message")),
        action=action if isinstance(action, str) else None,
        data=result.get("data"),
    )


def _event(method: str, params: Any) -> Inbound:
    module = method[len(EVENT_PREFIX) :]
    if not isinstance(params, dict):
        return BadFrame("event without params object")
    name = params.get(EVENT_NAME_KEY)
    nested = params.get(EVENT_NESTED_KEY)
    if not isinstance(name, str) and isinstance(nested, dict):
        name = nested.get(EVENT_NAME_KEY)
    if not isinstance(name, str) or not name:
        return BadFrame("event without sub_event")
    payload = {k: v for k, v in params.items() if k not in (EVENT_NAME_KEY, EVENT_NESTED_KEY)}
    if isinstance(nested, dict):
        payload.update({k: v for k, v in nested.items() if k != EVENT_NAME_KEY})
    return RoomsEvent(module=module, name=name, payload=payload)


def parse_request(raw: str | bytes) -> Request | BadFrame:
    """Server side: one inbound request frame. Never raises."""
    try:
        msg = _load(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return BadFrame("invalid JSON")
    if not isinstance(msg, dict):
        return BadFrame("not a JSON object")
    req_id = msg.get("id")
    method = msg.get("method")
    if not isinstance(method, str):
        return BadFrame("method missing", _id_key(req_id))
    params = msg.get("params", {})
    if params is None:
        params = {}
    if not isinstance(params, dict):
        return BadFrame("params is not an object", _id_key(req_id))
    return Request(req_id, method, params)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ("" if value is None else str(value))


def _rpc_error_text(err: Any) -> str:
    if isinstance(err, dict):
        return _text(err.get("message")) or f"code {err.get('code')}"
    return "malformed"
