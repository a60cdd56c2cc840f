"""Diagnostics server benchmark on loopback.

    python3 bench/web_api.py [--calls 2000]

Prints p50/p99 of:
  raw ws echo      a plain websockets echo of the same request text (the floor)
  api status       JSON-RPC `status` through the server (dispatch, validation, scrubbing)
  update push      an isolated agent change → `update` notification at a subscribed client
                   (bursts are coalesced: at most one notification per 50 ms per client)
  GET /            the page over HTTP with Basic credentials (cached check)
and the ratio api/raw.
"""

from __future__ import annotations

import argparse
import base64
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
import httpx
from websockets.asyncio.client import connect
from websockets.asyncio.server import ServerConnection, serve

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from stats import pct

from roomagent.config.model import WebSection
from roomagent.config.vocab import ButtonPhase
from roomagent.control.model import RoomStatus
from roomagent.web.server import WebServer

PASSWORD = "bench-password"
REQUEST = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "status"})


class StaticAgent:
    """The facade with a fixed room: measures the server, not an agent."""

    def __init__(self) -> None:
        self.watchers: list[Callable[[dict[str, Any]], None]] = []
        devices = [{"name": f"dev{n}", "kind": "camera", "online": True} for n in range(4)]
        self.snapshot = {"version": "bench", "room": {"name": "Bench"}, "devices": devices}

    def status(self) -> dict[str, Any]:
        return self.snapshot

    def status_model(self) -> RoomStatus:
        return RoomStatus.model_validate(self.snapshot)  # not a full room: /metrics is unused

    def recent_events(self, limit: int = 100) -> list[dict[str, Any]]:
        return []

    async def perform(self, action: dict[str, Any]) -> dict[str, Any]:
        return {}

    async def device_command(self, device: str, command: str, args: list[Any]) -> dict[str, Any]:
        return {}

    async def press(self, device: str, button: int, kind: ButtonPhase = ButtonPhase.PRESS) -> None:
        return None

    def config_view(self) -> dict[str, Any]:
        return {}

    def watch(self, callback: Callable[[dict[str, Any]], None]) -> Callable[[], None]:
        self.watchers.append(callback)
        return lambda: self.watchers.remove(callback)


def show(label: str, samples: list[float]) -> float:
    p50, p99 = pct(samples, 0.5) * 1000, pct(samples, 0.99) * 1000
    print(f"{label:<14} p50 {p50:7.3f} ms   p99 {p99:7.3f} ms   n={len(samples)}")
    return statistics.median(samples)


async def raw_floor(calls: int) -> list[float]:
    async def echo(ws: ServerConnection) -> None:
        async for message in ws:
            await ws.send(message)

    samples = []
    async with serve(echo, "127.0.0.1", 0) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        async with connect(f"ws://127.0.0.1:{port}") as ws:
            for _ in range(calls):
                start = time.perf_counter()
                await ws.send(REQUEST)
                await ws.recv()
                samples.append(time.perf_counter() - start)
    return samples


async def through_server(calls: int) -> tuple[list[float], list[float], list[float]]:
    agent = StaticAgent()
    web = WebServer(agent, WebSection(listen="127.0.0.1", port=0), PASSWORD, None)
    auth = "Basic " + base64.b64encode(f"admin:{PASSWORD}".encode()).decode()
    api, push, page = [], [], []
    async with web.running():
        async with connect(
            f"ws://127.0.0.1:{web.port}/api", additional_headers={"Authorization": auth}
        ) as ws:
            for _ in range(calls):
                start = time.perf_counter()
                await ws.send(REQUEST)
                await ws.recv()
                api.append(time.perf_counter() - start)
            await ws.send(json.dumps({"jsonrpc": "2.0", "id": 2, "method": "subscribe"}))
            await ws.recv()
            for n in range(min(calls, 100)):
                await anyio.sleep(0.06)  # an isolated change, not part of a burst
                start = time.perf_counter()
                for callback in agent.watchers:
                    callback({"kind": "bench", "n": n})
                await ws.recv()
                push.append(time.perf_counter() - start)
        async with httpx.AsyncClient(base_url=web.url, auth=("admin", PASSWORD)) as http:
            for _ in range(min(calls, 500)):
                start = time.perf_counter()
                await http.get("/")
                page.append(time.perf_counter() - start)
    return api, push, page


async def main(calls: int) -> None:
    raw = await raw_floor(calls)
    api, push, page = await through_server(calls)
    floor = show("raw ws echo", raw)
    through = show("api status", api)
    show("update push", push)
    show("GET /", page)
    print(f"api/raw ratio (p50): {through / floor:.2f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=2000)
    anyio.run(main, parser.parse_args().calls)
