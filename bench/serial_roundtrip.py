"""Serial benchmarks: VISCA round trip through Device vs the raw pyserial floor on a pty,
and parser throughput (frames/s) for each protocol family. Prints figures; asserts nothing.

    python bench/serial_roundtrip.py [--rounds 500]
"""

from __future__ import annotations

import argparse
import logging
import statistics
import time
from collections.abc import Callable

import anyio
import serial
from anyio.abc import TaskGroup
from stats import pct

from roomagent.config.vocab import ButtonPhase
from roomagent.devices import Device, load_profile, pelco, visca
from roomagent.devices.line import LineDialect
from roomagent.sim.camera import CameraEmulator
from roomagent.sim.families import emulator_as, emulator_for


def _pct(samples: list[float], q: float) -> float:
    return pct(samples, q) * 1e6


def _row(label: str, samples: list[float]) -> str:
    return (
        f"{label:44} p50 {_pct(samples, 0.5):8.0f} µs   p99 {_pct(samples, 0.99):8.0f} µs"
        f"   mean {statistics.fmean(samples) * 1e6:8.0f} µs"
    )


def _raw_round_trips(path: str, frame: bytes, rounds: int, end: bytes = b"\xff") -> list[float]:
    """The floor: blocking pyserial write + read to the terminator, nothing else."""
    samples = []
    with serial.Serial(path, 9600, timeout=2) as port:
        for _ in range(rounds):
            start = time.perf_counter()
            port.write(frame)
            reply = port.read_until(end)
            samples.append(time.perf_counter() - start)
            assert reply.endswith(end), reply
    return samples


async def _online(device: Device, tg: TaskGroup) -> None:
    online = anyio.Event()
    device.watch(lambda ev: online.set() if ev.kind == "online" else None)
    tg.start_soon(device.run)
    with anyio.fail_after(5):
        await online.wait()


async def panel_round_trips(rounds: int) -> None:
    profile = load_profile("generic-ascii-keypad")
    async with emulator_for(profile) as panel:
        raw = await anyio.to_thread.run_sync(
            _raw_round_trips, panel.path, b"LED 1 ON\r\n", rounds, b"\n"
        )
        device = Device("bench", panel.path, profile)
        led: list[float] = []
        async with anyio.create_task_group() as tg:
            await _online(device, tg)
            for n in range(rounds):
                start = time.perf_counter()
                await device.command("led", 1 + n % 8, "on")
                led.append(time.perf_counter() - start)
            tg.cancel_scope.cancel()
    print(f"panel (generic-ascii-keypad) LED command over a pty, {rounds} rounds")
    print(_row("raw pyserial write+readline (floor)", raw))
    print(_row("Device.command('led', n, 'on') until OK", led))
    print(f"ratio Device/raw p50: {_pct(led, 0.5) / _pct(raw, 0.5):.2f}x")


async def round_trips(rounds: int) -> None:
    profile = load_profile("sony-visca")
    async with emulator_as(CameraEmulator, profile) as camera:
        camera.completion_delay = 0.0
        raw = await anyio.to_thread.run_sync(
            _raw_round_trips, camera.path, visca.inquiry(1, "power"), rounds
        )
        device = Device("bench", camera.path, profile)
        inquiry: list[float] = []
        command: list[float] = []
        async with anyio.create_task_group() as tg:
            await _online(device, tg)
            for _ in range(rounds):
                start = time.perf_counter()
                await device.command("inquire_power")
                inquiry.append(time.perf_counter() - start)
            for n in range(rounds):
                start = time.perf_counter()
                await device.command("preset_recall", n % 100)
                command.append(time.perf_counter() - start)
            tg.cancel_scope.cancel()
    print(f"VISCA round trip over a pty, {rounds} rounds (emulator answers at once)")
    print(_row("raw pyserial write+read (inquiry, floor)", raw))
    print(_row("Device.command('inquire_power')", inquiry))
    print(_row("Device.command('preset_recall') ACK+completion", command))
    ratio = _pct(inquiry, 0.5) / _pct(raw, 0.5)
    print(f"ratio Device/raw inquiry p50: {ratio:.2f}x")


def _throughput(label: str, stream: bytes, frames: int, feed: Callable[[bytes], int]) -> None:
    start = time.perf_counter()
    got = 0
    for i in range(0, len(stream), 4096):
        got += feed(stream[i : i + 4096])
    elapsed = time.perf_counter() - start
    assert got == frames, (label, got, frames)
    print(
        f"{label:44} {frames / elapsed:12,.0f} frames/s  ({len(stream) / elapsed / 1e6:.1f} MB/s)"
    )


def parsers(count: int) -> None:
    print(f"parser throughput, {count} frames fed in 4 KiB chunks")
    replies = [visca.ack(1, 1), visca.completion(1, 1), visca.completion(1, 0, b"\x02")]
    stream = b"".join(replies[i % 3] for i in range(count))
    framer = visca.ViscaFramer()
    _throughput(
        "visca (frame + decode_reply)",
        stream,
        count,
        lambda b: len([visca.decode_reply(f) for f in framer.feed(b)]),
    )
    for variant in ("pelco-d", "pelco-p"):
        frame = pelco.preset(variant, 1, "recall", 7)  # type: ignore[arg-type]
        pf = pelco.PelcoFramer(variant)  # type: ignore[arg-type]
        _throughput(
            f"{variant} (frame + checksum)",
            frame * count,
            count,
            lambda b: len(pf.feed(b)),  # noqa: B023
        )
    for name in ("kramer-p3000-keypad", "lutron-seetouch-keypad", "generic-ascii-keypad"):
        section = load_profile(name).line
        assert section is not None
        dialect = LineDialect(section, 1)
        lf = dialect.framer()
        line = dialect.encode(dialect.button_report(3, ButtonPhase.PRESS))
        _throughput(
            f"line: {name} (split + regex)",
            line * count,
            count,
            lambda b: len([dialect.parse(x) for x in lf.feed(b)]),  # noqa: B023
        )


def main() -> None:
    logging.getLogger("roomagent").setLevel(logging.ERROR)  # the run's own offline notices
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=500)
    parser.add_argument("--frames", type=int, default=200_000)
    args = parser.parse_args()
    anyio.run(round_trips, args.rounds)
    print()
    anyio.run(panel_round_trips, args.rounds)
    print()
    parsers(args.frames)


if __name__ == "__main__":
    main()
