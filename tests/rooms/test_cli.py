"""`roomagent query` / `call` / `sim rooms` as a user runs them: exit codes and output."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from anyio.from_thread import BlockingPortal, start_blocking_portal

from roomagent.rooms.models import MeetingStatus
from roomagent.sim.rooms import RoomsSimulator

from .conftest import PASSWORD


@pytest.fixture
def served() -> Iterator[tuple[BlockingPortal, RoomsSimulator]]:
    """A simulator on its own event loop thread, so the CLI subprocess can talk to it."""
    with start_blocking_portal(backend="asyncio") as portal:
        sim = RoomsSimulator(password=PASSWORD, event_delay=0.05)
        with portal.wrap_async_context_manager(sim):
            yield portal, sim


def roomagent(
    *args: str, password: str | None = PASSWORD, timeout: float = 30
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "ROOMAGENT_ROOMS_PASSWORD"}
    if password is not None:
        env["ROOMAGENT_ROOMS_PASSWORD"] = password
    result = subprocess.run(
        [sys.executable, "-m", "roomagent", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
    )
    assert "Traceback" not in result.stderr and "Traceback" not in result.stdout
    if result.returncode != 0:
        assert result.stderr.count("\n") == 1, result.stderr  # one line
        assert result.stderr.startswith("roomagent: error: ")
    return result


def closed_url() -> str:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"ws://127.0.0.1:{port}"


def test_query_default_and_partial(served: tuple[BlockingPortal, RoomsSimulator]) -> None:
    _, sim = served
    whole = roomagent("query", "--url", sim.url)
    assert whole.returncode == 0, whole.stderr
    assert json.loads(whole.stdout)["meeting"]["meeting_info"]["meeting_status"] == 0
    assert ["Query", {"path": ["Meeting"]}] in [list(r) for r in sim.received]
    partial = roomagent("query", "Meeting", "MeetingInfo", "MeetingCode", "--url", sim.url)
    assert partial.returncode == 0 and json.loads(partial.stdout) == {"meeting_code": ""}
    dotted = roomagent("query", "Meeting.MultiScreeInfo", "--url", sim.url)
    assert json.loads(dotted.stdout) == {
        "multi_scree_info": {"multi_screen_status": 0, "main_monitor_id": ""}
    }


def test_query_unknown_path_is_refused(served: tuple[BlockingPortal, RoomsSimulator]) -> None:
    _, sim = served
    result = roomagent("query", "Meeting", "Nope", "--url", sim.url)
    assert result.returncode == 1
    assert "unknown path" in result.stderr and "error_code 1001" in result.stderr


def test_call_wait_prints_outcome_and_masks_passcode(
    served: tuple[BlockingPortal, RoomsSimulator],
) -> None:
    _, sim = served
    sim.meeting_passwords["123456789"] = "2468"
    result = roomagent(
        "call",
        "join_meeting",
        "meeting_code=123456789",
        "password=2468",
        "mic_enable=false",
        "--wait",
        "--url",
        sim.url,
    )
    assert result.returncode == 0, result.stderr
    outcome = json.loads(result.stdout)
    assert outcome["event"] == "JoinMeetingCompleted"
    assert outcome["payload"]["meeting_info"]["meeting_password"] == "***"
    assert "2468" not in result.stdout + result.stderr
    sent = sim.calls("Call/Meeting")[0][1]
    assert sent["action_params"] == {
        "meeting_code": "123456789",
        "password": "2468",
        "mic_enable": False,
    }
    shown = roomagent("query", "Meeting", "MeetingInfo", "--url", sim.url)
    assert json.loads(shown.stdout)["meeting_info"]["meeting_password"] == "***"


def test_call_converts_types(served: tuple[BlockingPortal, RoomsSimulator]) -> None:
    _, sim = served
    sim.status, sim.participants = MeetingStatus.IN_MEETING, 4
    result = roomagent(
        "call", "SwitchLayout", "switch_type=2", "show_voice_active=true", "--url", sim.url
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"action": "SwitchLayout", "accepted": True}
    assert sim.calls("Call/Meeting")[-1][1]["action_params"] == {
        "switch_type": 2,
        "show_voice_active": True,
    }


@pytest.mark.parametrize(
    "params",
    [["switch_type=two"], ["switch_type=9"], ["switch_type"], ["colour=red", "switch_type=1"]],
)
def test_bad_value_is_a_local_error(
    served: tuple[BlockingPortal, RoomsSimulator], params: list[str]
) -> None:
    _, sim = served
    result = roomagent("call", "SwitchLayout", *params, "--url", sim.url)
    assert result.returncode == 1 and result.stdout == ""
    assert sim.received == []  # nothing was sent, not even a connection's set-up


def test_bad_value_wins_over_unreachable() -> None:
    result = roomagent("call", "JoinMeeting", "meeting_code=abc", "--url", closed_url())
    assert result.returncode == 1 and "meeting_code" in result.stderr


def test_unknown_action_is_local_error() -> None:
    result = roomagent("call", "Teleport", "--url", closed_url())
    assert result.returncode == 1 and "unknown action" in result.stderr


def test_refusal_prints_message_and_code(served: tuple[BlockingPortal, RoomsSimulator]) -> None:
    _, sim = served
    result = roomagent("call", "LeaveMeeting", "--url", sim.url)
    assert result.returncode == 1
    assert "LeaveMeeting refused" in result.stderr and "error_code 2001" in result.stderr


def test_outcome_timeout_exit_1(served: tuple[BlockingPortal, RoomsSimulator]) -> None:
    _, sim = served
    sim.event_delay = 10
    result = roomagent("call", "StartMeeting", "--wait", "--timeout", "0.3", "--url", sim.url)
    assert result.returncode == 1
    assert "no outcome event came within 0.3 s" in result.stderr


def test_unreachable_exit_2() -> None:
    result = roomagent("query", "--url", closed_url())
    assert result.returncode == 2 and "cannot reach" in result.stderr


def test_auth_failed_exit_3(served: tuple[BlockingPortal, RoomsSimulator]) -> None:
    _, sim = served
    result = roomagent("call", "LeaveMeeting", "--url", sim.url, password="wrong")
    assert result.returncode == 3 and "authentication failed" in result.stderr
    assert "wrong" not in result.stderr
    unset = roomagent("query", "--url", sim.url, password=None)
    assert unset.returncode == 3 and "ROOMAGENT_ROOMS_PASSWORD" in unset.stderr


def test_config_file_gives_url_and_password(
    served: tuple[BlockingPortal, RoomsSimulator], tmp_path: Path
) -> None:
    _, sim = served
    (tmp_path / "rooms.pw").write_text(PASSWORD + "\n")
    config = tmp_path / "agent.toml"
    config.write_text(f'[rooms]\nurl = "{sim.url}"\npassword_file = "rooms.pw"\n')
    result = roomagent("query", "--config", str(config), password=None)
    assert result.returncode == 0, result.stderr
    bad = tmp_path / "bad.toml"
    bad.write_text("[rooms]\ncall_timeout = -1\n")
    broken = roomagent("query", "--config", str(bad))
    assert broken.returncode == 1 and "bad.toml:2: rooms.call_timeout" in broken.stderr


def test_sim_rooms_command_serves_until_stopped() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "roomagent", "sim", "rooms", "--port", "0", "--password", "pw"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()  # the first line names the URL
        assert line.startswith("rooms simulator listening on "), line
        url = line.split("listening on ")[1].strip()
        assert url.startswith("ws://127.0.0.1:")
        result = roomagent(
            "query", "Meeting", "MeetingInfo", "MeetingStatus", "--url", url, password="pw"
        )
        assert result.returncode == 0 and json.loads(result.stdout) == {"meeting_status": 0}
    finally:
        proc.terminate()
        proc.wait(timeout=10)
