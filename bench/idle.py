"""Idle cost of `roomagent run`: resident memory and CPU while nothing happens in the room.

    python3 bench/idle.py [--seconds 60]

The simulator, the virtual keypad and camera run in this process; `roomagent run` is a
separate process (the demo config pointed at them, diagnostics page and mDNS on), measured
from /proc after it has settled: CPU = (utime+stime) / wall time over the window.
"""

from __future__ import annotations

import argparse
import os
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import anyio

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from roomagent.demo import (
    ROOMS_PASSWORD_ENV,
    WEB_PASSWORD_ENV,
    demo_config_source,
    virtual_room,
)
from roomagent.logsetup import setup_logging

SETTLE_S = 3.0
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """CPU time of every thread the process has now, in nanoseconds from schedstat: stat's
    utime+stime count 10 ms clock ticks, which over a 20 s window is 0.05 % a tick (an idle
    agent read 0.05 or 0.10 % by the luck of the tick). Falls back to the ticks without
    schedstat. A thread that ends inside the window takes its time with it: see threads."""
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
        return sum(int((t / "schedstat").read_text().split()[0]) for t in tasks) / 1e9
    except (OSError, ValueError):
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime, stime


def memory_kib(pid: int) -> dict[str, int]:
    found = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM", "Threads"):
            found[key] = int(value.split()[0])
    return found


async def measure_run(
    config: Path, env: dict[str, str], seconds: float, settle: float = SETTLE_S
) -> tuple[float, float, dict[str, int]]:
    """`roomagent run --config CONFIG` settled, then idle for `seconds`: (CPU s, wall s,
    memory figures at the end). Also used by bench/fleet.py (with and without [mqtt])."""
    proc = await anyio.open_process(
        [sys.executable, "-m", "roomagent", "run", "--config", str(config)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        await anyio.sleep(settle)
        assert proc.returncode is None, "roomagent run exited early"
        cpu0, wall0 = cpu_seconds(proc.pid), time.monotonic()
        await anyio.sleep(seconds)
        cpu1, wall1 = cpu_seconds(proc.pid), time.monotonic()
        return cpu1 - cpu0, wall1 - wall0, memory_kib(proc.pid)
    finally:
        proc.terminate()
        with anyio.fail_after(10):
            await proc.wait()


async def interpreter_floor_kib(env: dict[str, str]) -> int:
    """VmRSS of `python -c <sleep>` with the agent's environment, after the same settle."""
    proc = await anyio.open_process(
        [sys.executable, "-c", "import time; time.sleep(60)"], env=env, stdout=subprocess.DEVNULL
    )
    try:
        await anyio.sleep(1.0)
        return memory_kib(proc.pid)["VmRSS"]
    finally:
        proc.terminate()
        await proc.wait()


def unit_environment() -> dict[str, str]:
    """The Environment= lines of the shipped systemd unit: the agent is measured as it runs."""
    found = {}
    unit = Path(__file__).resolve().parents[1] / "systemd" / "roomagent.service"
    for line in unit.read_text().splitlines():
        if line.startswith("Environment="):
            key, _, value = line.removeprefix("Environment=").partition("=")
            found[key] = value
    return found


def add_plain_option(parser: argparse.ArgumentParser) -> None:
    """`--plain`: run the agent without the unit's Environment= (the benches that start
    `roomagent run` measure it as shipped by default)."""
    parser.add_argument(
        "--plain", action="store_true", help="without the unit's Environment= (e.g. PYTHONOPTIMIZE)"
    )


async def main(seconds: float, as_shipped: bool) -> None:
    setup_logging("error")
    password = secrets.token_urlsafe(12)
    async with virtual_room(password, web=True) as room:
        text = demo_config_source(room.sim.url, room.panel.path, room.camera.path, 0)
        with tempfile.TemporaryDirectory() as tmp:
            config = Path(tmp) / "room.toml"
            config.write_text(text)
            env = {**os.environ, ROOMS_PASSWORD_ENV: password, WEB_PASSWORD_ENV: "idle-bench"}
            shipped = unit_environment() if as_shipped else {}
            env |= shipped
            cpu_s, wall_s, mem = await measure_run(config, env, seconds)
            connected = room.sim.connections_total  # read after the run ended: every one accepted
            floor = await interpreter_floor_kib(env)
    busy = cpu_s
    print(f"roomagent run, idle for {wall_s:.1f} s (after {SETTLE_S:g} s start-up)")
    how = " ".join(f"{k}={v}" for k, v in shipped.items()) or "none (--plain)"
    print(f"  environment from systemd/roomagent.service: {how}")
    print(f"  Rooms connections seen by the simulator: {connected}")
    print(f"  RSS      {mem['VmRSS'] / 1024:7.1f} MiB   (peak {mem['VmHWM'] / 1024:.1f} MiB)")
    above = (mem["VmRSS"] - floor) / 1024
    print(f"  floor    {floor / 1024:7.1f} MiB   bare interpreter; the agent {above:.1f} MiB above")
    print(f"  CPU      {busy * 1000:7.2f} ms over the window = {100 * busy / wall_s:.3f} %")
    print(f"  threads  {mem['Threads']}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    add_plain_option(parser)
    args = parser.parse_args()
    anyio.run(main, args.seconds, not args.plain)
