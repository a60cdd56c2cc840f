"""Rooms session benchmark: call round trip vs the raw WebSocket floor, and time to READY.

    python3 bench/rooms_roundtrip.py [--calls 2000]

Prints p50/p99 of:
  raw echo      websockets client ↔ echo server (the transport floor)
  raw → sim     websockets client sending a Query to the simulator (adds the server's work)
  session       RoomsSession.query() against the simulator (adds correlation, parsing, timeout)
and the ratio session/raw echo; then the time from the peer coming back after a restart to
the session being READY again (subscribed and mirror re-queried), and how long a half-open
peer takes to be noticed, in keepalive intervals.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import anyio
from websockets.asyncio.client import connect
from websockets.asyncio.server import ServerConnection, serve

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from stats import pct

from roomagent.rooms import LinkState, RoomsSession
from roomagent.rooms.link import auth_subprotocol
from roomagent.rooms.protocol import request_frame
from roomagent.sim.rooms import RoomsSimulator

PASSWORD = "bench-password"
PATH = ["Meeting", "MeetingInfo", "MeetingStatus"]


def line(name: str, samples_us: list[float]) -> tuple[float, float]:
    p50, p99 = pct(samples_us, 0.5), pct(samples_us, 0.99)
    print(f"  {name:<12} p50 {p50:8.1f} µs   p99 {p99:8.1f} µs   (n={len(samples_us)})")
    return p50, p99


async def timed(n: int, once: Callable[[int], Awaitable[object]]) -> list[float]:
    for i in range(min(100, n)):  # warm-up
        await once(i)
    samples = []
    for i in range(n):
        start = time.perf_counter_ns()
        await once(i)
        samples.append((time.perf_counter_ns() - start) / 1000)
    return samples


async def raw_echo(n: int) -> list[float]:
    async def echo(ws: ServerConnection) -> None:
        async for message in ws:
            await ws.send(message)

    async with serve(echo, "127.0.0.1", 0, compression=None) as server:
        port = server.sockets[0].getsockname()[1]
        async with connect(f"ws://127.0.0.1:{port}", compression=None, proxy=None) as ws:

            async def once(i: int) -> None:
                await ws.send(request_frame(f"{i:x}", "Query", {"path": PATH}))
                await ws.recv()

            return await timed(n, once)


async def raw_to_sim(sim: RoomsSimulator, n: int) -> list[float]:
    protocol = auth_subprotocol(PASSWORD)
    async with connect(sim.url, subprotocols=[protocol], proxy=None) as ws:  # type: ignore[list-item]

        async def once(i: int) -> None:
            await ws.send(request_frame(f"{i:x}", "Query", {"path": PATH}))
            await ws.recv()

        return await timed(n, once)


async def main(calls: int, restarts: int) -> None:
    print(f"Rooms session round trip ({calls} Query calls each, loopback)")
    echo = await raw_echo(calls)
    async with RoomsSimulator(password=PASSWORD, event_delay=0.01) as sim:
        direct = await raw_to_sim(sim, calls)
        session = RoomsSession(sim.url, PASSWORD, ping_interval=10, backoff_cap=2.0)
        async with anyio.create_task_group() as tg:
            tg.start_soon(session.run)
            await session.wait_ready(5)
            ours = await timed(calls, lambda i: session.query(PATH))
            echo_p50, echo_p99 = line("raw echo", echo)
            line("raw → sim", direct)
            p50, p99 = line("session", ours)
            print(
                f"  ratio session/raw echo: p50 {p50 / echo_p50:.2f}x   p99 {p99 / echo_p99:.2f}x"
            )

            print(f"Peer restart → session READY ({restarts} restarts)")
            ready_ms = []
            for _ in range(restarts):
                await sim.kill()
                await session.wait_link(LinkState.DISCONNECTED)
                await sim.restart()  # the peer is back from here on
                back = time.perf_counter()
                await session.wait_link(LinkState.READY)
                ready_ms.append((time.perf_counter() - back) * 1000)
            print(
                f"  p50 {statistics.median(ready_ms):7.1f} ms   max {max(ready_ms):7.1f} ms"
                f"   (backoff after the failed immediate retry; cap {session.backoff_cap:g} s)"
            )
            tg.cancel_scope.cancel()

        interval = 0.5
        session = RoomsSession(sim.url, PASSWORD, ping_interval=interval, backoff_cap=1.0)
        async with anyio.create_task_group() as tg:
            tg.start_soon(session.run)
            detect = []
            for _ in range(3):
                await session.wait_ready(10)
                sim.stall()
                start = time.perf_counter()
                await session.wait_link(LinkState.DISCONNECTED)
                detect.append(time.perf_counter() - start)
                sim.resume()
            worst = max(detect)
            print(
                f"Half-open peer detected after {statistics.median(detect):.2f} s median, "
                f"{worst:.2f} s max = {worst / interval:.2f} ping intervals (limit 2)"
            )
            tg.cancel_scope.cancel()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--restarts", type=int, default=10)
    args = parser.parse_args()
    anyio.run(main, args.calls, args.restarts)
