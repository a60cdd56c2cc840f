"""The web server over real loopback sockets: auth, rate limit, Origin, metrics, JSON-RPC."""

from __future__ import annotations

import json
import logging
import re
from typing import Any

import anyio
import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import InvalidStatus

from roomagent.config.model import WebSection
from roomagent.rooms.errors import RoomsRefused
from roomagent.web.auth import SESSION_COOKIE, WebAuthError, hash_password
from roomagent.web.server import WebServer
from roomagent.web.updates import MAX_PENDING

from .conftest import PASSWORD, USER, basic
from .small_agent import MEETING_PASSCODE, ROOMS_PASSWORD, SmallAgent

pytestmark = pytest.mark.anyio


def ws_url(server: WebServer) -> str:
    return f"ws://127.0.0.1:{server.port}/api"


async def rpc(ws: ClientConnection, method: str, params: Any = None, id: int = 1) -> dict:
    request: dict[str, Any] = {"jsonrpc": "2.0", "id": id, "method": method}
    if params is not None:
        request["params"] = params
    await ws.send(json.dumps(request))
    return await reply_to(ws, id)


async def reply_to(ws: ClientConnection, id: Any) -> dict:
    """The response with this id (notifications in between are skipped)."""
    with anyio.fail_after(5):
        while True:
            message = json.loads(await ws.recv())
            if "id" in message and message["id"] == id:
                return message


def api(server: WebServer, **kwargs: Any) -> Any:
    kwargs.setdefault("additional_headers", {"Authorization": basic()})
    return connect(ws_url(server), **kwargs)


async def test_healthz_needs_no_credentials(server: WebServer) -> None:
    async with httpx.AsyncClient(base_url=server.url) as http:
        reply = await http.get("/healthz")
    assert reply.status_code == 200
    assert reply.text == "ok\n"


async def test_every_other_path_needs_basic_credentials(server: WebServer) -> None:
    async with httpx.AsyncClient(base_url=server.url) as http:
        for path in ("/", "/static/app.js", "/metrics", "/session", "/api", "/nothing"):
            reply = await http.get(path)
            assert reply.status_code == 401, path
            assert reply.headers["WWW-Authenticate"].startswith('Basic realm="roomagent"')
        page = await http.get("/", auth=(USER, PASSWORD))
    assert page.status_code == 200
    assert page.headers["Content-Type"].startswith("text/html")
    assert "Room diagnostics" in page.text
    assert "/static/app.js" in page.text and "http" not in page.text.split("<body>")[0]


async def test_only_get_is_served(server: WebServer) -> None:
    async with httpx.AsyncClient(base_url=server.url, auth=(USER, PASSWORD)) as http:
        reply = await http.delete("/")  # (a request with a body websockets refuses itself)
    assert reply.status_code == 405 and reply.headers["Allow"] == "GET"


async def test_security_headers(server: WebServer) -> None:
    async with httpx.AsyncClient(base_url=server.url, auth=(USER, PASSWORD)) as http:
        for path in ("/", "/session", "/metrics", "/missing"):
            reply = await http.get(path)
            assert "default-src 'self'" in reply.headers["Content-Security-Policy"], path
            assert reply.headers["X-Frame-Options"] == "DENY"
            assert reply.headers["Cache-Control"] == "no-store"
            assert reply.headers["X-Content-Type-Options"] == "nosniff"
        assert (await http.get("/missing")).status_code == 404


async def test_wrong_password_then_rate_limited(server: WebServer) -> None:
    async with httpx.AsyncClient(base_url=server.url) as http:
        for _ in range(5):
            reply = await http.get("/", auth=(USER, "wrong"))
            assert reply.status_code == 401
        limited = await http.get("/", auth=(USER, "wrong"))
        assert limited.status_code == 429
        assert 1 <= int(limited.headers["Retry-After"]) <= 60
        # While limited, a new password (right or wrong) waits for the next check slot: a
        # guesser learns nothing sooner. (test_hostile_web: staff get in at that slot.)
        assert (await http.get("/", auth=(USER, PASSWORD))).status_code == 429
        assert (await http.get("/healthz")).status_code == 200
        # The API socket is limited too.
        with pytest.raises(InvalidStatus) as refused:
            async with api(server):
                pass
        assert refused.value.response.status_code == 429


