"""The fleet plane at scale: Mosquitto + N simulated rooms, the fleet tools, one real agent.

    python3 bench/fleet.py [--rooms 1000] [--workers 4] [--seconds 60] [--agent-seconds 10]

Starts a Mosquitto on a free loopback port (password file + the shipped ACL), N rooms as
lightweight MQTT clients in a few worker processes publishing the real payloads (retained
availability with a last will, the room status shape), each room changing once a minute
(random phase; the change's send time rides in meeting.title). Measures:
  - `roomagent fleet status --json` wall time for N rooms (a separate process, as a user runs it)
  - change → `fleet watch` latency (the watch code in this process) and → fleet page
    latency (`roomagent fleet serve` in its own process, read over its socket), p50/p99,
    beside a raw floor: a bare publish → receive through the same broker in the same run
  - messages/s the broker carried ($SYS counters)
  - one real agent (`roomagent run`, demo room) with and without [mqtt]: RSS and idle CPU.
Stops by itself; loopback only.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from functools import partial
from pathlib import Path
from typing import Any

import anyio
import httpx
from websockets.asyncio.client import connect

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from idle import measure_run
from stats import pct

from roomagent.demo import ROOMS_PASSWORD_ENV, WEB_PASSWORD_ENV, demo_config_source, virtual_room
from roomagent.fleet.broker import parse_broker
from roomagent.fleet.tools import collect, watch
from roomagent.fleet.view import Change
from roomagent.logsetup import setup_logging
from roomagent.sim.fleet import SimulatedRoom, room_status, room_will

ROOT = Path(__file__).resolve().parents[1]
OPERATOR, OPERATOR_PW = "fleet-operator", "bench-operator-pw"
SYS_USER, SYS_PW = "bench-sys", "bench-sys-pw"
PAGE_PW = "bench-page-pw"
CHANGE_PERIOD_S = 60.0
ACL = ROOT / "examples" / "mosquitto" / "acl"


def room_id(n: int) -> str:
    return f"room-{n:04d}"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_mosquitto(folder: Path, rooms: int) -> tuple[subprocess.Popen[bytes], int]:
    folder.chmod(0o755)  # mosquitto started as root drops to its own user
    port = free_port()
    users = {OPERATOR: OPERATOR_PW, SYS_USER: SYS_PW}
    users.update({room_id(n): f"pw-{room_id(n)}" for n in range(rooms)})
    passwd = folder / "passwd"
    passwd.write_text("".join(f"{u}:{p}\n" for u, p in users.items()))
    subprocess.run(["mosquitto_passwd", "-U", str(passwd)], check=True)
    acl = folder / "acl"
    acl.write_text(
        ACL.read_text() + f"\nuser {SYS_USER}\ntopic read $SYS/#\ntopic readwrite bench/#\n"
    )
    conf = folder / "mosquitto.conf"
    conf.write_text(
        f"listener {port} 127.0.0.1\nallow_anonymous false\npassword_file {passwd}\n"
        f"acl_file {acl}\npersistence false\nsys_interval 1\nmax_connections -1\n"
        "log_dest none\n"
    )
    for path in (passwd, acl, conf):
        path.chmod(0o644)
    process = subprocess.Popen(["mosquitto", "-c", str(conf)])
    for _ in range(200):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.1):
                return process, port
        except OSError:
            time.sleep(0.05)
    process.kill()
    raise SystemExit("mosquitto did not start")


# ---- worker: a slice of the simulated rooms ------------------------------------------------


async def worker(port: int, first: int, count: int, seconds: float) -> None:
    url = f"mqtt://127.0.0.1:{port}"
    rng = random.Random(first)
    ready = anyio.Event()
    started = 0

    async def one(n: int) -> None:
        nonlocal started
        rid = room_id(n)
        base = f"roomagent/site-{n % 10}/{rid}"
        broker = parse_broker(url, username=rid, password=f"pw-{rid}")
        await anyio.sleep(rng.uniform(0, 3))  # the boxes of a building do not boot at once
        room = SimulatedRoom(broker.client(f"sim-{rid}", keepalive=60, will=room_will(base)), base)
        async with room:
            await room.status(room_status(rid, name=f"Room {n}"))
            started += 1
            if started == count:
                ready.set()
            await anyio.sleep(rng.uniform(0, CHANGE_PERIOD_S))
            in_meeting = False
            while True:
                in_meeting = not in_meeting
                status = room_status(
                    rid,
                    name=f"Room {n}",
                    state="in_meeting" if in_meeting else "idle",
                    meeting_code="123456789",
                    meeting_title=f"bench {time.time():.6f}",
                )
                await room.status(status)
                await anyio.sleep(CHANGE_PERIOD_S)

    with anyio.move_on_after(seconds):
        async with anyio.create_task_group() as tg:
            for n in range(first, first + count):
                tg.start_soon(one, n)
            await ready.wait()
            print("ready", flush=True)


# ---- measuring ------------------------------------------------------------------------------


def sent_at(row_or_status: dict[str, Any]) -> float | None:
    title = (row_or_status.get("meeting") or {}).get("title") or ""
    return float(title.split()[1]) if title.startswith("bench ") else None


async def sys_counters(port: int) -> dict[str, float]:
    broker = parse_broker(f"mqtt://127.0.0.1:{port}", username=SYS_USER, password=SYS_PW)
    found: dict[str, float] = {}
    async with broker.client(f"bench-sys-{random.randrange(1 << 30)}") as client:
        await client.subscribe("$SYS/broker/messages/#")
        with anyio.move_on_after(2.5):
            async for message in client.messages:
                try:
                    found[message.topic.value] = float(bytes(message.payload))  # type: ignore[arg-type]
                except ValueError:
                    pass
    return found


async def raw_floor(port: int, samples: list[float], stop: anyio.Event) -> None:
    """A bare publish → receive through the same broker, while the fleet runs."""
    broker = parse_broker(f"mqtt://127.0.0.1:{port}", username=SYS_USER, password=SYS_PW)
    async with broker.client("bench-floor-rx") as rx, broker.client("bench-floor-tx") as tx:
        await rx.subscribe("bench/floor", qos=1)
        while not stop.is_set():
            await tx.publish("bench/floor", f"{time.time():.6f}", qos=1)
            message = await anext(rx.messages)
            samples.append(time.time() - float(bytes(message.payload)))  # type: ignore[arg-type]
            await anyio.sleep(0.1)


async def page_latency(url: str, samples: list[float], stop: anyio.Event, started: float) -> None:
    auth = base64.b64encode(f"admin:{PAGE_PW}".encode()).decode()
    async with httpx.AsyncClient() as http:
        for _ in range(100):
            try:
                reply = await http.get(url + "session", headers={"Authorization": f"Basic {auth}"})
                break
            except httpx.TransportError:
                await anyio.sleep(0.1)
    cookie = reply.headers["set-cookie"].split(";")[0]
    seen: set[tuple[str, str, float]] = set()
    async with connect(
        url.replace("http", "ws") + "api", additional_headers={"Cookie": cookie}, max_size=None
    ) as socket_:
        while not stop.is_set():
            with anyio.move_on_after(1):
                frame = json.loads(await socket_.recv())
                now = time.time()
                if frame.get("type") == "rooms":
                    for row in frame["rooms"]:
                        t = sent_at(row)
                        change = (row["site"], row["room_id"], t)
                        # A row re-sent unchanged (availability, an event) is no new change.
                        if t is not None and t >= started and change not in seen:
                            seen.add(change)
                            samples.append(now - t)


async def agent_cost(port: int, seconds: float) -> dict[str, dict[str, float]]:
    """`roomagent run` (demo room) with and without [mqtt]: RSS and CPU after settling."""
    results: dict[str, dict[str, float]] = {}
    password = "bench-rooms-pw"
    async with virtual_room(password, web=True, discovery=False) as room:
        base = demo_config_source(room.sim.url, room.panel.path, room.camera.path, 0)
        for label, extra in (
            ("without [mqtt]", ""),
            (
                "with [mqtt]",
                f'\n[mqtt]\nurl = "mqtt://127.0.0.1:{port}"\nusername = "room-0000"\n'
                'password_env = "BENCH_MQTT_PW"\nsite = "site-0"\n',
            ),
        ):
            with tempfile.TemporaryDirectory() as tmp:
                config = Path(tmp) / "room.toml"
                config.write_text(
                    base.replace("[discovery]\nenabled = true", "[discovery]\nenabled = false")
                    + extra
                )
                env = {
                    **os.environ,
                    ROOMS_PASSWORD_ENV: password,
                    WEB_PASSWORD_ENV: "b",
                    "BENCH_MQTT_PW": "pw-room-0000",
                    "PYTHONPATH": str(ROOT),
                }
                cpu_s, wall_s, mem = await measure_run(config, env, seconds, settle=4.0)
                results[label] = {
                    "rss_mib": mem["VmRSS"] / 1024,
                    "cpu_pct": 100 * cpu_s / wall_s,
                    "cpu_ms": 1000 * cpu_s,
                }
    return results


async def main(rooms: int, workers: int, seconds: float, agent_seconds: float) -> None:
    setup_logging("error")
    if not shutil.which("mosquitto"):
        raise SystemExit("needs the Debian package mosquitto")
    folder = Path(tempfile.mkdtemp(prefix="bench-fleet-"))
    broker_proc, port = start_mosquitto(folder, rooms)
    url = f"mqtt://127.0.0.1:{port}"
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "ROOMAGENT_MQTT_USERNAME": OPERATOR,
        "ROOMAGENT_MQTT_PASSWORD": OPERATOR_PW,
        "ROOMAGENT_WEB_PASSWORD": PAGE_PW,
    }
    # The workers stop by themselves after this (a bound if the bench is killed), long after
    # the window: rooms leaving during it would re-send rows and skew the page figures.
    life = seconds + 600
    procs: list[Any] = []
    try:
        per = -(-rooms // workers)
        t0 = time.monotonic()
        for w in range(workers):
            first, count = w * per, min(per, rooms - w * per)
            procs.append(
                await anyio.open_process(
                    [
                        sys.executable,
                        __file__,
                        "--worker",
                        str(port),
                        str(first),
                        str(count),
                        str(life),
                    ],
                    env=env,
                    stderr=subprocess.DEVNULL,
                )
            )
        for proc in procs:
            with anyio.fail_after(120):
                assert (await proc.stdout.receive()).strip() == b"ready"
        print(
            f"{rooms} simulated rooms online in {time.monotonic() - t0:.1f} s "
            f"({workers} worker processes)"
        )

        page_port = free_port()
        page = await anyio.open_process(
            [
                sys.executable,
                "-m",
                "roomagent",
                "fleet",
                "serve",
                "--broker",
                url,
                "--listen",
                f"127.0.0.1:{page_port}",
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        procs.append(page)

        times = []
        for _ in range(3):
            t = time.monotonic()
            done = await anyio.run_process(
                [sys.executable, "-m", "roomagent", "fleet", "status", "--broker", url, "--json"],
                env=env,
                check=True,
            )
            times.append(time.monotonic() - t)
            count = len(done.stdout.splitlines())
        print(
            f"fleet status --json: {count} rooms in {min(times):.2f} s best, "
            f"{max(times):.2f} s worst of 3 (process start, connect, retained burst, 0.5 s quiet)"
        )
        operator = parse_broker(url, username=OPERATOR, password=OPERATOR_PW)
        t = time.monotonic()
        view = await collect(operator)
        spent = time.monotonic() - t
        print(f"  of which collecting in-process: {len(view.rooms)} rooms in {spent:.2f} s")

        watch_lat: list[float] = []
        page_lat: list[float] = []
        floor: list[float] = []
        stop = anyio.Event()

        before = await sys_counters(port)
        started = time.time()  # changes sent before do not count (the page's neither)
        watching_from = [float("inf")]  # set once the watch has subscribed

        def on_change(change: Change) -> None:
            # A change sent before the subscription comes in the retained burst: not a
            # latency, so only those sent once the watch is subscribed count.
            if change.kind == "status" and change.record.status:
                t = sent_at(change.record.status)
                if t is not None and t >= watching_from[0]:
                    watch_lat.append(time.time() - t)

        def subscribed() -> None:
            watching_from[0] = time.time()

        w0 = time.monotonic()
        async with anyio.create_task_group() as tg:
            tg.start_soon(partial(watch, operator, on_change, ready=subscribed))
            tg.start_soon(raw_floor, port, floor, stop)
            page_url = f"http://127.0.0.1:{page_port}/"
            tg.start_soon(page_latency, page_url, page_lat, stop, started)
            await anyio.sleep(seconds)
            stop.set()
            await anyio.sleep(1.2)
            tg.cancel_scope.cancel()
        after = await sys_counters(port)
        window = time.monotonic() - w0
        received = "$SYS/broker/messages/received"
        sent = "$SYS/broker/messages/sent"
        rate_in = (after.get(received, 0) - before.get(received, 0)) / window
        rate_out = (after.get(sent, 0) - before.get(sent, 0)) / window
        print(f"over {window:.0f} s, each room changing once a minute:")
        for name, data in (
            ("fleet watch", watch_lat),
            ("fleet page", page_lat),
            ("raw floor", floor),
        ):
            ratio = pct(data, 0.99) / pct(floor, 0.99) if floor else float("nan")
            print(
                f"  change → {name:11s} n={len(data):5d}  p50 {1000 * pct(data, 0.5):7.1f} ms  "
                f"p99 {1000 * pct(data, 0.99):7.1f} ms  (p99 {ratio:.1f}× floor)"
            )
        print(f"  broker: {rate_in:.0f} msg/s in, {rate_out:.0f} msg/s out")
        for proc in procs:
            if proc.returncode is None:
                try:
                    proc.send_signal(signal.SIGTERM)
                except ProcessLookupError:
                    pass
        for proc in procs:
            with anyio.move_on_after(10):
                await proc.wait()

        cost = await agent_cost(port, agent_seconds)
        for label, figures in cost.items():
            print(
                f"roomagent run {label:15s} RSS {figures['rss_mib']:6.1f} MiB  "
                f"CPU {figures['cpu_ms']:6.1f} ms in {agent_seconds:g} s "
                f"= {figures['cpu_pct']:.3f} %"
            )
        off, on = cost["without [mqtt]"], cost["with [mqtt]"]
        print(
            f"the bridge adds {on['rss_mib'] - off['rss_mib']:+.1f} MiB RSS and "
            f"{on['cpu_pct'] - off['cpu_pct']:+.3f} % CPU idle"
        )
    finally:
        for proc in procs:
            if proc.returncode is None:
                try:
                    proc.kill()
                except ProcessLookupError:
                    pass  # already gone (SIGTERM above)
        broker_proc.terminate()
        broker_proc.wait(10)
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rooms", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--agent-seconds", type=float, default=10.0)
    parser.add_argument("--worker", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        port_, first_, count_, life_ = args.worker
        anyio.run(worker, int(port_), int(first_), int(count_), float(life_))
    else:
        anyio.run(main, args.rooms, args.workers, args.seconds, args.agent_seconds)
