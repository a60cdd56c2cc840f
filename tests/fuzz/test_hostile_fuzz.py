"""The attack cases of issue 11, fuzzed so they stay covered: log lines from hostile text,
request headers against a live server, JSON-RPC frames and batches over a live socket, peer
text into the models, arbitrary bytes as a secret file."""

from __future__ import annotations

import base64
import json
import logging
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from anyio.from_thread import BlockingPortal, start_blocking_portal
from hypothesis import given
from hypothesis import strategies as st
from websockets.sync.client import ClientConnection, connect

from roomagent.config.model import WebSection
from roomagent.config.secrets import SecretUnavailable, secret_from_file
from roomagent.logsetup import LogfmtFormatter, kv, register_secret
from roomagent.rooms.models import MeetingModule
from roomagent.rooms.text import CODE_MAX, TITLE_MAX
from roomagent.web.api import MAX_BATCH, MAX_REPLY_BYTES
from roomagent.web.server import WebServer
from tests.fuzz.fuzz_support import FUZZ, LIVE_FUZZ, ran
from tests.web.small_agent import SmallAgent

USER, PASSWORD = "admin", "fuzz-web-password"
LOG_SECRET = "Fuzz-Secret-9921"
CONTROL = {chr(c) for c in range(0x20)} | {chr(0x7F)} | {chr(c) for c in range(0x80, 0xA0)}


def _record(message: str, fields: dict[str, Any]) -> logging.LogRecord:
    record = logging.LogRecord("roomagent.fuzz", logging.WARNING, __file__, 1, message, (), None)
    record.fields = kv(**fields)["fields"]
    return record


@FUZZ
@given(
    message=st.text(max_size=80),
    value=st.text(max_size=40),
    secret_at=st.integers(min_value=0, max_value=40),
)
def test_a_log_line_is_one_plain_line_and_masks_what_it_must(
    message: str, value: str, secret_at: int
) -> None:
    ran("log line")
    register_secret(LOG_SECRET)
    hostile = value[:secret_at] + LOG_SECRET + value[secret_at:]
    line = LogfmtFormatter().format(
        _record(message + hostile, {"device_arg": hostile, "header": f"Cookie: s={value}x"})
    )
    assert not CONTROL & set(line), repr(line)  # NUL, ESC, CR, LF: escaped
    assert LOG_SECRET not in line
    assert "Cookie: ***" in line


# ---- headers against a live server ----------------------------------------------------


@pytest.fixture(scope="module")
def live_web() -> Iterator[tuple[BlockingPortal, WebServer]]:
    with start_blocking_portal("asyncio") as portal:
        web = WebServer(
            SmallAgent(), WebSection(listen="127.0.0.1", port=0, user=USER), PASSWORD, None
        )
        context = portal.wrap_async_context_manager(web.running())
        with context:
            yield portal, web


HEADER_NAMES = st.sampled_from(
    ["Authorization", "Origin", "Cookie", "Host", "Upgrade", "Connection", "X-Other"]
)
HEADER_VALUES = st.text(
    alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=40
) | st.sampled_from(["http://[", "http://]", "Basic !!", "Basic " + "A" * 30, "x=1; ;=="])


def _status(port: int, head: bytes) -> int:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
        conn.sendall(head)
        data = b""
        while b"\r\n" not in data:
            chunk = conn.recv(4096)
            if not chunk:
                break
            data += chunk
    return int(data.split(b" ", 2)[1]) if data.startswith(b"HTTP/1.1 ") else 0


@LIVE_FUZZ
@given(
    path=st.sampled_from(["/", "/api", "/metrics", "/session", "/static/app.js"]),
    headers=st.lists(st.tuples(HEADER_NAMES, HEADER_VALUES), max_size=6),
)
def test_no_header_gets_a_500(
    live_web: tuple[BlockingPortal, WebServer], path: str, headers: list[tuple[str, str]]
) -> None:
    ran("web headers")
    _, web = live_web
    assert web.port is not None
    lines = [f"GET {path} HTTP/1.1", f"Host: 127.0.0.1:{web.port}"]
    lines += [f"{name}: {value}" for name, value in headers]
    status = _status(web.port, ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
    assert status != 500 and (status == 0 or 100 <= status < 500), (status, headers)


# ---- JSON-RPC frames and batches over a live socket ------------------------------------


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=8,
)
calls = st.fixed_dictionaries(
    {
        "jsonrpc": st.sampled_from(["2.0", "1.0", 2]),
        "method": st.sampled_from(["status", "events", "nope", "device.command", "subscribe"]),
    },
    optional={"id": st.integers(0, 99) | st.text(max_size=4), "params": json_values},
)
frames = (
    st.lists(calls | json_values, min_size=0, max_size=MAX_BATCH * 3)
    | calls
    | json_values
    | st.text(max_size=40)
)


@pytest.fixture(scope="module")
def api_socket(live_web: tuple[BlockingPortal, WebServer]) -> Iterator[ClientConnection]:
    _, web = live_web
    auth = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    url = f"ws://127.0.0.1:{web.port}/api"
    with connect(url, additional_headers={"Authorization": auth}, max_size=None) as ws:
        yield ws


@LIVE_FUZZ
@given(frame=frames)
def test_any_frame_gets_a_bounded_reply_and_the_socket_stays(
    api_socket: ClientConnection, frame: Any
) -> None:
    ran("api frames")
    text = frame if isinstance(frame, str) else json.dumps(frame)
    api_socket.send(text)
    api_socket.send(json.dumps({"jsonrpc": "2.0", "id": "probe", "method": "status"}))
    while True:  # replies in any order; notifications (an update) skipped
        reply = api_socket.recv(timeout=5)
        assert isinstance(reply, str) and len(reply) <= MAX_REPLY_BYTES + 4096
        parsed = json.loads(reply)
        if isinstance(parsed, dict) and parsed.get("id") == "probe" and "result" in parsed:
            break
        if isinstance(frame, list) and len(frame) > MAX_BATCH and isinstance(parsed, dict):
            if parsed.get("id") is None and "error" in parsed:
                assert parsed["error"]["code"] == -32600


# ---- peer text and secret files -------------------------------------------------------


@FUZZ
@given(title=st.text(max_size=600), code=st.text(alphabet="0123456789 \x00\x1b", max_size=80))
def test_peer_text_is_bounded_and_clean(title: str, code: str) -> None:
    ran("peer text")
    module = MeetingModule.model_validate(
        {"meeting_info": {"meeting_title": title, "meeting_code": code}}
    )
    info = module.meeting_info
    assert info is not None
    assert len(info.meeting_title or "") <= TITLE_MAX
    assert len(info.meeting_code or "") <= CODE_MAX
    assert not CONTROL & set((info.meeting_title or "") + (info.meeting_code or ""))


@FUZZ
@given(content=st.binary(max_size=6000))
def test_any_bytes_as_a_secret_file_give_a_secret_or_a_plain_error(
    tmp_path_factory: pytest.TempPathFactory, content: bytes
) -> None:
    ran("secret file bytes")
    path: Path = tmp_path_factory.mktemp("secret") / "pw"
    path.write_bytes(content)
    path.chmod(0o600)
    try:
        value = secret_from_file(path, "rooms.password_file")
    except SecretUnavailable as exc:
        assert str(exc).startswith("rooms.password_file: ") and str(path) in str(exc)
        assert "\n" not in str(exc)
        return
    assert "\n" not in value and "\0" not in value
    assert len(content) <= 4096
