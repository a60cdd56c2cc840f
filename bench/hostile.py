"""Hostile input and load on loopback: what an attacker or a peer gone wild costs the agent.

  python3 bench/hostile.py [login|batch|flap|flood|all]

login  100 simultaneous wrong passwords from one address against a PBKDF2 hash: how many
       were checked (401) and how many refused at once (429); then the right password
batch  one frame of 1,000 `events` calls: reply size, time to answer, the slowest
       /healthz answered meanwhile, server RSS growth
flap   a Rooms peer that closes every session 50 ms after it is ready: connections in 12 s
flood  `roomagent run` while the Rooms peer sends events as fast as it can for 6 s: the
       slowest /healthz, log lines written, time from SIGTERM to exit
"""

from __future__ import annotations

import argparse
import base64
import json
import logging
import os
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import anyio
import httpx
from websockets.asyncio.client import connect

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from web_api import StaticAgent

from roomagent.config.model import WebSection
from roomagent.demo import (
    ROOMS_PASSWORD_ENV,
    WEB_PASSWORD_ENV,
    demo_config_source,
    virtual_room,
)
from roomagent.rooms.session import RoomsSession
from roomagent.sim.rooms import RoomsSimulator
from roomagent.web.auth import hash_password
from roomagent.web.server import WebServer

USER, PASSWORD = "admin", "bench-password"


def basic(password: str) -> str:
    return "Basic " + base64.b64encode(f"{USER}:{password}".encode()).decode()


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class EventsAgent(StaticAgent):
    """The bench facade with a long event history (what `events` returns is realistic)."""

    def __init__(self) -> None:
        super().__init__()
        self.history = [
            {
                "at": "2026-12-01T10:00:00",
                "source": "panel",
                "kind": "action",
                "message": f"button {n % 12} press: meeting.join (123 456 789) accepted",
                "fields": {"button": n % 12, "action": "meeting.join", "n": n},
            }
            for n in range(1000)
        ]

    def recent_events(self, limit: int = 100) -> list[dict[str, Any]]:
        return self.history[-limit:]


async def healthz_probe(url: str, stop: anyio.Event, worst: list[float]) -> None:
    async with httpx.AsyncClient(timeout=30) as http:
        while not stop.is_set():
            start = time.perf_counter()
            try:
                await http.get(url + "healthz")
            except httpx.HTTPError:
                pass
            worst.append(time.perf_counter() - start)
            await anyio.sleep(0.05)


async def bench_login() -> None:
    hashed = hash_password(PASSWORD, iterations=200_000)
    web = WebServer(EventsAgent(), WebSection(listen="127.0.0.1", port=0, user=USER), None, hashed)
    async with web.running(), httpx.AsyncClient(base_url=web.url, timeout=120) as http:
        codes: list[int] = []

        async def attempt(n: int) -> None:
            response = await http.get("/", headers={"Authorization": basic(f"guess-{n}")})
            codes.append(response.status_code)

        start = time.perf_counter()
        async with anyio.create_task_group() as tg:
            for n in range(100):
                tg.start_soon(attempt, n)
        took = time.perf_counter() - start
        right = await http.get("/", headers={"Authorization": basic(PASSWORD)})
    print(
        f"login race   checked(401) {codes.count(401):3d}   refused(429) {codes.count(429):3d}"
        f"   took {took:6.2f} s   right password then: {right.status_code}"
    )


