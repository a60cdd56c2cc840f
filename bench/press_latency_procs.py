"""Room control latency as a room sees it: `roomagent run` in its own process, the Rooms
simulator and the virtual keypad in this one, next to a bare relay process doing the same hops.

    python3 bench/press_latency_procs.py [--samples 300] [--plain]

bench/press_latency.py runs agent, simulator and keypad in one process and one event loop:
the lowest floor, but the keypad's reading waits for whatever the agent does after its write,
and the agent's reading for the rig's work. Here each side has its own process (the agent
with the shipped unit's Environment=; `--plain`: without), timed at the same points as
there (SimWire, KeypadWire): press = the keypad's pty write → the Call/Meeting out of the
simulator's WebSocket; event = the Event frame handed to the WebSocket → the keypad's read
that brought the LED line. The floor is a relay process (same interpreter and libraries)
that sends a fixed frame for each pty line and writes a fixed line for each frame.

Between samples the room is quiet (no frame on either wire for QUIET_S), so every sample
wakes an idle process on the far side; on a VM that wake-up (another CPU, another process)
is most of the figure, which is why the relay's floor is printed after the same quiet as
well as back to back.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import subprocess
import sys
import tempfile
import tty
from pathlib import Path

import anyio
from websockets.asyncio.client import connect
from websockets.asyncio.server import serve

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from idle import add_plain_option, unit_environment
from press_latency import (
    JOIN_BUTTON,
    LAYOUT_BUTTON,
    RELAY_FRAME,
    Accepted,
    KeypadWire,
    SimWire,
    host_changes_meeting,
    now_us,
    press_once,
    relay_lines,
    relay_sample,
)
from stats import pct

from roomagent.demo import ROOMS_PASSWORD_ENV, WEB_PASSWORD_ENV, demo_config_source, virtual_room
from roomagent.logsetup import setup_logging

QUIET_S = 0.02
WARM_UP = 30  # first samples of each series dropped (connections, allocator, caches)


async def relay(pty_path: str, url: str) -> None:
    """The floor's far side (`--relay PTY URL`): pty line → fixed frame, frame → fixed line."""
    fd = os.open(pty_path, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
    tty.setraw(fd)
    async with connect(url, compression=None) as ws:
        relay_lines(fd, ws, RELAY_FRAME)
        async for _ in ws:
            os.write(fd, b"LED 1 ON\r\n")


async def relay_floor(n: int, env: dict[str, str]) -> dict[str, tuple[list[float], list[float]]]:
    """{"back to back" | "idle-matched": (press µs, event µs)} against a relay process."""
    master, slave = os.openpty()
    tty.setraw(master)
    tty.setraw(slave)
    os.set_blocking(master, False)
    peer = Accepted()

    try:
        async with serve(peer, "127.0.0.1", 0, compression=None) as server:
            port = server.sockets[0].getsockname()[1]
            argv = [
                sys.executable,
                __file__,
                "--relay",
                os.ttyname(slave),
                f"ws://127.0.0.1:{port}",
            ]
            proc = await anyio.open_process(argv, env=env, stdout=subprocess.DEVNULL)
            try:
                with anyio.fail_after(10):
                    await peer.connected.wait()
                found = {}
                for name, idle in (("back to back", 0.0), ("idle-matched", QUIET_S)):
                    assert peer.ws is not None
                    pairs = [await relay_sample(master, peer.ws, idle) for _ in range(n + WARM_UP)]
                    pairs = pairs[WARM_UP:]
                    found[name] = ([p for p, _ in pairs], [e for _, e in pairs])
                return found
            finally:
                proc.terminate()
                await proc.wait()
    finally:
        os.close(master)
        os.close(slave)


class Quiet:
    """When a frame last crossed either wire (the clock SimWire and KeypadWire read)."""

    def __init__(self) -> None:
        self.last = now_us()

    def clock(self) -> float:
        self.last = now_us()
        return self.last

    async def wait(self) -> None:
        while (waited := (now_us() - self.last) / 1e6) < QUIET_S:  # noqa: ASYNC110 (time)
            await anyio.sleep(QUIET_S - waited)


async def agent_latencies(n: int, env: dict[str, str]) -> tuple[list[float], list[float]]:
    password = secrets.token_urlsafe(12)
    press_us: list[float] = []
    event_us: list[float] = []
    async with virtual_room(password, event_delay=0.0) as room:
        text = demo_config_source(room.sim.url, room.panel.path, room.camera.path, 0)
        with tempfile.TemporaryDirectory() as tmp:
            config = Path(tmp) / "room.toml"
            config.write_text(text)
            env = {**env, ROOMS_PASSWORD_ENV: password, WEB_PASSWORD_ENV: "latency-bench"}
            argv = [sys.executable, "-m", "roomagent", "run", "--config", str(config)]
            proc = await anyio.open_process(
                argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            )
            try:
                quiet = Quiet()
                keypad = KeypadWire(room.panel, quiet.clock)
                changed = anyio.Event()

                def on_change(change: str) -> None:
                    nonlocal changed
                    keypad.seen(change)
                    changed.set()
                    changed = anyio.Event()

                async def led(want: str) -> float:
                    while want not in keypad.read_at:
                        await changed.wait()
                    return keypad.read_at[want]

                room.panel.on_change = on_change
                with anyio.fail_after(20):
                    while not room.sim._connections:  # type: ignore[attr-defined]  # noqa: ASYNC110
                        await anyio.sleep(0.02)
                    wire = SimWire(room.sim, quiet.clock)
                    await anyio.sleep(1.0)  # start-up: Query, subscriptions, first panel frame
                    await quiet.wait()
                    # The join's own frame goes through the simulator's pending (unwrapped)
                    # recv; every later one is timed.
                    await room.panel.tap(JOIN_BUTTON)
                    await led("led 1 on")
                    await anyio.sleep(0.5)  # the agent's settle() after start-up, and the join
                    await quiet.wait()
                for i in range(n + WARM_UP):
                    took = await press_once(room, wire, keypad)
                    if i >= WARM_UP:
                        press_us.append(took)
                    await room.panel.release(LAYOUT_BUTTON)
                    await anyio.sleep(QUIET_S)  # the outcome event in: the next is not "busy"
                    await quiet.wait()
                for i in range(n + WARM_UP):  # the host admits / ends the meeting: LED 1
                    keypad.read_at.clear()
                    want = await host_changes_meeting(room, wire, i)
                    with anyio.fail_after(5):
                        seen = await led(want)
                    if i >= WARM_UP:
                        event_us.append(seen - wire.event_at)
                    await quiet.wait()
            finally:
                proc.terminate()
                with anyio.fail_after(10):
                    await proc.wait()
    return press_us, event_us


def row(name: str, samples: list[float], floor: list[float] | None = None) -> None:
    p50, p99 = pct(samples, 0.5), pct(samples, 0.99)
    ratio = ""
    if floor is not None:
        ratio = f"   ×{p50 / pct(floor, 0.5):4.1f} p50  ×{p99 / pct(floor, 0.99):4.1f} p99"
    print(f"  {name:<28} p50 {p50:7.1f} µs   p99 {p99:7.1f} µs   n={len(samples)}{ratio}")


async def main(samples: int, as_shipped: bool) -> None:
    setup_logging("error")
    env = dict(os.environ) | (unit_environment() if as_shipped else {})
    floors = await relay_floor(samples, env)
    press, event = await agent_latencies(samples, env)
    how = "the unit's Environment=" if as_shipped else "no unit environment (--plain)"
    print(f"roomagent press/event latency, `roomagent run` in its own process ({how})")
    print(f"{samples} samples each; {QUIET_S * 1000:g} ms quiet before each agent sample")
    (bb_press, bb_event), (idle_press, idle_event) = floors["back to back"], floors["idle-matched"]
    row("relay press, back to back", bb_press)
    row("relay press, idle-matched", idle_press)
    row("press → Call/Meeting", press, idle_press)
    row("relay event, back to back", bb_event)
    row("relay event, idle-matched", idle_event)
    row("event → LED frame", event, idle_event)


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--relay":
        asyncio.run(relay(sys.argv[2], sys.argv[3]))
        sys.exit(0)
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--samples", type=int, default=300)
    add_plain_option(parser)
    args = parser.parse_args()
    anyio.run(main, args.samples, not args.plain)
