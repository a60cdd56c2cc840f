"""`roomagent demo` as a newcomer (or CI) runs it: one process, no config, no hardware."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator

import httpx

DIAGNOSTICS = re.compile(r"^diagnostics: (http://\S+/) user=(\S+) password=(\S+)$")


def _demo(*args: str, stdin: int | None = subprocess.DEVNULL) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ROOMAGENT_")}
    return subprocess.Popen(
        [sys.executable, "-m", "roomagent", "demo", "--web-port", "0", *args],
        stdin=stdin,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def _lines(proc: subprocess.Popen[str]) -> Iterator[str]:
    assert proc.stdout is not None
    for line in proc.stdout:
        yield line.rstrip("\n")


def test_demo_without_a_terminal_serves_its_page_and_stops_on_sigterm() -> None:
    proc = _demo()
    try:
        lines = _lines(proc)
        found = next(m for line in lines if (m := DIAGNOSTICS.match(line)))
        url, user, password = found.groups()
        page = httpx.get(url, auth=(user, password), timeout=5)
        assert page.status_code == 200 and "<html" in page.text.lower()
        assert httpx.get(url, auth=(user, "wrong"), timeout=5).status_code == 401
        assert httpx.get(url + "healthz", timeout=5).status_code == 200
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=5)
        assert proc.returncode == 0, err
        assert "roomagent demo: stopped." in out
        assert "Traceback" not in err
    finally:
        proc.kill() if proc.poll() is None else None


def test_demo_keys_press_the_virtual_keypad_and_duration_ends_it() -> None:
    proc = _demo("--duration", "8", stdin=subprocess.PIPE)
    assert proc.stdin is not None
    try:
        lines = _lines(proc)
        seen = []
        for line in lines:
            seen.append(line)
            if line.startswith("Type a button number"):
                break
        assert any(line.startswith("   1  meeting.start") for line in seen)
        proc.stdin.write("1\n")
        proc.stdin.flush()
        for line in lines:
            if line == "[panel] led 1 on":
                break
        proc.stdin.write("s\nq\n")
        proc.stdin.flush()
        rest = list(lines)
        assert proc.wait(timeout=5) == 0
        assert any(line.startswith("[status] room in_meeting") for line in rest)
        assert rest[-1] == "roomagent demo: stopped."
    finally:
        proc.kill() if proc.poll() is None else None
