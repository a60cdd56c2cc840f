"""`roomagent hash-password` and `roomagent discover` as a person runs them (subprocesses)."""

from __future__ import annotations

import subprocess
import sys

import anyio
import pytest

from roomagent.discovery.mdns import Announcer
from roomagent.web.auth import verify_password

ROOMAGENT = [sys.executable, "-m", "roomagent"]


def test_hash_password_reads_stdin_and_prints_a_usable_hash() -> None:
    done = subprocess.run(
        [*ROOMAGENT, "hash-password", "--iterations", "2000"],
        input="long enough password\n",
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 0, done.stderr
    hashed = done.stdout.strip()
    assert hashed.startswith("pbkdf2_sha256$2000$")
    assert verify_password("long enough password", hashed)
    assert "long enough password" not in done.stdout + done.stderr


def test_hash_password_refuses_a_short_password() -> None:
    done = subprocess.run(
        [*ROOMAGENT, "hash-password"], input="short\n", capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 1
    assert done.stderr.startswith("roomagent: error: the password needs at least 8")
    assert done.stdout == ""


@pytest.mark.anyio
async def test_discover_lists_an_announced_agent() -> None:
    ann = Announcer(
        "CLI Test Room", "cli-test", 9099, "0.1.0", interfaces=["127.0.0.1"], lookaround_s=0.3
    )
    async with anyio.create_task_group() as tg:
        tg.start_soon(ann.run)
        with anyio.fail_after(8):
            await ann.registered.wait()
        done = await anyio.run_process(
            [*ROOMAGENT, "discover", "--timeout", "1.5", "--interface", "127.0.0.1"],
            check=False,
        )
        tg.cancel_scope.cancel()
    out = done.stdout.decode()
    assert done.returncode == 0, done.stderr.decode()
    line = next(line for line in out.splitlines() if line.startswith("CLI Test Room\t"))
    assert line.split("\t")[:5] == [
        "CLI Test Room",
        "127.0.0.1",
        "9099",
        "room=CLI Test Room",
        "version=0.1.0",
    ]


def test_discover_says_when_none_answered() -> None:
    # Over before the first query goes out (zeroconf waits 20-120 ms): nobody can answer,
    # whatever else runs on this host.
    done = subprocess.run(
        [*ROOMAGENT, "discover", "--timeout", "0.01", "--interface", "127.0.0.1"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 0
    assert done.stdout == "no roomagent found on the LAN within 0.01 s\n"
