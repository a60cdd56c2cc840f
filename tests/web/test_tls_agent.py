"""`roomagent run` on a LAN address serves its page over TLS by default: the certificate
it logs is the one it serves, the same after a restart; `check-config` names bad files."""

from __future__ import annotations

import datetime as dt
import re
import signal
from pathlib import Path

import anyio
import httpx
import pytest

from tests.cli.test_check_config import check_config
from tests.faults.agent_process import AgentProcess

from .tls_helpers import no_verify, plain_request, served_fingerprint, write_pair

pytestmark = pytest.mark.anyio
WEB_PASSWORD = "lan-page-pw-2718"


def agent_config(tmp_path: Path, web_extra: str = "") -> Path:
    (tmp_path / "web.pw").write_text(WEB_PASSWORD + "\n")
    (tmp_path / "web.pw").chmod(0o600)  # else check-config warns: readable by every user
    path = tmp_path / "room.toml"
    path.write_text(
        f"""state_dir = "{tmp_path / "state"}"

[room]
name = "Huddle 3A"
id = "room-3a"

[rooms]
url = "ws://127.0.0.1:9"

[web]
listen = "0.0.0.0"
port = 0
password_file = "web.pw"
{web_extra}

[discovery]
enabled = false

[log]
level = "info"
"""
    )
    return path


async def run_once(config: Path) -> tuple[int, str, list[str]]:
    """Start the agent, read its port and logged fingerprint, check what it serves, stop."""
    agent = AgentProcess(config, "unused")
    async with anyio.create_task_group() as tg:
        await agent.start(tg)
        try:
            listening = await agent.wait_for("diagnostics page listening")
            logged = await agent.wait_for("page served over TLS")
            match = re.search(r"url=https://[^ ]+:(\d+)/", listening)
            assert match, listening
            port = int(match.group(1))
            fingerprint = re.search(r"sha256=([0-9A-F:]{95})", logged)
            assert fingerprint, logged
            assert await served_fingerprint(port) == fingerprint.group(1)
            async with httpx.AsyncClient(verify=no_verify()) as http:
                page = await http.get(f"https://127.0.0.1:{port}/", auth=("admin", WEB_PASSWORD))
                assert page.status_code == 200 and "Room diagnostics" in page.text
            plain = await plain_request(port, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            assert b"Room diagnostics" not in plain and plain.startswith(b"HTTP/1.1 301 ")
        finally:
            assert await agent.stop() == 0
            tg.cancel_scope.cancel()
    return port, fingerprint.group(1), agent.lines


async def test_lan_agent_serves_the_logged_certificate_and_keeps_it(tmp_path: Path) -> None:
    config = agent_config(tmp_path)
    _, first, lines = await run_once(config)
    assert not any("Traceback" in line for line in lines)
    key = tmp_path / "state" / "tls" / "page-key.pem"
    assert key.stat().st_mode & 0o777 == 0o600
    _, second, _ = await run_once(config)
    assert second == first


async def test_sighup_reloads_the_site_certificate(tmp_path: Path) -> None:
    write_pair(tmp_path, "site")
    config = agent_config(tmp_path, 'tls = "files"\ncert_file = "site.crt"\nkey_file = "site.key"')
    agent = AgentProcess(config, "unused")
    async with anyio.create_task_group() as tg:
        await agent.start(tg)
        try:
            listening = await agent.wait_for("diagnostics page listening")
            match = re.search(r":(\d+)/", listening)
            assert match
            port = int(match.group(1))
            before = await served_fingerprint(port)
            write_pair(tmp_path, "site")
            mark = agent.mark()
            agent.signal(signal.SIGHUP)
            reloaded = await agent.wait_for("page certificate reloaded", after=mark)
            after = await served_fingerprint(port)
            assert after != before and f"sha256={after}" in reloaded
        finally:
            assert await agent.stop() == 0
            tg.cancel_scope.cancel()


def test_check_config_names_a_missing_or_mismatched_certificate_file(tmp_path: Path) -> None:
    write_pair(tmp_path, "site")
    write_pair(tmp_path, "other")
    good = agent_config(tmp_path, 'tls = "files"\ncert_file = "site.crt"\nkey_file = "site.key"')
    done = check_config(good)
    assert done.returncode == 0, done.stderr
    agent_config(tmp_path, 'tls = "files"\ncert_file = "site.crt"\nkey_file = "other.key"')
    done = check_config(good)
    assert done.returncode == 1
    [line] = done.stderr.splitlines()
    assert re.match(r".*room\.toml:\d+: web\.key_file: the key does not belong to the cert", line)
    agent_config(tmp_path, 'tls = "files"\ncert_file = "gone.crt"\nkey_file = "site.key"')
    done = check_config(good)
    assert done.returncode == 1
    [line] = done.stderr.splitlines()
    assert re.match(r".*room\.toml:\d+: web\.cert_file: file not found: .*gone\.crt$", line)
    assert "Traceback" not in done.stderr


def test_check_config_warns_about_a_certificate_that_expires_soon(tmp_path: Path) -> None:
    soon = dt.datetime.now(dt.UTC) + dt.timedelta(days=20, hours=1)
    write_pair(tmp_path, "site", not_after=soon)
    config = agent_config(tmp_path, 'tls = "files"\ncert_file = "site.crt"\nkey_file = "site.key"')
    done = check_config(config)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"{config}: OK (")
    [line] = done.stderr.splitlines()
    assert line.startswith(
        f"{config}: warning: web.cert_file: the page's certificate expires in 20"
    )
