"""`roomagent demo` driven through its stdin (a pipe), as a newcomer types: the keys, a
fault and its recovery, the room's answers in words."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator

# The demo stops by itself after this long, so a line that never comes fails, not hangs.
DEMO_SECONDS = "60"


def _demo() -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ROOMAGENT_")}
    return subprocess.Popen(
        [sys.executable, "-m", "roomagent", "demo", "--web-port", "0", "--duration", DEMO_SECONDS],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


class Terminal:
    def __init__(self, proc: subprocess.Popen[str]) -> None:
        assert proc.stdin is not None and proc.stdout is not None
        self.proc = proc
        self.seen: list[str] = []
        self._lines: Iterator[str] = (line.rstrip("\n") for line in proc.stdout)

    def type(self, text: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(text + "\n")
        self.proc.stdin.flush()

    def until(self, test: Callable[[str], bool] | str) -> str:
        check = test if callable(test) else (lambda line: line.startswith(test))
        for line in self._lines:
            self.seen.append(line)
            if check(line):
                return line
        raise AssertionError(f"never printed {test!r}; got:\n" + "\n".join(self.seen[-30:]))


def camera_away_and_back(term: Terminal, plug_in: Callable[[], object]) -> str:
    """The camera unplugged: the agent says so, the offline LED lights; plugged in again
    (by `plug_in`): online, LED off. Returns the agent's offline line."""
    term.until("[demo] camera unplugged")
    offline = term.until("[agent] camera offline:")
    term.until("[panel] led 16 on")
    plug_in()
    term.until("[agent] camera online")
    term.until("[panel] led 16 off")
    return offline


def test_demo_keys_faults_and_words_for_people() -> None:
    proc = _demo()
    term = Terminal(proc)
    try:
        term.until("Type a button number")
        intro = "\n".join(term.seen)
        # The key list names the fault keys and says which keypad keys are held down.
        assert "unplug panel, unplug camera" in intro and "rooms stop, rooms start" in intro
        assert "(held: p7 starts it, r7 stops it" in intro

        term.type("?")
        term.until("Keys:")
        term.until(lambda line: "admit" in line and "waiting room" in line)
        term.type("11")
        term.until("[demo] button 11 is not assigned")

        # Words for people: the action and the meeting code, not the wire names.
        term.type("1")
        started = term.until("[agent] button 1:")
        assert started.startswith("[agent] button 1: meeting started (")
        assert "StartMeeting" not in started and "JoinMeetingCompleted" not in started

        # A fault on request and its recovery: the offline LED, the words, and back.
        term.type("unplug camera")
        offline = camera_away_and_back(term, lambda: term.type("plug camera"))
        assert "check the cable" in offline

        # A held camera move, and its stop echoed.
        term.type("p7")
        term.until("[camera] pan/tilt left")
        term.type("r7")
        term.until("[camera] pan/tilt stopped")

        # The Rooms client stopped and restored.
        term.type("rooms stop")
        term.until("[agent] Rooms client offline")
        term.until("[panel] led 16 blink")
        term.type("rooms start")
        term.until("[agent] Rooms client connected")

        # The waiting room: button 2 joins a meeting whose host admits the room.
        term.type("3")
        term.until("[agent] button 3: left the meeting")
        term.type("2")
        term.until("[agent] button 2: in the waiting room (123 456 789)")
        term.type("admit")
        term.until("[demo] the host admitted the room")
        term.type("s")
        status = term.until("[status]")
        assert "meeting in_meeting 123 456 789" in status
        term.type("q")
        term.until("roomagent demo: stopped.")
        assert proc.wait(timeout=10) == 0
        assert proc.stderr is not None
        assert "Traceback" not in proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()


def test_the_fault_key_shows_a_fault_and_its_recovery() -> None:
    proc = _demo()
    term = Terminal(proc)
    try:
        term.until("Type a button number")
        term.type("fault")
        camera_away_and_back(term, lambda: term.until("[demo] camera plugged back in"))
        term.type("q")
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
