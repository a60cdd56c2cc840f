"""Soak: thousands of keypad presses and Rooms events over minutes, with reconnects and replugs
mixed in. Prints RSS at start and end, actions sent vs acknowledged, and whether anything was
lost or duplicated on the wire (calls the simulator got, frames the camera got, vs presses).

    python3 bench/soak.py [--seconds 180] [--presses 3000] [--fault-every 15] [--seed 1]

Everything runs in one process (simulator, virtual keypad and camera on ptys, the real agent),
so RSS is the agent plus the simulator and emulators. Presses are paced (each waits for its
outcome before the next, as a person would), so every press must act exactly once: a missing
call or frame is "lost", an extra one "duplicated". Not part of the test run.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import random
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from stats import pct

from roomagent.app import App
from roomagent.control.core import RoomCore as Agent
from roomagent.control.state import RoomState
from roomagent.demo import VirtualRoom, virtual_room
from roomagent.logsetup import setup_logging
from roomagent.sim.emulator import SerialEmulator

PASSWORD = "soak-password"
PRESET_BUTTONS = (5, 6)  # demo config: camera presets 1 and 2
JOIN, LAYOUT, LEAVE = 2, 4, 3  # demo config: join 123456789, layout, leave
PRESET_RECALL = bytes([0x01, 0x04, 0x3F, 0x02])
OUTCOME_S = 5.0  # a press with no outcome by then counts as lost
SETTLE_S = 15.0
EVENT_NAME = "SoakTick"  # an event the agent does not know: logged and counted, no action


def rss_kib() -> dict[str, int]:
    status = Path("/proc/self/status").read_text()
    fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
    return {k: int(fields[k].split()[0]) for k in ("VmRSS", "VmHWM")}


@dataclass
class Tally:
    presses: Counter[int] = field(default_factory=Counter)  # button → presses sent
    acked: Counter[int] = field(default_factory=Counter)  # button → actions done
    refused: Counter[int] = field(default_factory=Counter)
    no_outcome: Counter[int] = field(default_factory=Counter)
    latency: list[float] = field(default_factory=list)  # press → outcome, seconds
    events_sent: int = 0
    events_seen: int = 0
    reconnects: int = 0
    replugs: Counter[str] = field(default_factory=Counter)
    recovery: list[float] = field(default_factory=list)


class Soak:
    def __init__(self, room: VirtualRoom, agent: Agent, rng: random.Random) -> None:
        self.room, self.agent, self.rng = room, agent, rng
        self.tally = Tally()
        self._changed = anyio.Event()
        agent.watch(self._on_update)

    def _on_update(self, update: dict[str, Any]) -> None:
        event = update.get("event")
        if update.get("type") == "event" and event:
            message = event["message"]
            if event["source"] == "panel" and event["kind"] in ("action", "refused"):
                button = int(message.split(":", 1)[0].removeprefix("button "))
                (self.tally.acked if event["kind"] == "action" else self.tally.refused)[button] += 1
            elif event["source"] == "rooms" and message.endswith(EVENT_NAME):
                self.tally.events_seen += 1
        self._changed.set()
        self._changed = anyio.Event()

    async def until(self, predicate: Any, within: float) -> bool:
        with anyio.move_on_after(within):
            while not predicate():
                await self._changed.wait()
            return True
        return False

    def outcomes(self, button: int) -> int:
        return self.tally.acked[button] + self.tally.refused[button]

    async def press(self, button: int) -> None:
        before = self.outcomes(button)
        start = time.perf_counter()
        self.tally.presses[button] += 1
        await self.room.panel.tap(button)
        if await self.until(lambda: self.outcomes(button) > before, OUTCOME_S):
            self.tally.latency.append(time.perf_counter() - start)
        else:
            self.tally.no_outcome[button] += 1

    async def meeting_cycle(self) -> None:
        await self.press(JOIN)
        await self.press(LAYOUT)
        await self.press(LEAVE)
        await self.until(lambda: self.agent.machine.view.state is RoomState.IDLE, OUTCOME_S)

    async def rooms_event(self) -> None:
        self.tally.events_sent += 1
        await self.room.sim.emit_event(EVENT_NAME, {"n": self.tally.events_sent})

    async def fault(self, kind: str) -> None:
        """Cut the Rooms link or pull a cable; wait until the room has recovered."""
        start = time.perf_counter()
        if kind == "reconnect":
            session = self.agent.session
            assert session is not None
            before = session.counters["reconnects"]
            self.room.sim.drop_connections()
            await self.until(lambda: session.counters["reconnects"] > before, SETTLE_S)
            self.tally.reconnects += 1
        else:
            emulator: SerialEmulator = getattr(self.room, kind)
            device = self.agent.devices[kind]
            emulator.unplug()
            await self.until(lambda: not device.online, SETTLE_S)
            emulator.replug()
            self.tally.replugs[kind] += 1
        with anyio.fail_after(SETTLE_S):
            await self.agent.wait_settled()
        self.tally.recovery.append(time.perf_counter() - start)

    async def run(self, seconds: float, presses: int, fault_every: float) -> None:
        """Presses on a schedule (`presses` spread over `seconds`, jittered); a meeting cycle
        every 25th step, a Rooms event every 3rd, a fault every `fault_every` seconds."""
        interval = seconds / max(presses, 1)
        began = time.perf_counter()
        deadline = began + seconds
        next_fault = began + fault_every
        faults = ["reconnect", "camera", "panel"]
        step = 0
        while time.perf_counter() < deadline and sum(self.tally.presses.values()) < presses:
            step += 1
            if time.perf_counter() >= next_fault:
                await self.fault(faults[0])
                faults.append(faults.pop(0))
                next_fault = time.perf_counter() + fault_every
            if step % 25 == 0:
                await self.meeting_cycle()
            else:
                await self.press(PRESET_BUTTONS[step % 2])
            if step % 3 == 0:
                await self.rooms_event()
            due = began + sum(self.tally.presses.values()) * interval
            await anyio.sleep(max(0.0, due - time.perf_counter()) * self.rng.uniform(0.5, 1.5))
        # The last events need a moment to arrive.
        await self.until(lambda: self.tally.events_seen >= self.tally.events_sent, 2.0)


def report(soak: Soak, start_rss: dict[str, int], elapsed: float) -> bool:
    t, room = soak.tally, soak.room
    end_rss = rss_kib()
    calls = Counter(p.get("action") for _, p in room.sim.calls("Call/Meeting"))
    recalls = sum(1 for f in room.camera.received if f[1:5] == PRESET_RECALL)
    expected = {
        "JoinMeeting": t.presses[JOIN],
        "SwitchLayout": t.presses[LAYOUT],
        "LeaveMeeting": t.presses[LEAVE],
        "camera preset recall": sum(t.presses[b] for b in PRESET_BUTTONS),
    }
    got = {**{k: calls.get(k, 0) for k in list(expected)[:3]}, "camera preset recall": recalls}
    sent = sum(t.presses.values())
    acked = sum(t.acked.values())
    print(f"soak: {elapsed:.0f} s, {sent} presses ({sent / elapsed:.1f}/s), "
          f"{t.events_sent} Rooms events, {t.reconnects} reconnects, "
          f"replugs {dict(t.replugs)}")  # fmt: skip
    mib = {k: v / 1024 for k, v in end_rss.items()}
    print(f"  RSS      start {start_rss['VmRSS'] / 1024:.1f} MiB, end {mib['VmRSS']:.1f} MiB"
          f" (peak {mib['VmHWM']:.1f} MiB)")  # fmt: skip
    print(f"  actions  sent {sent}, acknowledged {acked}, refused {sum(t.refused.values())}, "
          f"no outcome {sum(t.no_outcome.values())}")  # fmt: skip
    ms = [pct(t.latency, 0.5) * 1000, pct(t.latency, 0.99) * 1000, max(t.latency, default=0) * 1000]
    print(f"  latency  press → outcome p50 {ms[0]:.1f} ms, p99 {ms[1]:.1f} ms, max {ms[2]:.1f} ms")
    print(f"  recovery after a fault p50 {pct(t.recovery, 0.5) * 1000:.0f} ms, "
          f"max {max(t.recovery, default=0) * 1000:.0f} ms ({len(t.recovery)} faults)")  # fmt: skip
    print(f"  events   sent {t.events_sent}, seen by the agent {t.events_seen}")
    ok = acked == sent and t.events_seen == t.events_sent
    print(f"  {'on the wire':<22} {'expected':>9} {'got':>9} {'lost':>6} {'dup':>6}")
    for what, want in expected.items():
        have = got[what]
        print(f"  {what:<22} {want:>9} {have:>9} {max(0, want - have):>6} {max(0, have - want):>6}")
        ok = ok and have == want
    print(f"  verdict  {'nothing lost or duplicated' if ok else 'MISMATCH (see above)'}")
    session = soak.agent.session
    if session is not None:
        keep = ("frames_in", "frames_out", "bad_frames", "reconnects", "calls", "timeouts")
        print("  rooms counters " + " ".join(f"{k}={session.counters[k]}" for k in keep))
    return ok


async def main(args: argparse.Namespace) -> int:
    setup_logging("error")
    logging.getLogger("roomagent").setLevel(logging.CRITICAL)  # faults are expected here
    with contextlib.ExitStack() as stack:
        return await soak_room(args, stack)


async def soak_room(args: argparse.Namespace, stack: contextlib.ExitStack) -> int:
    async with virtual_room(
        PASSWORD, web=False, discovery=False, event_delay=args.event_delay
    ) as room:
        secrets_dir = stack.enter_context(tempfile.TemporaryDirectory(prefix="roomagent-soak-"))
        pw = Path(secrets_dir) / "rooms.pw"
        pw.write_text(PASSWORD)
        config = room.config.model_copy(
            update={"rooms": room.config.rooms.model_copy(update={"password_file": pw})}
        )
        app = App(config, notice_seconds=0.2)
        agent = app.core
        async with anyio.create_task_group() as tg:
            await tg.start(app.run)
            with anyio.fail_after(SETTLE_S):
                await agent.wait_settled()
            start_rss = rss_kib()
            soak = Soak(room, agent, random.Random(args.seed))
            began = time.perf_counter()
            await soak.run(args.seconds, args.presses, args.fault_every)
            ok = report(soak, start_rss, time.perf_counter() - began)
            tg.cancel_scope.cancel()
    return 0 if ok else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=180.0, help="how long (default 180)")
    parser.add_argument("--presses", type=int, default=3000, help="presses to spread over it")
    parser.add_argument("--fault-every", type=float, default=15.0, metavar="S",
                        help="a reconnect or replug every S seconds (default 15)")  # fmt: skip
    parser.add_argument("--event-delay", type=float, default=0.01, metavar="S",
                        help="simulator's delay before a call's event (default 0.01)")  # fmt: skip
    parser.add_argument("--seed", type=int, default=1)
    sys.exit(anyio.run(main, parser.parse_args()))