async def test_hashed_password_from_config(agent: SmallAgent) -> None:
    stored = hash_password("s3cret-from-hash", iterations=2_000)
    web = WebServer(agent, WebSection(listen="127.0.0.1", port=0), None, stored)
    async with web.running():
        async with httpx.AsyncClient(base_url=web.url) as http:
            assert (await http.get("/", auth=("admin", "s3cret-from-hash"))).status_code == 200
            assert (await http.get("/", auth=("admin", "nope"))).status_code == 401
            assert (await http.get("/", auth=("root", "s3cret-from-hash"))).status_code == 401


def test_refuses_to_start_without_a_password(agent: SmallAgent) -> None:
    with pytest.raises(WebAuthError, match="no password for the diagnostics page"):
        WebServer(agent, WebSection(), None, None)
    with pytest.raises(WebAuthError, match="hash-password"):
        WebServer(agent, WebSection(), None, "md5$1$x$y")


_SAMPLE = re.compile(
    r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_]+="(?:[^"\\]|\\.)*",?)*\})? (\S+)$'
)


async def test_metrics_are_prometheus_text(server: WebServer, agent: SmallAgent) -> None:
    agent.set_device("panel", False, "no answer to the start-up query")
    async with httpx.AsyncClient(base_url=server.url, auth=(USER, PASSWORD)) as http:
        reply = await http.get("/metrics")
    assert reply.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    samples: dict[str, float] = {}
    typed: set[str] = set()
    for line in reply.text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ")
            assert kind in ("gauge", "counter")
            typed.add(name)
        elif line and not line.startswith("# HELP "):
            match = _SAMPLE.match(line)
            assert match, f"not a Prometheus sample: {line!r}"
            assert match.group(1) in typed
            samples[match.group(1) + (match.group(2) or "")] = float(match.group(3))
    assert samples['roomagent_device_online{device="cam1",kind="camera"}'] == 1
    assert samples['roomagent_device_online{device="panel",kind="panel"}'] == 0
    assert samples["roomagent_rooms_link_up"] == 1
    assert samples['roomagent_web_total{counter="http_requests"}'] >= 1


