"""`roomagent fleet status|call|watch` as a user runs them, against real agents and broker."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import anyio
import httpx
import pytest

from .conftest import OPERATOR, OPERATOR_PASSWORD, Mosquitto, free_port
from .rooms import fleet_room, wait_retained

pytestmark = pytest.mark.anyio
ROOT = Path(__file__).resolve().parents[2]


async def fleet(*args: str, password: str = OPERATOR_PASSWORD) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "ROOMAGENT_MQTT_USERNAME": OPERATOR,
        "ROOMAGENT_MQTT_PASSWORD": password,
    }
    return await anyio.run_process(
        [sys.executable, "-m", "roomagent", "fleet", *args], env=env, check=False
    )


async def test_status_call_and_exit_codes(mosquitto: Mosquitto, tmp_path: Path) -> None:
    async with (
        fleet_room(mosquitto, "huddle-3a", tmp_path, allow_actions=["meeting.layout"]) as (
            agent,
            _,
        ),
        fleet_room(mosquitto, "board-1", tmp_path, site="lab"),
    ):
        board = "roomagent/lab/board-1/status"
        await wait_retained(mosquitto.broker(), board, lambda s: s["rooms"]["link"] == "ready")
        done = await fleet("status", "--broker", mosquitto.url, "--json")
        assert done.returncode == 0, done.stderr
        rows = [json.loads(line) for line in done.stdout.decode().splitlines()]
        assert {r["room_id"]: r["site"] for r in rows} == {"huddle-3a": "hq", "board-1": "lab"}
        for row in rows:
            assert {"room_id", "site", "online", "state", "link", "version"} <= set(row)
            assert row["online"] is True and row["link"] == "ready" and row["state"] == "idle"

        only = await fleet("status", "--broker", mosquitto.url, "--site", "lab")
        text = only.stdout.decode()
        assert only.returncode == 0 and "board-1" in text and "huddle-3a" not in text
        assert text.splitlines()[0].split()[:3] == ["ROOM", "SITE", "STATE"]

        # Refused by the room's allow list → exit 1 with the reason.
        refused = await fleet("call", "huddle-3a", "meeting.start", "--broker", mosquitto.url)
        assert refused.returncode == 1
        assert b"not allowed from the fleet" in refused.stderr
        # Allowed, parameters as key=value (converted by the room) but the room is alone in
        # no meeting: the room's own refusal → exit 1.
        layout = await fleet(
            "call", "huddle-3a", "meeting.layout", "switch_type=2", "--broker", mosquitto.url
        )
        assert layout.returncode == 1 and b"huddle-3a:" in layout.stderr, layout.stderr
        # Unknown room / offline → exit 2.
        missing = await fleet("call", "nowhere", "meeting.leave", "--broker", mosquitto.url)
        assert missing.returncode == 2 and b"unknown to the broker" in missing.stderr
        # Bad credentials or no broker → exit 2, one line, no traceback.
        closed = await fleet("status", "--broker", f"mqtt://127.0.0.1:{free_port()}")
        assert closed.returncode == 2 and closed.stderr.count(b"\n") == 1, closed.stderr
        denied = await fleet("status", "--broker", mosquitto.url, password="nope-nope")
        assert denied.returncode == 2 and b"refused the login" in denied.stderr, denied.stderr
        assert b"nope-nope" not in denied.stderr
        assert agent.fleet is not None


async def test_call_ok_prints_the_result(mosquitto: Mosquitto, tmp_path: Path) -> None:
    async with fleet_room(mosquitto, "huddle-3a", tmp_path, allow_actions=["meeting.start"]):
        await wait_retained(
            mosquitto.broker(), "roomagent/hq/huddle-3a/availability", lambda v: v == "online"
        )
        done = await fleet("call", "huddle-3a", "meeting.start", "--broker", mosquitto.url)
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout)["action"] == "meeting.start"


async def test_call_to_an_offline_room_exits_2(mosquitto: Mosquitto, tmp_path: Path) -> None:
    async with fleet_room(mosquitto, "huddle-3a", tmp_path):
        pass  # a clean stop leaves "offline" retained
    done = await fleet("call", "huddle-3a", "meeting.leave", "--broker", mosquitto.url)
    assert done.returncode == 2 and b"offline" in done.stderr


async def test_watch_prints_one_line_per_change(mosquitto: Mosquitto, tmp_path: Path) -> None:
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "ROOMAGENT_MQTT_USERNAME": OPERATOR,
        "ROOMAGENT_MQTT_PASSWORD": OPERATOR_PASSWORD,
    }
    process = await anyio.open_process(
        [
            sys.executable,
            "-m",
            "roomagent",
            "fleet",
            "watch",
            "--broker",
            mosquitto.url,
            "--duration",
            "30",
        ],
        env=env,
    )
    lines: list[str] = []
    buffer = b""

    async def read_until(predicate) -> None:  # type: ignore[no-untyped-def]
        nonlocal buffer, lines
        assert process.stdout is not None
        with anyio.move_on_after(20):
            while not predicate():
                buffer += await process.stdout.receive()
                *complete, buffer = buffer.split(b"\n")
                lines += [c.decode() for c in complete]

    try:
        async with fleet_room(mosquitto, "huddle-3a", tmp_path) as (_, virtual):
            # The watcher starts with what the broker holds (the retained state) ...
            await read_until(lambda: "hq/huddle-3a online" in lines)
            # ... then follows every change.
            await virtual.panel.tap(1)
            await read_until(
                lambda: (
                    any("status in_meeting" in line for line in lines)
                    and any(" event " in line for line in lines)
                )
            )
    finally:
        process.kill()
        await process.aclose()
    assert any("status in_meeting" in line for line in lines), lines
    assert "hq/huddle-3a online" in lines
    assert any(line.startswith("hq/huddle-3a event ") for line in lines), lines
    status = re.compile(r"^hq/huddle-3a status \w+ link=\w+ meeting=\S+ offline=\S+$")
    assert any(status.match(line) for line in lines), lines


async def test_serve_runs_the_page_from_the_command_line(mosquitto: Mosquitto) -> None:
    port = free_port()
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "ROOMAGENT_MQTT_USERNAME": OPERATOR,
        "ROOMAGENT_MQTT_PASSWORD": OPERATOR_PASSWORD,
        "ROOMAGENT_WEB_PASSWORD": "serve-page-pw-31",
    }
    args = ["fleet", "serve", "--broker", mosquitto.url, "--listen", f"127.0.0.1:{port}"]
    process = await anyio.open_process([sys.executable, "-m", "roomagent", *args], env=env)
    try:
        assert process.stdout is not None
        said = ""
        with anyio.fail_after(20):
            while "fleet page: " not in said:
                said += (await process.stdout.receive()).decode()
        assert f"fleet page: http://127.0.0.1:{port}/" in said
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
            assert (await http.get("/metrics")).status_code == 401
            with anyio.fail_after(10):
                while True:
                    metrics = await http.get("/metrics", auth=("admin", "serve-page-pw-31"))
                    if "roomagent_fleet_broker_connected 1.0" in metrics.text:
                        break
                    await anyio.sleep(0.2)
    finally:
        process.terminate()
        await process.aclose()

    # No password for the page: a one-line error, exit 1.
    del env["ROOMAGENT_WEB_PASSWORD"]
    done = await anyio.run_process([sys.executable, "-m", "roomagent", *args], env=env, check=False)
    assert done.returncode == 1 and b"no password for the diagnostics page" in done.stderr
