"""JSON-RPC framing: shapes from the spec and the seed, and a parser that never raises."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from roomagent.rooms.models import RoomsEvent
from roomagent.rooms.protocol import (
    BadFrame,
    RequestFrame,
    Response,
    event_frame,
    parse_frame,
    parse_request,
    prepare_call,
    request_frame,
    wire_name,
)


def test_request_frame_shape() -> None:
    frame = json.loads(request_frame("a1", "Query", {"path": ["Meeting"]}))
    assert frame == {
        "jsonrpc": "2.0",
        "id": "a1",
        "method": "Query",
        "params": {"path": ["Meeting"]},
    }


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=8,
)


@settings(max_examples=200)
@given(st.text(), st.text(min_size=1), st.none() | st.dictionaries(st.text(), _json, max_size=4))
def test_request_encoded_once_is_the_whole_frame_encoded(
    req_id: str, method: str, params: dict[str, object] | None
) -> None:
    """The press path's pre-encoded frame is byte for byte what encoding it whole gives."""
    whole: dict[str, object] = {"jsonrpc": "2.0", "id": req_id, "method": method}
    if params is not None:
        whole["params"] = params
    expected = json.dumps(whole, ensure_ascii=False, separators=(",", ":"))
    assert RequestFrame(method, params).frame(req_id) == expected
    assert request_frame(req_id, method, params) == expected


def test_prepared_call_is_the_seed_call_frame() -> None:
    prepared = prepare_call("SwitchLayout", {"switch_type": "2"})
    frame = json.loads(prepared.request.frame("7"))
    assert frame["method"] == "Call/Meeting"
    assert frame["params"] == {"action": "SwitchLayout", "action_params": {"switch_type": 2}}


def test_seed_responses_parse() -> None:
    whole = (
        '{"jsonrpc":"2.0","id":"xxx","result":{"error_code":0,"message":"","data":{"meeting":{}}}}'
    )
    parsed = parse_frame(whole)
    assert isinstance(parsed, Response) and parsed.method is None and parsed.data == {"meeting": {}}
    call = (
        '{"jsonrpc":"2.0","id":"xxx","method":"Call/Meeting",'
        '"result":{"error_code":2001,"message":"busy","action":"JoinMeeting"}}'
    )
    parsed = parse_frame(call)
    assert isinstance(parsed, Response)
    assert (parsed.error_code, parsed.message, parsed.action) == (2001, "busy", "JoinMeeting")


def test_jsonrpc_error_object_is_a_response() -> None:
    parsed = parse_frame('{"jsonrpc":"2.0","id":7,"error":{"code":-32601,"message":"nope"}}')
    assert isinstance(parsed, Response) and parsed.rpc_error and parsed.id == "7"
    assert parsed.error_code == -32601


def test_events_flat_and_nested() -> None:
    flat = parse_frame(event_frame("Meeting", "LeaveMeeting", {"meeting_info": {"a": 1}}))
    nested = parse_frame(
        event_frame("Meeting", "LeaveMeeting", {"meeting_info": {"a": 1}}, nested=True)
    )
    assert flat == nested == RoomsEvent("Meeting", "LeaveMeeting", {"meeting_info": {"a": 1}})


def test_bad_frames_keep_the_id_when_they_can() -> None:
    bad = parse_frame('{"jsonrpc":"2.0","id":"q1","result":"oops"}')
    assert isinstance(bad, BadFrame) and bad.id == "q1"
    bad = parse_frame('{"jsonrpc":"2.0","id":"q1","result":{"error_code":"0"}}')
    assert isinstance(bad, BadFrame) and bad.id == "q1"
    assert isinstance(parse_frame("{"), BadFrame)
    assert isinstance(parse_frame(b"\xff\xfe"), BadFrame)
    assert isinstance(parse_frame('{"method":"Event/Meeting","params":{}}'), BadFrame)


def test_wire_names() -> None:
    assert wire_name("MeetingInfo") == "meeting_info"
    assert wire_name("MultiScreeInfo") == "multi_scree_info"
    assert wire_name("MeetingCode") == "meeting_code"


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    "id",
                    "result",
                    "error",
                    "method",
                    "params",
                    "error_code",
                    "message",
                    "data",
                    "sub_event",
                    "action",
                    "code",
                    "x",
                ]
            )
            | st.text(max_size=5),
            children,
            max_size=5,
        )
    ),
    max_leaves=10,
)

shaped = st.fixed_dictionaries(
    {},
    optional={
        "jsonrpc": st.just("2.0"),
        "id": json_values,
        "method": st.sampled_from(["Event/Meeting", "Query", "Event/", "Call/Meeting"])
        | json_values,
        "params": json_values,
        "result": json_values,
        "error": json_values,
    },
)


@settings(max_examples=150, deadline=None)
@given(st.one_of(json_values, shaped))
def test_parser_never_raises_on_any_json(value: object) -> None:
    text = json.dumps(value)
    assert isinstance(parse_frame(text), Response | RoomsEvent | BadFrame)
    assert parse_request(text) is not None


@settings(max_examples=150, deadline=None)
@given(shaped, st.integers(min_value=0, max_value=200), st.text(max_size=6), st.binary(max_size=6))
def test_parser_never_raises_on_mutated_frames(
    value: object, at: int, insert: str, raw: bytes
) -> None:
    text = json.dumps(value)
    mutated = text[:at] + insert + text[at + len(insert) :]
    assert isinstance(parse_frame(mutated), Response | RoomsEvent | BadFrame)
    assert isinstance(parse_frame(mutated.encode() + raw), Response | RoomsEvent | BadFrame)
    assert parse_request(mutated) is not None
