"""The web server under attack, over real loopback sockets: login races, staff during an
attack, huge batches, malformed headers, and what websockets writes into a debug log."""

from __future__ import annotations

import base64
import json
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
import httpx
import pytest
from websockets.asyncio.client import connect

from roomagent.config.model import WebSection
from roomagent.web.api import MAX_BATCH, MAX_REPLY_BYTES
from roomagent.web.auth import SESSION_COOKIE, LoginLimiter, hash_password
from roomagent.web.server import WebServer
from tests.logcapture import agent_log

from .conftest import PASSWORD, USER, basic
from .small_agent import SmallAgent

pytestmark = pytest.mark.anyio


@asynccontextmanager
async def hashed_server(agent: SmallAgent, **limits: Any) -> AsyncIterator[WebServer]:
    """A server with a PBKDF2 hash, as in production (fewer iterations: the test is quick)."""
    stored = hash_password(PASSWORD, iterations=20_000)
    limiter = LoginLimiter(**limits)
    web = WebServer(agent, WebSection(listen="127.0.0.1", port=0, user=USER), None, stored,
                    limiter=limiter)  # fmt: skip
    async with web.running():
        yield web


async def healthz_worst(url: str, stop: anyio.Event, worst: list[float]) -> None:
    async with httpx.AsyncClient(base_url=url, timeout=10) as http:
        while not stop.is_set():
            start = time.perf_counter()
            assert (await http.get("/healthz")).status_code == 200
            worst.append(time.perf_counter() - start)
            await anyio.sleep(0.05)


async def race(url: str, count: int) -> list[int]:
    """`count` simultaneous wrong passwords from one address; their status codes."""
    codes: list[int] = []
    limits = httpx.Limits(max_connections=count)
    async with httpx.AsyncClient(base_url=url, timeout=30, limits=limits) as http:

        async def guess(n: int) -> None:
            response = await http.get("/", headers={"Authorization": basic(password=f"g{n}")})
            codes.append(response.status_code)

        async with anyio.create_task_group() as tg:
            for n in range(count):
                tg.start_soon(guess, n)
    return codes


async def test_a_race_of_guesses_gets_a_handful_of_checks(agent: SmallAgent) -> None:
    # Before: all 100 were checked (100 × 401), each a PBKDF2 run.
    async with hashed_server(agent) as web:
        stop, worst = anyio.Event(), []
        async with anyio.create_task_group() as tg:
            tg.start_soon(healthz_worst, web.url, stop, worst)
            codes = await race(web.url, 100)
            stop.set()
        assert web.limiter.checks <= 5
        assert codes.count(401) == web.limiter.checks
        assert codes.count(429) == 100 - web.limiter.checks
        # The page stayed up: /healthz answered throughout (each probe asserts 200). Not
        # timed here: the 100 client sockets share this process and its CPU.
        assert worst


async def test_staff_get_in_during_an_attack(agent: SmallAgent) -> None:
    async with hashed_server(agent, locked_interval=1.0) as web:
        async with httpx.AsyncClient(base_url=web.url) as staff:
            # Logged in before the attack: the page's login and its API token.
            assert (await staff.get("/", auth=(USER, PASSWORD))).status_code == 200
            token = (await staff.get("/session", auth=(USER, PASSWORD))).cookies[SESSION_COOKIE]
        codes = await race(web.url, 100)
        while web.limiter.retry_after("127.0.0.1") is None:  # the attacker goes on: locked
            codes += await race(web.url, 10)
        assert 429 in codes
        async with httpx.AsyncClient(base_url=web.url) as staff:
            # A remembered login and a valid cookie do not wait at all.
            assert (await staff.get("/", auth=(USER, PASSWORD))).status_code == 200
            cookie = {"Cookie": f"{SESSION_COOKIE}={token}"}
            async with connect(f"ws://127.0.0.1:{web.port}/api", additional_headers=cookie) as ws:
                await ws.send(json.dumps({"jsonrpc": "2.0", "id": 1, "method": "status"}))
                assert "result" in json.loads(await ws.recv())
        # Someone who was not logged in: the right password gets in at the next check slot.
        web.credentials._accepted.clear()
        async with httpx.AsyncClient(base_url=web.url) as newcomer:
            with anyio.fail_after(5):
                while True:
                    reply = await newcomer.get("/", auth=(USER, PASSWORD))
                    if reply.status_code == 200:
                        break
                    assert reply.status_code == 429
                    await anyio.sleep(int(reply.headers["Retry-After"]))
        assert web.limiter.checks <= 7  # the race's few, the newcomer's one