async def bench_batch() -> None:
    section = WebSection(listen="127.0.0.1", port=0, user=USER)
    web = WebServer(EventsAgent(), section, PASSWORD, None)
    call = {"jsonrpc": "2.0", "method": "events", "params": {"limit": 50}}
    batch = json.dumps([{**call, "id": n} for n in range(1000)])
    rss_before = rss_mb()
    async with web.running():
        stop = anyio.Event()
        samples: list[float] = []
        async with anyio.create_task_group() as tg:
            tg.start_soon(healthz_probe, web.url, stop, samples)
            await anyio.sleep(0.2)
            async with connect(
                f"ws://127.0.0.1:{web.port}/api",
                additional_headers={"Authorization": basic(PASSWORD)},
                max_size=None,
            ) as ws:
                start = time.perf_counter()
                await ws.send(batch)
                reply = await ws.recv()
                took = time.perf_counter() - start
            await anyio.sleep(0.2)
            stop.set()
    verdict = "error" if '"error"' in str(reply)[:400] else "served"
    print(
        f"batch 1000   request {len(batch) / 1024:6.1f} KB   reply {len(reply) / 1e6:7.2f} MB "
        f"({verdict})   took {took:6.2f} s   worst /healthz {max(samples) * 1000:7.1f} ms   "
        f"RSS +{rss_mb() - rss_before:6.1f} MB"
    )


async def bench_flap() -> None:
    async with RoomsSimulator(password="pw") as sim:
        sim.close_after_query = 0.05
        session = RoomsSession(sim.url, "pw", backoff_cap=30.0)
        with anyio.move_on_after(12.0):
            await session.run()
        print(f"flapping     connections in 12 s: {sim.connections_total}")


async def bench_flood() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    async with virtual_room("flood-pw", web=False, discovery=False) as room:
        text = demo_config_source(room.sim.url, room.panel.path, room.camera.path, port)
        text = text.replace('level = "error"', 'level = "info"').replace(
            "[discovery]\nenabled = true", "[discovery]\nenabled = false"
        )
        with tempfile.TemporaryDirectory() as folder:
            config = Path(folder) / "room.toml"
            config.write_text(text)
            log = Path(folder) / "agent.log"
            env = os.environ | {ROOMS_PASSWORD_ENV: "flood-pw", WEB_PASSWORD_ENV: "x"}
            with log.open("wb") as out:
                proc = subprocess.Popen(  # noqa: ASYNC220 (a child we time, not await)
                    [sys.executable, "-m", "roomagent", "run", "--config", str(config)],
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    env=env,
                )
                try:
                    url = f"http://127.0.0.1:{port}/"
                    async with httpx.AsyncClient() as http:
                        for _ in range(100):
                            await anyio.sleep(0.1)
                            try:
                                if (await http.get(url + "healthz")).status_code == 200:
                                    break
                            except httpx.HTTPError:
                                pass
                    await anyio.sleep(1.0)  # the Rooms link is up
                    lines_before = log.read_bytes().count(b"\n")
                    stop = anyio.Event()
                    samples: list[float] = []
                    async with anyio.create_task_group() as tg:
                        tg.start_soon(healthz_probe, url, stop, samples)
                        sent = await room.sim.flood(6.0)
                        stop.set()
                    start = time.perf_counter()
                    proc.send_signal(signal.SIGTERM)
                    try:
                        proc.wait(timeout=20)
                        stopped = f"{time.perf_counter() - start:5.2f} s"
                    except subprocess.TimeoutExpired:
                        stopped = "> 20 s"
                finally:
                    if proc.poll() is None:
                        proc.kill()
                        proc.wait()
            data = log.read_bytes()
    lines = data.count(b"\n") - lines_before
    print(
        f"event flood  sent {sent:7d} in 6 s   worst /healthz {max(samples):6.2f} s   "
        f"log lines {lines:7d} ({len(data) / 1e6:5.1f} MB)   SIGTERM to exit {stopped}"
    )


BENCHES = {"login": bench_login, "batch": bench_batch, "flap": bench_flap, "flood": bench_flood}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("which", nargs="?", default="all", choices=[*BENCHES, "all"])
    args = parser.parse_args()
    logging.getLogger().addHandler(logging.NullHandler())  # figures only, no log chatter
    logging.getLogger().setLevel(logging.CRITICAL)
    for name, bench in BENCHES.items():
        if args.which in (name, "all"):
            anyio.run(bench)


if __name__ == "__main__":
    main()
