"""Attack cases against the real processes (`roomagent run`, `check-config`, `query`): an
event flood with the page up, special files as secrets or config, a noisy peer under a
one-shot command. Each is bounded in count and time."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from websockets.asyncio.server import ServerConnection, serve

from roomagent.demo import WEB_PASSWORD_ENV, virtual_room
from roomagent.rooms.protocol import result_frame
from tests.faults.agent_process import BUG_MARKERS, AgentProcess, config_text
from tests.faults.conftest import ROOMS_PASSWORD

pytestmark = pytest.mark.anyio

FLOOD_S = 6.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_event_flood_with_the_page_up(tmp_path: Path) -> None:
    """Before: /healthz silent for 35 s, 227k log lines, SIGTERM not honoured in 8 s."""
    port = free_port()
    async with virtual_room(ROOMS_PASSWORD, web=False, discovery=False) as room:
        text = config_text(room.sim.url, room.panel.path, room.camera.path)
        text = text.replace("[web]\nenabled = false\n", "[web]\n").replace(
            "port = 0", f"port = {port}", 1
        )
        config = tmp_path / "room.toml"
        config.write_text(text)
        agent = AgentProcess(config, ROOMS_PASSWORD)
        agent.env[WEB_PASSWORD_ENV] = "flood-web-pw"
        async with anyio.create_task_group() as tg:
            await agent.start(tg)
            await agent.wait_for("Rooms link ready")
            await agent.wait_for("diagnostics page listening")
            mark = agent.mark()
            worst = 0.0
            stop = anyio.Event()

            async def probe() -> None:
                nonlocal worst
                async with httpx.AsyncClient(timeout=1.0) as http:
                    while not stop.is_set():
                        start = time.perf_counter()
                        reply = await http.get(f"http://127.0.0.1:{port}/healthz")
                        assert reply.status_code == 200
                        worst = max(worst, time.perf_counter() - start)
                        await anyio.sleep(0.1)

            async with anyio.create_task_group() as probes:
                probes.start_soon(probe)
                sent = await room.sim.flood(FLOOD_S)
                stop.set()
            start = time.perf_counter()
            code = await agent.stop()  # SIGTERM right after the flood
            stopped_in = time.perf_counter() - start
            tg.cancel_scope.cancel()
    # The peer sends as fast as the agent's socket takes them: ~90k in 6 s on a quiet
    # machine, a few thousand when the CPUs are shared with other test runs.
    assert sent > 2_000
    assert worst < 1.0, worst
    assert code == 0 and stopped_in < 5.0, (code, stopped_in)
    flood_lines = agent.lines[mark:]
    assert len(flood_lines) < 3000, len(flood_lines)
    assert any("suppressed=" in line for line in flood_lines)
    assert not [line for marker in BUG_MARKERS for line in agent.matching(marker)]


def _config(tmp_path: Path, secret: str) -> Path:
    config = tmp_path / "room.toml"
    config.write_text(f'[rooms]\nurl = "ws://127.0.0.1:9"\npassword_file = "{secret}"\n')
    return config


def _special_files(tmp_path: Path) -> dict[str, tuple[Path, str]]:
    """Name → (config file, what its one-line error must say)."""
    binary = tmp_path / "binary.pw"
    binary.write_bytes(bytes(range(256)))
    fifo = tmp_path / "fifo.pw"
    os.mkfifo(fifo)
    shadow = tmp_path / "shadow"  # like /etc/shadow: a system file, many lines
    shadow.write_text("root:$6$abc:19000:0:99999:7:::\ndaemon:*:19000:0:99999:7:::\n")
    big = tmp_path / "big.pw"
    big.write_text("x" * 100_000)
    secrets = {
        "dev-zero": ("/dev/zero", "/dev/zero is not a regular file"),
        "binary": (str(binary), "holds binary data"),
        "fifo-secret": (str(fifo), "is not a regular file"),
        "shadow-like": (str(shadow), "holds 2 lines"),
        "oversized": (str(big), "is too big"),
        "missing": (str(tmp_path / "nope"), "cannot read"),
    }
    cases: dict[str, tuple[Path, str]] = {}
    for name, (secret, says) in secrets.items():
        folder = tmp_path / name
        folder.mkdir()
        cases[name] = (_config(folder, secret), says)
    deep = tmp_path / "deep.toml"
    deep.write_text("a = " + "[" * 100_000 + "]" * 100_000 + "\n")
    cases["deep-toml"] = (deep, "nested too deeply")
    fifo_config = tmp_path / "fifo.toml"
    os.mkfifo(fifo_config)
    cases["fifo-config"] = (fifo_config, "is not a regular file")
    return cases


def roomagent(*args: str) -> subprocess.CompletedProcess[str]:
    # Bounded: before, /dev/zero and a FIFO hung `run` and `check-config`.
    return subprocess.run(
        [sys.executable, "-m", "roomagent", *args], capture_output=True, text=True, timeout=20
    )


def check_config(config: Path) -> subprocess.CompletedProcess[str]:
    return roomagent("check-config", str(config))


@pytest.mark.parametrize("command", ["check-config", "run"])
def test_special_files_are_one_line_config_errors(tmp_path: Path, command: str) -> None:
    for name, (config, says) in _special_files(tmp_path).items():
        args = [str(config)] if command == "check-config" else ["--config", str(config)]
        done = roomagent(command, *args)
        assert done.returncode == 1, (name, done.returncode, done.stderr)
        errors = done.stderr.strip().splitlines()
        assert len(errors) == 1 and says in errors[0], (name, errors)
        assert "internal error" not in done.stderr and "Traceback" not in done.stderr
        if config.parent.name == name:  # a secret file: the error names the key
            assert ":3: rooms.password_file: " in errors[0], (name, errors)


def test_a_secret_file_others_may_read_is_used_with_a_warning(tmp_path: Path) -> None:
    secret = tmp_path / "rooms.pw"
    secret.write_text("room-secret\n")
    secret.chmod(0o644)
    done = check_config(_config(tmp_path, str(secret)))
    assert done.returncode == 0, done.stderr
    assert "readable by every user" in done.stderr and str(secret) in done.stderr
    assert "room-secret" not in done.stderr + done.stdout
    secret.chmod(0o600)
    quiet = check_config(_config(tmp_path, str(secret)))
    assert quiet.returncode == 0 and "readable" not in quiet.stderr


async def test_one_shot_query_prints_only_the_result_on_stdout() -> None:
    """A peer that sends junk before it answers: the warnings go to stderr, stdout is JSON.
    Before: 10,009 lines of logfmt mixed into the JSON."""

    async def peer(ws: ServerConnection) -> None:
        async for raw in ws:
            request: dict[str, Any] = json.loads(raw)
            if request["method"] == "Query":
                for _ in range(300):
                    await ws.send("{not json")
            data = {"meeting": {"meeting_info": {"meeting_status": 0, "meeting_code": "42"}}}
            await ws.send(
                result_frame(request["id"], request["method"], {"error_code": 0, "data": data})
            )

    async with serve(peer, "127.0.0.1", 0) as server:
        url = f"ws://127.0.0.1:{server.sockets[0].getsockname()[1]}"
        done = await anyio.run_process(
            [sys.executable, "-m", "roomagent", "query", "--url", url],
            env=os.environ | {"ROOMAGENT_ROOMS_PASSWORD": "pw"},
            check=False,
        )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)  # the whole of stdout is the result
    assert result["meeting"]["meeting_info"]["meeting_code"] == "42"
    assert b"rooms bad frame dropped" in done.stderr