def batch(count: int, method: str = "events", **params: Any) -> str:
    return json.dumps(
        [{"jsonrpc": "2.0", "id": n, "method": method, "params": params} for n in range(count)]
    )


async def test_a_batch_of_a_thousand_is_refused_while_healthz_answers(
    server: WebServer, agent: SmallAgent
) -> None:
    agent.events = [{"kind": "action", "message": "x" * 1000, "n": n} for n in range(500)]
    headers = {"Authorization": basic()}
    stop, worst = anyio.Event(), []
    async with anyio.create_task_group() as tg:
        tg.start_soon(healthz_worst, server.url, stop, worst)
        await anyio.sleep(0.1)
        async with connect(
            f"ws://127.0.0.1:{server.port}/api", additional_headers=headers, max_size=None
        ) as ws:
            await ws.send(batch(1000))
            with anyio.fail_after(2):
                refused = json.loads(await ws.recv())
            assert refused["error"]["code"] == -32600
            assert f"at most {MAX_BATCH}" in refused["error"]["message"]
            # Within the cap it is served; a reply past the size cap cuts members, in words.
            await ws.send(batch(MAX_BATCH, limit=500))
            with anyio.fail_after(10):
                text = await ws.recv()
            replies = json.loads(text)
            assert len(text) <= MAX_REPLY_BYTES + 200 * MAX_BATCH
            assert "result" in replies[0] and len(replies[0]["result"]) == 500
            cut = [r for r in replies if "error" in r]
            assert cut and all("Reply too large" in r["error"]["message"] for r in cut)
            assert sorted(r["id"] for r in replies) == list(range(MAX_BATCH))
            # The socket still works.
            await ws.send(json.dumps({"jsonrpc": "2.0", "id": "s", "method": "status"}))
            assert json.loads(await ws.recv())["id"] == "s"
        stop.set()
    assert max(worst) < 1.0


async def raw_request(port: int, head: str) -> tuple[int, str]:
    """Send a raw HTTP request (headers as written, duplicates kept); status and body."""
    async with await anyio.connect_tcp("127.0.0.1", port) as stream:
        await stream.send(head.encode("latin-1") + b"\r\n")
        data = b""
        with anyio.fail_after(5):
            try:
                while True:
                    data += await stream.receive()
            except (anyio.EndOfStream, anyio.BrokenResourceError):
                pass
    status = int(data.split(b" ", 2)[1])
    return status, data.decode("latin-1").split("\r\n\r\n", 1)[-1]


MALFORMED = {
    "two Authorization": f"Authorization: {basic()}\r\nAuthorization: {basic()}\r\n",
    "two Origin": "Origin: http://127.0.0.1\r\nOrigin: http://evil.example\r\n",
    "two Cookie": f"Cookie: {SESSION_COOKIE}=a\r\nCookie: {SESSION_COOKIE}=b\r\n",
    "broken Origin": "Origin: http://[\r\n",
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
async def test_malformed_headers_get_400_logged_at_debug_and_counted(
    server: WebServer, case: str, caplog: pytest.LogCaptureFixture
) -> None:
    assert server.port is not None
    caplog.set_level(logging.DEBUG, logger="roomagent.web")
    for path in ("/", "/api", "/metrics"):
        head = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n{MALFORMED[case]}"
        status, body = await raw_request(server.port, head)
        assert status == 400, (case, path, status, body)
        assert body.startswith("Bad request")
    assert server.counters.bad_requests == 3
    records = [r for r in caplog.records if r.name.startswith("roomagent.web")]
    assert not [r for r in records if r.levelno >= logging.WARNING]
    assert any(r.getMessage() == "bad web request" for r in records)
    async with httpx.AsyncClient(base_url=server.url, auth=(USER, PASSWORD)) as http:
        metrics = (await http.get("/metrics")).text
    assert 'roomagent_web_total{counter="bad_requests"} 3' in metrics


async def test_no_credential_or_cookie_in_a_debug_log(server: WebServer) -> None:
    with agent_log("debug") as log:
        async with httpx.AsyncClient(base_url=server.url) as http:
            token = (await http.get("/session", auth=(USER, PASSWORD))).cookies[SESSION_COOKIE]
        for headers in ({"Authorization": basic()}, {"Cookie": f"{SESSION_COOKIE}={token}"}):
            async with connect(f"ws://127.0.0.1:{server.port}/api", additional_headers=headers):
                pass
    text = log.getvalue()
    assert "Authorization: ***" in text and "Cookie: ***" in text  # the lines are there
    credential = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    for secret in (credential, credential[:12], token, token[:12], PASSWORD):
        assert secret not in text
