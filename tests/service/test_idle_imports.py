"""`roomagent run` imports only the parts its config names, and the page's API and metrics
only with their first use (memory on a small room box: issue 10, bench/idle.py).

Each test runs the production command in a subprocess, waits for READY=1 (every part
started), and reads the modules the agent held when it stopped."""

from __future__ import annotations

import base64
import json
import os
import signal
import socket
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import anyio
import httpx
import pytest
from websockets.asyncio.client import connect

# The agent's modules, how many objects the collector has frozen and which of the agent's
# pydantic models have their validator built (defer_build), at exit, printed by atexit hooks
# around the real entry point.
WRAPPER = (
    "import atexit, gc, sys\n"
    "atexit.register(lambda: print('MODULES', ' '.join(sorted(sys.modules)), flush=True))\n"
    "atexit.register(lambda: print('FROZEN', gc.get_freeze_count(), flush=True))\n"
    "def built():\n"
    "    from pydantic import BaseModel\n"
    "    seen, todo = [], [BaseModel]\n"
    "    while todo:\n"
    "        model = todo.pop()\n"
    "        todo.extend(model.__subclasses__())\n"
    "        validator = model.__dict__.get('__pydantic_validator__')\n"
    "        if type(validator).__name__ == 'SchemaValidator':\n"
    "            seen.append(model.__qualname__)\n"
    "    print('BUILT', ' '.join(sorted(seen)), flush=True)\n"
    "atexit.register(built)\n"
    "from roomagent.cli.main import main\n"
    "sys.exit(main(sys.argv[1:]))\n"
)
WEB_PASSWORD = "web-pw-imports"
# Never needed by an agent without a calendar, cloud meetings, fleet plane or TLS.
UNCONFIGURED = {
    "httpx",
    "aiomqtt",
    "paho",
    "cryptography",
    "roomagent.scheduling",
    "roomagent.fleet",
    "roomagent.sim",
    "roomagent.control.cloud_meetings",
    "roomagent.web.tls",
}
# The page's API and /metrics, loaded by their first use.
ON_FIRST_USE = {
    "jsonrpcserver",
    "jsonschema",
    "prometheus_client",
    "roomagent.web.api",
    "roomagent.web.metrics_families",
}
# Loaded by the first request that carries a cookie (the page's session), not at start.
ON_FIRST_COOKIE = {"http.cookies"}
# Actions no binding names: their validators are built by a first use (an API call), never
# at start (defer_build; the registry's import-time checks must not build them either).
UNBOUND_ACTIONS = {"MeetingStart", "CameraPreset", "CalendarBookNow", "HuaweiInvite"}
# Status models built by the first status (page, API, scrape), not at import (defer_build).
STATUS_MODELS = {"RoomStatus", "RoomsLinkStatus", "DeviceStatus", "CalendarStatus"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _config(web_port: int | None, discovery: bool) -> str:
    web = (
        f'[web]\nlisten = "127.0.0.1"\nport = {web_port}\nuser = "admin"\n'
        'password_env = "ROOMAGENT_TEST_WEB_PASSWORD"\n'
        if web_port is not None
        else "[web]\nenabled = false\n"
    )
    return (
        '[room]\nname = "Import room"\n\n'
        f'[rooms]\nurl = "ws://127.0.0.1:{_free_port()}"\n\n'
        f"{web}\n"
        f"[discovery]\nenabled = {'true' if discovery else 'false'}\n"
    )


def _loaded(modules: set[str], names: set[str]) -> set[str]:
    """Which of `names` (packages or modules) are among `modules`."""
    return {n for n in names if any(m == n or m.startswith(n + ".") for m in modules)}


@dataclass
class Ran:
    modules: set[str]  # held at exit
    frozen: int  # objects in the collector's permanent generation at exit
    built: set[str]  # the pydantic models (class names) whose validator was built


async def _run(
    tmp_path: Path, config: str, poke: bool = False, port: int = 0, reload: str | None = None
) -> Ran:
    """`roomagent run` on `config` until READY=1 (then, with `poke`, one /metrics scrape
    and one API call; with `reload`, SIGHUP to that config), then SIGTERM."""
    here = Path(tempfile.mkdtemp(dir=tmp_path))  # a test may run the agent twice
    path = here / "room.toml"
    path.write_text(config)
    notify = str(here / "notify.sock")
    env = {
        **os.environ,
        "NOTIFY_SOCKET": notify,
        "ROOMAGENT_ROOMS_PASSWORD": "rooms-pw",
        "ROOMAGENT_TEST_WEB_PASSWORD": WEB_PASSWORD,
        # As systemd/roomagent.service runs it (test_systemd_files checks the unit says so).
        "PYTHONOPTIMIZE": "2",
    }
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(notify)
        sock.setblocking(False)
        proc = await anyio.open_process(
            [sys.executable, "-c", WRAPPER, "run", "--config", str(path)], env=env
        )
        try:
            with anyio.fail_after(20):
                while True:
                    await anyio.wait_readable(sock)
                    if b"READY=1" in sock.recv(4096):
                        break
                if poke:
                    await _use_the_page(port)
                assert proc.stdout is not None
                out = b""
                if reload is not None:
                    path.write_text(reload)
                    proc.send_signal(signal.SIGHUP)
                    while b"config reloaded" not in out:
                        out += await proc.stdout.receive()
            proc.send_signal(signal.SIGTERM)
            with anyio.fail_after(10):
                assert await proc.wait() == 0
            out += b"".join([chunk async for chunk in proc.stdout])
        finally:
            if proc.returncode is None:
                proc.kill()
    lines = out.decode().splitlines()
    modules = next(line for line in lines if line.startswith("MODULES ")).split()[1:]
    frozen = next(line for line in lines if line.startswith("FROZEN ")).split()[1]
    built = next(line for line in lines if line.startswith("BUILT")).split()[1:]
    return Ran(set(modules), int(frozen), set(built))


async def _use_the_page(port: int) -> None:
    auth = "Basic " + base64.b64encode(f"admin:{WEB_PASSWORD}".encode()).decode()
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
        reply = await http.get("/metrics", headers={"Authorization": auth})
        page = await http.get("/", headers={"Authorization": auth})  # reads the page's files
    assert reply.status_code == 200
    assert 'roomagent_info{room="Import room"' in reply.text
    assert page.status_code == 200 and "<html" in page.text.lower()
    url = f"ws://127.0.0.1:{port}/api"
    async with connect(url, additional_headers={"Authorization": auth}) as ws:
        await ws.send(json.dumps({"jsonrpc": "2.0", "method": "status", "id": 1}))
        answer = json.loads(await ws.recv())
        assert answer["result"]["room"]["name"] == "Import room"
        await ws.send(json.dumps({"jsonrpc": "2.0", "method": "nope", "id": 2}))
        assert json.loads(await ws.recv())["error"]["code"] == -32601


@pytest.mark.anyio
async def test_a_room_without_page_or_mdns_imports_neither(tmp_path: Path) -> None:
    ran = await _run(tmp_path, _config(None, discovery=False))
    modules = ran.modules
    absent = (
        UNCONFIGURED | ON_FIRST_USE | {"zeroconf", "roomagent.web.server", "roomagent.discovery"}
    )
    assert _loaded(modules, absent) == set()
    assert "roomagent.rooms.session" in modules  # the check reads the real list
    assert ran.built & (UNBOUND_ACTIONS | STATUS_MODELS) == set()
    assert "AgentConfig" in ran.built


@pytest.mark.anyio
async def test_a_page_without_mdns_does_not_import_zeroconf(tmp_path: Path) -> None:
    modules = (await _run(tmp_path, _config(_free_port(), discovery=False))).modules
    assert "roomagent.web.server" in modules
    assert _loaded(modules, UNCONFIGURED | ON_FIRST_USE | {"zeroconf"}) == set()


@pytest.mark.anyio
async def test_the_api_and_metrics_load_with_their_first_use(tmp_path: Path) -> None:
    """Page and mDNS on (bench/idle.py's room): idle without them; a scrape and an API
    call load them and are answered as always."""
    ran = await _run(tmp_path, _config(_free_port(), discovery=True))
    idle = ran.modules
    assert "zeroconf" in idle
    assert _loaded(idle, UNCONFIGURED | ON_FIRST_USE | ON_FIRST_COOKIE) == set()
    assert ran.built & STATUS_MODELS == set()
    assert {"AgentConfig", "HistoryEvent", "RoomInfo", "MeetingModule"} <= ran.built  # eager
    port = _free_port()
    ran = await _run(tmp_path, _config(port, discovery=True), poke=True, port=port)
    used = ran.modules
    assert _loaded(used, ON_FIRST_USE) == ON_FIRST_USE
    assert _loaded(used, UNCONFIGURED) == set()
    assert "RoomStatus" in ran.built  # its parts are validated inside its own validator


@pytest.mark.anyio
async def test_start_up_objects_are_frozen_until_a_reload_restarts_the_parts(
    tmp_path: Path,
) -> None:
    """roomagent.service.memory: frozen once the agent is up (no full-collection pause
    mid-press); a reload that restarts the parts thaws them, so the old parts' cycles can
    still be collected."""
    config = _config(None, discovery=False)
    assert (await _run(tmp_path, config)).frozen > 10_000
    in_place = config.replace("Import room", "Renamed room")  # bindings and name: no restart
    assert (await _run(tmp_path, config, reload=in_place)).frozen > 10_000
    moved = _config(None, discovery=False)  # another Rooms URL: the parts restart
    assert moved != config
    assert (await _run(tmp_path, config, reload=moved)).frozen == 0
