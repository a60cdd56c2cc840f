"""Room control latency: a keypad press to the Call/Meeting on the wire, and a Rooms event to
the LED frame on the keypad, next to the raw pty + websockets floor measured in the same run.

    python3 bench/press_latency.py [--samples 1000]

Everything runs in one process over real ptys and a real WebSocket (simulator, virtual
keypad, agent), so the floor is what the same hops cost with nothing in between:
  floor (press)  one pty line keypad→agent + one WebSocket text frame client→server
  floor (event)  one WebSocket text frame server→client + one pty line agent→keypad

The agent's figures are taken at the same points as the floor's: a press runs from the
keypad's pty write (not from the emulator building its report) to the frame coming out of
the simulator's WebSocket (not after the simulator parsed it and woke a waiting task); an
event runs from the simulator handing the frame to its WebSocket (not from building it) to
the keypad's pty read that brought the LED line (not after the emulator parsed it). Between
samples the room is left to go quiet, so one sample's trailing traffic (the outcome event,
the mirror re-query, the rest of the panel frame) is not charged to the next.

Because of that quiet, each agent sample wakes an idle process whose caches have gone cold,
which on a VM costs several times a busy one's. The floor is therefore printed twice: the
raw hops taken back to back, and idle-matched: a bare relay of the same hops in this process
(a pty reader callback sending a fixed frame from a task; a task writing a fixed pty line
for each frame) after the same quiet, each with the agent's ratio to it.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
import tty
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
from websockets.asyncio.client import connect
from websockets.asyncio.server import ServerConnection, serve

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from stats import pct

from roomagent.app import App
from roomagent.demo import virtual_room
from roomagent.logsetup import setup_logging
from roomagent.rooms.models import MeetingStatus
from roomagent.service.memory import settle

PASSWORD = "bench-password"
LAYOUT_BUTTON = 4  # demo config: meeting.layout switch_type 2 → one SwitchLayout per press
JOIN_BUTTON = 2
LINE = b"BTN 4 PRESS\r\n"
RELAY_FRAME = (
    '{"jsonrpc":"2.0","id":"1","method":"Call/Meeting","params":{"action":"SwitchLayout"}}'
)


def now_us() -> float:
    return time.perf_counter_ns() / 1000


async def pty_one_way(n: int, idle: float = 0.0) -> list[float]:
    """Raw floor: one line written on a pty master until it is read on the slave (after
    `idle` seconds of quiet before each line, as the agent's samples have)."""
    master, slave = os.openpty()
    tty.setraw(master)
    tty.setraw(slave)
    os.set_blocking(slave, False)
    samples = []
    try:
        for _ in range(n):
            await anyio.sleep(idle)
            start = now_us()
            os.write(master, LINE)
            got = b""
            while not got.endswith(b"\n"):
                await anyio.wait_readable(slave)
                got += os.read(slave, 256)
            samples.append(now_us() - start)
    finally:
        os.close(master)
        os.close(slave)
    return samples


async def ws_one_way(n: int, *, to_server: bool, idle: float = 0.0) -> list[float]:
    """Raw floor: one JSON-sized text frame from client to server (or back)."""
    frame = RELAY_FRAME
    arrived: list[float] = []
    got = anyio.Event()
    sent_at: list[float] = []

    async def handler(ws: ServerConnection) -> None:
        nonlocal got
        async for _ in ws:
            arrived.append(now_us() - sent_at[-1])
            got.set()
        return None

    async def push(ws: ServerConnection) -> None:
        await ws.recv()  # "go"
        for _ in range(n):
            await anyio.sleep(idle)
            sent_at.append(now_us())
            await ws.send(frame)
            await ws.recv()  # client's ack, so frames never queue

    async with serve(handler if to_server else push, "127.0.0.1", 0, compression=None) as server:
        port = server.sockets[0].getsockname()[1]
        async with connect(f"ws://127.0.0.1:{port}", compression=None) as client:
            if to_server:
                for _ in range(n):
                    got = anyio.Event()
                    sent_at.append(now_us())
                    await client.send(frame)
                    await got.wait()
            else:
                await client.send("go")
                for _ in range(n):
                    await client.recv()
                    arrived.append(now_us() - sent_at[-1])
                    await client.send("ok")
    return arrived


def relay_lines(fd: int, ws: Any, frame: str) -> None:
    """A bare relay's press leg: for each line read on `fd` (a reader callback), `frame` goes
    out on `ws` from a task of its own."""
    loop = asyncio.get_running_loop()
    buf = bytearray()
    sending: set[asyncio.Task[None]] = set()  # (the loop holds tasks weakly)

    def readable() -> None:
        buf.extend(os.read(fd, 4096))
        if buf.endswith(b"\n"):
            buf.clear()
            sending.add(task := loop.create_task(ws.send(frame)))
            task.add_done_callback(sending.discard)

    loop.add_reader(fd, readable)


async def relay_sample(master: int, ws: ServerConnection, idle: float) -> tuple[float, float]:
    """One press and one event through a bare relay (µs), each after `idle` s of quiet: a
    line written on the pty `master` until the relay's frame is in on `ws`, and a frame sent
    on `ws` until the relay's line is read on `master`."""
    await anyio.sleep(idle)
    start = now_us()
    os.write(master, LINE)
    await ws.recv()
    press = now_us() - start
    await anyio.sleep(idle)
    start = now_us()
    await ws.send(RELAY_FRAME)
    got = b""
    while not got.endswith(b"\n"):
        await anyio.wait_readable(master)
        got += os.read(master, 256)
    return press, now_us() - start


class Accepted:
    """A WebSocket server's handler that keeps the one connection it accepted."""

    def __init__(self) -> None:
        self.ws: ServerConnection | None = None
        self.connected = anyio.Event()

    async def __call__(self, ws: ServerConnection) -> None:
        self.ws = ws
        self.connected.set()
        await ws.wait_closed()


async def relay_floor(n: int, idle: float) -> tuple[list[float], list[float]]:
    """The agent's two paths with nothing in between, in this process, after `idle` s of
    quiet before each sample: a bare relay reads the pty line in a reader callback and sends a
    fixed frame from a task (press); a task receives a frame and writes a fixed pty line
    (event). Each leg's code is as cold as the agent's after the same quiet."""
    frame = RELAY_FRAME
    master, slave = os.openpty()
    tty.setraw(master)
    tty.setraw(slave)
    os.set_blocking(slave, False)
    os.set_blocking(master, False)
    loop = asyncio.get_running_loop()
    press: list[float] = []
    event: list[float] = []
    accepted = Accepted()

    async def down(client: object) -> None:  # the relay's event leg
        async for _ in client:  # type: ignore[attr-defined]
            os.write(slave, b"LED 1 ON\r\n")

    try:
        async with serve(accepted, "127.0.0.1", 0, compression=None) as server:
            port = server.sockets[0].getsockname()[1]
            async with connect(f"ws://127.0.0.1:{port}", compression=None) as client:
                await accepted.connected.wait()
                relay_lines(slave, client, frame)
                async with anyio.create_task_group() as tg:
                    tg.start_soon(down, client)
                    ws = accepted.ws
                    assert ws is not None
                    for _ in range(n):
                        p, e = await relay_sample(master, ws, idle)
                        press.append(p)
                        event.append(e)
                    tg.cancel_scope.cancel()
                loop.remove_reader(slave)
    finally:
        os.close(master)
        os.close(slave)
    return press, event


async def agent_latencies(n: int) -> tuple[list[float], list[float]]:
    press_us: list[float] = []
    event_us: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        secret = Path(tmp) / "rooms.pw"
        secret.write_text(PASSWORD)
        async with virtual_room(
            PASSWORD, web=False, discovery=False, event_delay=0.0, password_file=secret
        ) as room:
            app = App(room.config)
            agent = app.core
            led_seen: dict[str, float] = {}
            led_changed = anyio.Event()

            keypad = KeypadWire(room.panel)

            def on_change(change: str) -> None:
                nonlocal led_changed
                led_seen[change] = now_us()
                keypad.seen(change)
                led_changed.set()

            room.panel.on_change = on_change
            async with anyio.create_task_group() as tg:
                await tg.start(app.run)
                with anyio.fail_after(10):
                    await agent.wait_settled()
                    # Wrapped before the join: the simulator's pending recv is the unwrapped
                    # one, so the join's frame (not a measured press's) goes through it.
                    wire = SimWire(room.sim)
                    # Until the join action has finished, not only the view: a press in the
                    # tick between the outcome event and the end of the join is refused.
                    joined = anyio.Event()
                    unwatch = agent.watch(lambda u: _when_done(u, joined))
                    await room.panel.tap(JOIN_BUTTON)
                    await joined.wait()
                    unwatch()
                    await agent.wait_view(lambda v: v.state.value == "in_meeting")
                # What `roomagent run` does once up: start-up objects out of the collector's way.
                settle()
                for _ in range(n):
                    finished = anyio.Event()
                    unwatch = agent.watch(lambda u, f=finished: _when_done(u, f))
                    press_us.append(await press_once(room, wire, keypad))
                    await room.panel.release(LAYOUT_BUTTON)
                    with anyio.fail_after(5):
                        await finished.wait()  # outcome in: the next press is not "busy"
                    unwatch()
                    await agent_quiet(room)
                # Event → LED: the host admits / ends the meeting; LED 1 follows.
                for i in range(n):
                    led_seen.clear()
                    keypad.read_at.clear()
                    want = await host_changes_meeting(room, wire, i)
                    with anyio.fail_after(5):
                        while want not in led_seen:
                            led_changed = anyio.Event()
                            await led_changed.wait()
                    event_us.append(keypad.read_at[want] - wire.event_at)
                    # Let the rest of the frame (other LEDs, text) go out before the next one.
                    await agent_quiet(room)
                tg.cancel_scope.cancel()
    return press_us, event_us


async def press_once(room: Any, wire: SimWire, keypad: KeypadWire) -> float:
    """One press sample: the layout key down, until its Call/Meeting is out (µs)."""
    wire.expect_call()
    keypad.expect_write()
    await room.panel.press(LAYOUT_BUTTON)
    with anyio.fail_after(5):
        await wire.call_in.wait()
    return wire.call_at - keypad.wrote_at


async def host_changes_meeting(room: Any, wire: SimWire, i: int) -> str:
    """Event sample `i`: the host admits the room (odd) or ends the meeting (even); returns
    the LED change that follows."""
    wire.expect_event()
    if i % 2:
        room.sim.status = MeetingStatus.WAITING_ROOM
        await room.sim.admit()
        return "led 1 on"
    await room.sim.end_meeting()
    return "led 1 off"


class SimWire:
    """Timestamps on the simulator's side of the agent's WebSocket, where the raw floor takes
    its own: the first Call/Meeting frame out of it, and the first Event frame into it.

    The simulator has no hook for this, so the bench wraps that one connection's send/recv
    (instrumentation of the measuring rig, not of the agent)."""

    def __init__(self, sim: object, clock: Callable[[], float] = now_us) -> None:
        connections = list(sim._connections)  # type: ignore[attr-defined]
        assert len(connections) == 1, "one agent connected"
        ws = connections[0]
        recv, send = ws.recv, ws.send
        self.call_in = anyio.Event()
        self.call_at = self.event_at = 0.0
        self._want_call = self._want_event = False

        async def timed_recv(*args: object, **kw: object) -> object:
            frame = await recv(*args, **kw)
            at = clock()  # (every frame: bench/press_latency_procs.py's clock notes them all)
            if self._want_call and isinstance(frame, str) and "Call/Meeting" in frame:
                self.call_at, self._want_call = at, False
                self.call_in.set()
            return frame

        async def timed_send(frame: object, *args: object, **kw: object) -> None:
            at = clock()
            if self._want_event and isinstance(frame, str) and '"Event/' in frame:
                self.event_at, self._want_event = at, False
            await send(frame, *args, **kw)

        ws.recv, ws.send = timed_recv, timed_send

    def expect_call(self) -> None:
        self.call_in, self._want_call = anyio.Event(), True

    def expect_event(self) -> None:
        self._want_event = True


class KeypadWire:
    """Timestamps on the keypad's side of its pty, where the raw floor takes its own: just
    before the emulator's write of a button report, and when the read that brought a line
    returned (a change the emulator reports is charged from the read it came in)."""

    def __init__(self, panel: object, clock: Callable[[], float] = now_us) -> None:
        port = panel.port  # type: ignore[attr-defined]
        read, write = port.read, port.write
        self.wrote_at = self.last_read = 0.0
        self.read_at: dict[str, float] = {}
        self._want_write = False

        async def timed_read() -> bytes:
            data = await read()
            self.last_read = clock()
            return data

        async def timed_write(data: bytes) -> None:
            at = clock()
            if self._want_write:
                self.wrote_at, self._want_write = at, False
            await write(data)

        port.read, port.write = timed_read, timed_write

    def expect_write(self) -> None:
        self._want_write = True

    def seen(self, change: str) -> None:
        self.read_at[change] = self.last_read


def _when_done(update: dict[str, object], finished: anyio.Event) -> None:
    event = update.get("event")
    if isinstance(event, dict) and event.get("kind") in ("action", "refused"):
        finished.set()


async def agent_quiet(room: object) -> None:
    """Until the keypad has had no LED/text change for 20 ms (the agent's trailing work for
    the last sample — outcome event, mirror re-query, the rest of the frame — is done)."""
    while True:
        with anyio.move_on_after(QUIET_S) as scope:
            await room.panel.wait_change()  # type: ignore[attr-defined]
        if scope.cancelled_caught:
            return


def row(name: str, samples: list[float], floor: tuple[float, float] | None = None) -> None:
    p50, p99 = pct(samples, 0.5), pct(samples, 0.99)
    ratio = f"   ×{p50 / floor[0]:5.1f} p50  ×{p99 / floor[1]:5.1f} p99" if floor else ""
    print(f"  {name:<24} p50 {p50:8.1f} µs   p99 {p99:8.1f} µs   n={len(samples)}{ratio}")


WARM_UP = 100  # first samples of each raw loop are dropped (allocator, caches)
# The agent's samples start after the room has been quiet (QUIET_S); on a VM an idle loop's
# first wake-up costs far more than a busy one's, so the floor is also taken after that idle.
QUIET_S = 0.02
IDLE_SAMPLES = 500


async def main(samples: int) -> None:
    setup_logging("error")
    pty = (await pty_one_way(samples + WARM_UP))[WARM_UP:]
    ws_up = (await ws_one_way(samples + WARM_UP, to_server=True))[WARM_UP:]
    ws_down = (await ws_one_way(samples + WARM_UP, to_server=False))[WARM_UP:]
    floor_press = [a + b for a, b in zip(sorted(pty), sorted(ws_up), strict=True)]
    floor_event = [a + b for a, b in zip(sorted(ws_down), sorted(pty), strict=True)]
    # Idle-matched: a bare relay of the same hops after the same quiet as the agent's.
    relay_press, relay_event = await relay_floor(IDLE_SAMPLES, QUIET_S)
    press, event = await agent_latencies(samples)
    print(f"roomagent press/event latency ({samples} samples each, one process, loopback + ptys)")
    row("raw pty line", pty)
    row("raw ws client→server", ws_up)
    row("raw ws server→client", ws_down)
    fp = (pct(floor_press, 0.5), pct(floor_press, 0.99))
    fe = (pct(floor_event, 0.5), pct(floor_event, 0.99))
    row("floor press (pty+ws)", floor_press)
    row("press → Call/Meeting", press, fp)
    row("floor event (ws+pty)", floor_event)
    row("event → LED frame", event, fe)
    print(
        f"idle-matched: a bare relay, {QUIET_S * 1000:g} ms quiet before each sample as the agent's"
    )
    fpi = (pct(relay_press, 0.5), pct(relay_press, 0.99))
    fei = (pct(relay_event, 0.5), pct(relay_event, 0.99))
    row("relay press (pty→ws)", relay_press)
    row("press → Call/Meeting", press, fpi)
    row("relay event (ws→pty)", relay_event)
    row("event → LED frame", event, fei)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--samples", type=int, default=1000)
    anyio.run(main, parser.parse_args().samples)
