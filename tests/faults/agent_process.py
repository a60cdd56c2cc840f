"""`roomagent run --config FILE` as a child process against the simulator and emulators.

The fault tests drive the simulator and the emulators in the test process and watch the
agent from outside, as an operator would: its log lines, its exit status, and what reached
the simulated Rooms client and devices.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import anyio
from anyio.abc import Process, TaskGroup
from anyio.streams.buffered import BufferedByteReceiveStream

from roomagent.demo import ROOMS_PASSWORD_ENV, demo_config_source

WAIT_S = 10.0
# What a fault must never produce: a crash, or one of the agent's "this is a bug" catch-alls.
BUG_MARKERS = (
    "Traceback",
    "rooms session failed",
    "rooms frame handling failed",
    "device reply not understood",
    "agent watcher failed",
)
STOP_S = 5.0
# The demo config, made for a test: no page or mDNS, log at info, a quick keepalive and retry.
TEST_EDITS = (
    ("[web]\n", "[web]\nenabled = false\n"),
    ("[discovery]\nenabled = true", "[discovery]\nenabled = false"),
    ('level = "error"', 'level = "info"'),
    ("ping_interval = 5.0", "ping_interval = 1.0"),
    ("backoff_cap = 5.0", "backoff_cap = 1.0"),
)


def config_text(rooms_url: str, panel_port: str, camera_port: str) -> str:
    text = demo_config_source(rooms_url, panel_port, camera_port, web_port=0)
    for old, new in TEST_EDITS:
        assert old in text, f"the demo config changed: {old!r} not found"
        text = text.replace(old, new, 1)
    return text


class AgentProcess:
    def __init__(self, config: Path, rooms_password: str) -> None:
        self.config = config
        self.env = os.environ | {ROOMS_PASSWORD_ENV: rooms_password, "PYTHONUNBUFFERED": "1"}
        self.env.pop("NOTIFY_SOCKET", None)
        self.lines: list[str] = []
        self.proc: Process | None = None
        self._changed = anyio.Event()

    async def start(self, tg: TaskGroup) -> None:
        self.proc = await anyio.open_process(
            [sys.executable, "-m", "roomagent", "run", "--config", str(self.config)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env=self.env,
        )
        tg.start_soon(self._read)

    async def _read(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        stream = BufferedByteReceiveStream(self.proc.stdout)
        with contextlib.suppress(
            anyio.EndOfStream, anyio.IncompleteRead, anyio.ClosedResourceError
        ):
            while True:
                line = await stream.receive_until(b"\n", 1 << 20)
                self.lines.append(line.decode(errors="replace"))
                self._changed.set()
                self._changed = anyio.Event()

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.returncode is None

    def mark(self) -> int:
        """Where the log is now: wait_for(…, after=mark) looks only at what comes next."""
        return len(self.lines)

    def matching(self, *needles: str, after: int = 0) -> list[str]:
        return [line for line in self.lines[after:] if all(n in line for n in needles)]

    async def wait_for(self, *needles: str, after: int = 0, within: float = WAIT_S) -> str:
        """Until a log line (after `after`) contains every needle; returns it."""
        try:
            with anyio.fail_after(within):
                while not self.matching(*needles, after=after):
                    await self._changed.wait()
        except TimeoutError:
            tail = "\n".join(self.lines[-15:])
            raise AssertionError(
                f"no log line with {needles} within {within:g} s; last lines:\n{tail}"
            ) from None
        return self.matching(*needles, after=after)[0]

    def signal(self, signum: signal.Signals) -> None:
        assert self.proc is not None
        self.proc.send_signal(signum)

    async def stop(self) -> int:
        """SIGTERM, as systemd stops it; returns the exit status."""
        assert self.proc is not None
        if self.alive:
            self.signal(signal.SIGTERM)
        with anyio.move_on_after(STOP_S):
            return await self.proc.wait()
        self.proc.kill()
        return await self.proc.wait()


@contextlib.asynccontextmanager
async def running_agent(config: Path, rooms_password: str) -> AsyncIterator[AgentProcess]:
    """Start `roomagent run`, wait until the room is up, stop it cleanly at the end."""
    agent = AgentProcess(config, rooms_password)
    async with anyio.create_task_group() as tg:
        await agent.start(tg)
        try:
            await agent.wait_for("Rooms link ready")
            await agent.wait_for("camera online")
            await agent.wait_for("panel online")
            yield agent
        finally:
            code = await agent.stop()
            tg.cancel_scope.cancel()
        assert code == 0, f"roomagent run exited with {code}"
        bugs = [line for marker in BUG_MARKERS for line in agent.matching(marker)]
        assert not bugs, "\n".join(bugs)