async def test_metrics_read_the_typed_status_without_a_dump(
    server: WebServer, agent: SmallAgent, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_dump() -> dict[str, Any]:
        raise AssertionError("/metrics dumped the status to validate it again")

    monkeypatch.setattr(agent, "status", no_dump)
    async with httpx.AsyncClient(base_url=server.url, auth=(USER, PASSWORD)) as http:
        text = (await http.get("/metrics")).text
    assert 'roomagent_device_online{device="cam1",kind="camera"} 1.0' in text
    assert "roomagent_rooms_link_up 1.0" in text


async def test_one_status_per_change_for_every_subscribed_socket(
    server: WebServer, agent: SmallAgent
) -> None:
    async with api(server) as a, api(server) as b, api(server) as c:
        for ws in (a, b, c):
            await rpc(ws, "subscribe", {"events": 3})
        agent.status_builds = 0
        agent.changed({"kind": "tick", "n": 1})
        with anyio.fail_after(5):
            updates = [json.loads(await ws.recv())["params"] for ws in (a, b, c)]
        assert [u["changes"] for u in updates] == [[{"kind": "tick", "n": 1}]] * 3
        assert updates[0]["status"] == updates[1]["status"] == updates[2]["status"]
        assert agent.status_builds == 1
        await anyio.sleep(0.1)  # past the coalescing window: the next change builds anew
        agent.set_device("panel", False, "cable unplugged")
        with anyio.fail_after(5):
            updates = [json.loads(await ws.recv())["params"] for ws in (a, b, c)]
        assert all(u["status"]["devices"][1]["online"] is False for u in updates)
        assert agent.status_builds == 2


async def test_socket_needs_credentials_or_a_session_token(server: WebServer) -> None:
    with pytest.raises(InvalidStatus) as refused:
        async with connect(ws_url(server)):
            pass
    assert refused.value.response.status_code == 401
    with pytest.raises(InvalidStatus):
        async with connect(ws_url(server), additional_headers={"Cookie": f"{SESSION_COOKIE}=x"}):
            pass
    async with httpx.AsyncClient(base_url=server.url, auth=(USER, PASSWORD)) as http:
        session = await http.get("/session")
    cookie = session.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/api" in cookie
    token = session.cookies[SESSION_COOKIE]
    async with connect(
        ws_url(server), additional_headers={"Cookie": f"{SESSION_COOKIE}={token}"}
    ) as ws:
        assert (await rpc(ws, "status"))["result"]["room"]["name"] == "Huddle 3A"


async def test_foreign_origin_is_refused(agent: SmallAgent) -> None:
    config = WebSection(listen="127.0.0.1", port=0, allowed_origins=["https://panel.example.org"])
    web = WebServer(agent, config, PASSWORD, None)
    async with web.running():
        with pytest.raises(InvalidStatus) as refused:
            async with api(web, origin="http://evil.example"):
                pass
        assert refused.value.response.status_code == 403
        for origin in (f"http://127.0.0.1:{web.port}", "https://panel.example.org"):
            async with api(web, origin=origin) as ws:
                assert "result" in await rpc(ws, "status")
        async with httpx.AsyncClient(base_url=web.url, auth=(USER, PASSWORD)) as http:
            reply = await http.get("/session", headers={"Origin": "http://evil.example"})
            assert reply.status_code == 403


async def test_bad_requests_get_errors_and_the_socket_stays_open(server: WebServer) -> None:
    async with api(server) as ws:
        await ws.send("{not json")
        parse = json.loads(await ws.recv())
        assert parse["error"]["code"] == -32700 and parse["id"] is None

        await ws.send(json.dumps({"jsonrpc": "2.0", "id": 2}))
        assert json.loads(await ws.recv())["error"]["code"] == -32600

        await ws.send(b"\x00\x01")
        assert json.loads(await ws.recv())["error"]["code"] == -32600

        unknown = await rpc(ws, "meeting.teleport", {}, id=3)
        assert unknown["error"]["code"] == -32601
        assert "meeting.teleport" in unknown["error"]["message"]

        limit = await rpc(ws, "events", {"limit": "many"}, id=4)
        assert limit["error"]["code"] == -32602 and "limit" in limit["error"]["message"]

        missing = await rpc(ws, "camera.preset", {"camera": "cam1"}, id=5)
        assert missing["error"]["code"] == -32602 and "'preset'" in missing["error"]["message"]
        assert missing["error"]["data"]["param"] == "preset"

        extra = await rpc(ws, "panel.press", {"device": "panel", "button": 1, "colour": 2}, 6)
        assert extra["error"]["code"] == -32602 and "colour" in extra["error"]["message"]

        positional = await rpc(ws, "camera.preset", ["cam1", 1], id=7)
        assert positional["error"]["code"] == -32602

        layout = await rpc(ws, "meeting.layout", {"switch_type": 9}, id=8)
        assert layout["error"]["code"] == -32602 and "switch_type" in layout["error"]["message"]

        await ws.send(json.dumps([{"jsonrpc": "2.0", "id": 9, "method": "status"}, 5]))
        assert json.loads(await ws.recv())["error"]["code"] == -32600
        batch = [{"jsonrpc": "2.0", "id": n, "method": "events"} for n in (11, 12)]
        await ws.send(json.dumps(batch))
        assert {r["id"] for r in json.loads(await ws.recv())} == {11, 12}

        assert (await rpc(ws, "status", id=10))["result"]["room"]["name"] == "Huddle 3A"


async def test_only_error_responses_count_as_api_errors(
    server: WebServer, agent: SmallAgent
) -> None:
    agent.fail("rooms", "error", "Rooms client rejected the password")
    async with api(server) as ws:
        events = await rpc(ws, "events", {"limit": 10})
        assert any(e["kind"] == "error" for e in events["result"])  # "error" in a result
        assert server.counters.api_errors == 0
        await rpc(ws, "meeting.teleport", {}, id=2)
        assert server.counters.api_errors == 1


async def test_actions_round_trip(server: WebServer, agent: SmallAgent) -> None:
    async with api(server) as ws:
        started = await rpc(ws, "meeting.start", {"meeting_type": "instant"})
        # The real Agent.perform's shape: {"action", "result"}.
        assert started["result"] == {"action": "meeting.start", "result": "done"}
        status = (await rpc(ws, "status", id=2))["result"]
        assert status["meeting"]["status"] == "in_meeting"
        assert status["meeting"]["code"] == "123456789"

        await rpc(ws, "camera.preset", {"camera": "cam1", "preset": 2}, id=3)
        await rpc(ws, "camera.stop", {"camera": "cam1"}, id=4)
        led = await rpc(
            ws, "device.command", {"device": "panel", "command": "led", "args": [1, "blink"]}, 5
        )
        assert led["result"]["reply"] == "ok"
        await rpc(ws, "panel.press", {"device": "panel", "button": 4, "kind": "hold"}, id=6)
        events = (await rpc(ws, "events", {"limit": 3}, id=7))["result"]
        assert len(events) == 3
        # Clients read the event's fields, not its message (which may be reworded).
        assert events[-1]["device"] == "panel" and events[-1]["button"] == 4
        assert events[-1]["kind"] == "button" and events[-1]["how"] == "hold"
        left = await rpc(ws, "meeting.leave", id=8)
        assert "result" in left
    assert ("cam1", "camera.preset", [2]) in agent.commands
    assert ("cam1", "pt_stop", []) in agent.commands
    assert ("panel", "led", [1, "blink"]) in agent.commands
    assert agent.presses == [("panel", 4, "hold")]


async def test_agent_failures_become_plain_errors(server: WebServer, agent: SmallAgent) -> None:
    async with api(server) as ws:
        not_now = await rpc(ws, "meeting.leave")
        assert not_now["error"] == {
            "code": -32001,
            "message": "Not in a meeting",
            "data": {"kind": "ActionNotApplicable"},
        }
        agent.refuse_next = RoomsRefused(10001, "no permission to start", action="StartMeeting")
        refused = (await rpc(ws, "meeting.start", id=2))["error"]
        assert refused["code"] == -32001
        assert "no permission to start" in refused["message"]
        assert refused["data"]["error_code"] == 10001
        unknown = (await rpc(ws, "device.command", {"device": "x", "command": "led"}, 3))["error"]
        assert unknown["code"] == -32602 and unknown["message"] == "no device named 'x'"
        assert "result" in await rpc(ws, "status", id=4)


async def test_calendar_actions_are_api_methods(server: WebServer, agent: SmallAgent) -> None:
    async with api(server) as ws:
        short = (await rpc(ws, "calendar.book_now", {"minutes": 5}))["error"]
        assert short["code"] == -32602
        assert (
            short["message"]
            == "Invalid params: calendar.book_now: 'minutes' must be an integer 15-240 (got 5)"
        )
        none = (await rpc(ws, "calendar.end_early", id=2))["error"]
        assert none["code"] == -32001 and none["message"] == "no room calendar configured"
        agent.calendar = {"current": None, "next": None, "today": []}
        booked = await rpc(ws, "calendar.book_now", {"minutes": 45, "title": "Huddle"}, id=3)
        assert booked["result"]["action"] == "calendar.book_now"


async def test_stopping_the_server_ends_requests_in_flight(agent: SmallAgent) -> None:
    agent.hold = anyio.Event()  # meeting.start will hang like a join waiting for its outcome
    web = WebServer(agent, WebSection(listen="127.0.0.1", port=0), PASSWORD, None)
    with anyio.fail_after(5):
        async with web.running():
            async with api(web) as ws:
                await ws.send(json.dumps({"jsonrpc": "2.0", "id": 1, "method": "meeting.start"}))
                await agent.holding.wait()
                # the block ends with the request still running: the server must not wait


async def test_updates_are_pushed_and_coalesced(server: WebServer, agent: SmallAgent) -> None:
    async with api(server) as ws:
        first = await rpc(ws, "subscribe", {"events": 5})
        assert first["result"]["subscribed"] is True
        for n in range(50):  # a burst: the page should get one or two updates, not fifty
            agent.set_device("panel", n % 2 == 1, "cable unplugged")
        agent.set_device("panel", False, "cable unplugged")
        updates = []
        with anyio.fail_after(5):
            while True:
                message = json.loads(await ws.recv())
                assert "id" not in message
                assert message["method"] == "update"
                updates.append(message["params"])
                panel = message["params"]["status"]["devices"][1]
                if panel["online"] is False and len(message["params"]["events"]) == 5:
                    if (
                        message["params"]["events"][-1]["message"]
                        == "panel offline: cable unplugged"
                    ):
                        break
        assert len(updates) <= 5
        assert sum(len(u.get("changes", [])) for u in updates) == 51
        assert (await rpc(ws, "unsubscribe", id=2))["result"]["was_subscribed"] is True


async def test_a_slow_client_is_resynced_not_waited_for(
    server: WebServer, agent: SmallAgent
) -> None:
    async with api(server) as ws:
        await rpc(ws, "subscribe", {"events": 0})
        (subscriber,) = server.hub.subscribers
        for n in range(5 * MAX_PENDING):  # far more than the client may have pending
            agent.changed({"kind": "tick", "n": n})
            assert len(subscriber.pending) <= MAX_PENDING
        with anyio.fail_after(5):
            update = json.loads(await ws.recv())
        assert update["params"]["resync"] is True
        assert "changes" not in update["params"]
        assert update["params"]["status"]["room"]["name"] == "Huddle 3A"
    async with httpx.AsyncClient(base_url=server.url, auth=(USER, PASSWORD)) as http:
        metrics = (await http.get("/metrics")).text
    assert 'roomagent_web_total{counter="updates_dropped"} ' in metrics
    assert 'roomagent_web_total{counter="updates_dropped"} 0\n' not in metrics


async def test_no_secret_in_any_response(
    server: WebServer, agent: SmallAgent, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    secrets = (PASSWORD, ROOMS_PASSWORD, MEETING_PASSCODE)
    seen: list[str] = []
    async with httpx.AsyncClient(base_url=server.url, auth=(USER, PASSWORD)) as http:
        for path in ("/", "/static/app.js", "/static/app.css", "/metrics", "/session", "/x"):
            reply = await http.get(path)
            seen.append(reply.text + str(reply.headers))
        seen.append((await http.get("/", auth=(USER, "bad"))).text)
    async with api(server) as ws:
        for n, (method, params) in enumerate(
            [
                ("subscribe", {}),
                ("meeting.join", {"meeting_code": "987 654 321", "password": MEETING_PASSCODE}),
                ("status", None),
                ("config.view", None),
                ("events", {"limit": 100}),
                ("meeting.join", {"meeting_code": "12", "password": MEETING_PASSCODE}),
                ("meeting.join", {"meeting_code": 5, "password": MEETING_PASSCODE}),
            ]
        ):
            await ws.send(
                json.dumps({"jsonrpc": "2.0", "id": n, "method": method, "params": params or {}})
            )
        with anyio.fail_after(5):
            answered = 0
            while answered < 7:
                text = str(await ws.recv())
                seen.append(text)
                answered += '"id"' in text
    logged = [
        f"{r.getMessage()} {getattr(r, 'fields', '')}"
        for r in caplog.records
        if r.name.startswith("roomagent")  # (the test's own websockets client logs frames)
    ]
    assert any("login failed" in line for line in logged)
    everything = "\n".join(seen + logged)
    assert '"status": "in_meeting"' in everything  # the join really happened
    assert '"password": "***"' in everything  # masked, not missing
    for secret in secrets:
        assert secret not in everything


async def test_status_says_when_the_last_error_happened(
    server: WebServer, agent: SmallAgent
) -> None:
    async with api(server) as ws:
        assert (await rpc(ws, "status"))["result"]["last_error_at"] is None
        agent.fail("rooms", "error", "Rooms client rejected the password", seconds_ago=120)
        agent.set_device("cam1", True)  # later events do not move the error's time
        when = (await rpc(ws, "status", id=2))["result"]["last_error_at"]
        assert when == agent.events[-2]["ts"]

        # The agent keeps the time itself: it survives the event scrolling out of the history.
        agent.events.clear()
        assert (await rpc(ws, "status", id=3))["result"]["last_error_at"] == when


def test_a_batch_within_the_cap_always_fits_the_sockets_in_flight_slots() -> None:
    from roomagent.web.api import MAX_BATCH
    from roomagent.web.server import MAX_IN_FLIGHT

    assert MAX_BATCH <= MAX_IN_FLIGHT
