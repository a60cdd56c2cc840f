"""A TLS agent announces its scheme and certificate fingerprint over mDNS (loopback), and
`roomagent discover` prints an https URL and the fingerprint to pin."""

from __future__ import annotations

import sys
from pathlib import Path

import anyio
import pytest

from roomagent.app import App
from roomagent.config.model import AgentConfig

pytestmark = pytest.mark.anyio
ROOMAGENT = [sys.executable, "-m", "roomagent"]


async def test_discover_shows_https_and_the_fingerprint(tmp_path: Path) -> None:
    (tmp_path / "web.pw").write_text("discover-page-pw-1\n")
    config = AgentConfig.model_validate(
        {
            "room": {"name": "TLS Room", "id": "tls-room"},
            "rooms": {"url": "ws://127.0.0.1:9"},
            "web": {"listen": "127.0.0.1", "port": 0, "tls": "auto", "password_file": "web.pw"},
            "state_dir": str(tmp_path / "state"),
        }
    )
    agent = App(config, base_dir=tmp_path)
    async with anyio.create_task_group() as tg:
        await tg.start(agent.run)
        assert agent.web is not None and agent.announcer is not None
        with anyio.fail_after(10):
            await agent.announcer.registered.wait()
        fingerprint = agent.web.tls_summary()["fingerprint"]
        assert agent.announcer.txt["scheme"] == "https"
        assert agent.announcer.txt["fp"] == fingerprint
        done = await anyio.run_process(
            [*ROOMAGENT, "discover", "--timeout", "1.5", "--interface", "127.0.0.1"], check=False
        )
        tg.cancel_scope.cancel()
    assert done.returncode == 0, done.stderr.decode()
    line = next(x for x in done.stdout.decode().splitlines() if x.startswith("TLS Room\t"))
    assert f"\tpage=https://127.0.0.1:{agent.web.port}/" in line
    assert line.endswith(f"\tsha256={fingerprint}")
