"""`roomagent run` as systemd runs it: sd_notify, SIGTERM, SIGHUP reload, config errors."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import anyio
import pytest

from roomagent.demo import (
    ROOMS_PASSWORD_ENV,
    WEB_PASSWORD_ENV,
    demo_config_source,
    virtual_room,
)
from roomagent.service.notify import Notifier
from tests.control.test_room import PT_STOP_TAIL

CONFIG = """
[room]
name = "Test room"

[rooms]
url = "ws://127.0.0.1:{port}"

[web]
enabled = false

[discovery]
enabled = false

[log]
level = "info"
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def notify_socket(tmp_path: Path) -> Iterator[tuple[socket.socket, str]]:
    path = str(tmp_path / "notify.sock")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    sock.settimeout(5.0)
    yield sock, path
    sock.close()


def _start(config: Path, env_extra: dict[str, str]) -> subprocess.Popen[str]:
    env = {**os.environ, "ROOMAGENT_ROOMS_PASSWORD": "pw-not-logged", **env_extra}
    env.pop("NOTIFY_SOCKET", None) if "NOTIFY_SOCKET" not in env_extra else None
    return subprocess.Popen(
        [sys.executable, "-m", "roomagent", "run", "--config", str(config)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _messages(sock: socket.socket, until: str) -> list[str]:
    seen: list[str] = []
    while not any(until in m for m in seen):
        seen.append(sock.recv(4096).decode())
    return seen


def test_ready_and_watchdog_arrive_then_sigterm_stops_cleanly(
    tmp_path: Path, notify_socket: tuple[socket.socket, str]
) -> None:
    sock, path = notify_socket
    config = tmp_path / "room.toml"
    config.write_text(CONFIG.format(port=_free_port()))
    proc = _start(config, {"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "200000"})
    try:
        first = _messages(sock, "READY=1")
        assert "READY=1" in first[-1].splitlines()
        assert "STATUS=Test room: rooms_offline" in first[-1]
        assert any("WATCHDOG=1" in m for m in _messages(sock, "WATCHDOG=1"))
        sent = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        # Clean stop is a requirement (systemd's stop timeout), not a benchmark.
        out, err = proc.communicate(timeout=5)
        assert proc.returncode == 0, err
        assert time.monotonic() - sent < 5
        assert any("STOPPING=1" in m for m in _messages(sock, "STOPPING=1"))
        assert "msg=stopped" in out
        assert "pw-not-logged" not in out + err
        assert "Traceback" not in err
    finally:
        proc.kill() if proc.poll() is None else None


def test_abstract_namespace_socket_is_supported() -> None:
    name = f"roomagent-test-{os.getpid()}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind("\0" + name)
        sock.settimeout(2)
        notifier = Notifier({"NOTIFY_SOCKET": "@" + name, "WATCHDOG_USEC": "30000000"})
        assert notifier.watchdog_interval == 15.0
        assert notifier.ready("up")
        assert sock.recv(100) == b"READY=1\nSTATUS=up"
        notifier.close()


def test_no_notify_socket_is_a_no_op() -> None:
    notifier = Notifier({})
    assert not notifier.enabled and not notifier.ready() and notifier.watchdog_interval is None


def test_watchdog_for_another_pid_is_ignored() -> None:
    notifier = Notifier({"NOTIFY_SOCKET": "/x", "WATCHDOG_USEC": "1000", "WATCHDOG_PID": "1"})
    assert notifier.watchdog_interval is None


def test_config_error_prints_located_lines_and_exits_1(tmp_path: Path) -> None:
    config = tmp_path / "bad.toml"
    config.write_text(
        '[rooms]\nurl = "http://x"\n\n[[bindings]]\ndevice = "nope"\nbutton = 1\n'
        'action = "meeting.start"\n'
    )
    proc = subprocess.run(
        [sys.executable, "-m", "roomagent", "run", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    assert f"{config}:2: rooms.url: " in lines[0]
    assert "Traceback" not in proc.stderr


def test_sighup_with_a_bad_file_keeps_running_then_reloads_a_good_one(tmp_path: Path) -> None:
    config = tmp_path / "room.toml"
    good = CONFIG.format(port=_free_port())
    config.write_text(good)
    proc = _start(config, {})
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            if "agent running" in line:
                break
        config.write_text(good + "\n[[bindings]]\ndevice = 'ghost'\nbutton = 1\naction = 'x'\n")
        proc.send_signal(signal.SIGHUP)
        for line in proc.stdout:
            if "config reload refused" in line:
                assert "unknown device 'ghost'" in line
                break
        config.write_text(good.replace("Test room", "Renamed room"))
        proc.send_signal(signal.SIGHUP)
        for line in proc.stdout:
            if "config reloaded" in line:
                assert "bindings and feedback updated" in line
                break
        assert proc.poll() is None
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=5)
        assert proc.returncode == 0
    finally:
        proc.kill() if proc.poll() is None else None


@pytest.mark.anyio
async def test_run_against_a_room_stops_cleanly_on_sigterm(
    tmp_path: Path, notify_socket: tuple[socket.socket, str]
) -> None:
    """The production command with devices, page and mDNS: READY, then SIGTERM mid-hold →
    the camera gets its stop, then exit 0 with devices and the Rooms session closed."""
    sock, path = notify_socket
    async with virtual_room("room-pw-x", web=True) as room:
        config = tmp_path / "room.toml"
        config.write_text(
            demo_config_source(room.sim.url, room.panel.path, room.camera.path, 0).replace(
                'level = "error"', 'level = "info"'
            )
        )
        env = {
            **os.environ,
            ROOMS_PASSWORD_ENV: "room-pw-x",
            WEB_PASSWORD_ENV: "web-pw-x",
            "NOTIFY_SOCKET": path,
        }
        proc = await anyio.open_process(
            [sys.executable, "-m", "roomagent", "run", "--config", str(config)], env=env
        )
        try:
            sock.setblocking(False)
            with anyio.fail_after(10):
                while True:
                    await anyio.wait_readable(sock)
                    if b"READY=1" in sock.recv(4096):
                        break
                while room.sim.connection_count == 0 or not room.panel.text.get(1):
                    await room.panel.wait_change()
                await room.panel.press(7)  # a held camera move is running at the SIGTERM
                while room.camera.state.moving.get("pt") != "left":  # noqa: ASYNC110
                    await anyio.sleep(0.01)
            proc.send_signal(signal.SIGTERM)
            with anyio.fail_after(5):  # systemd's stop timeout is a requirement, not a benchmark
                assert await proc.wait() == 0
            assert "pt" not in room.camera.state.moving
            assert any(f.endswith(PT_STOP_TAIL) for f in room.camera.received)
            assert proc.stdout is not None
            chunks = [chunk async for chunk in proc.stdout]
            out = b"".join(chunks).decode()
            assert "panel closed" in out and "camera closed" in out and "msg=stopped" in out
            assert "room-pw-x" not in out and "web-pw-x" not in out
        finally:
            if proc.returncode is None:
                proc.kill()
