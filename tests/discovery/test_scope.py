"""mDNS announces the page only where it can be reached (web.listen decides)."""

from __future__ import annotations

import os
from pathlib import Path

import anyio
import pytest

from roomagent.config.model import AgentConfig
from roomagent.discovery.mdns import announce_interfaces, browse
from tests.control.conftest import running_room


@pytest.mark.parametrize(
    ("listen", "expected"),
    [
        ("0.0.0.0", None),  # every LAN address, as before
        ("::", None),
        ("", None),
        ("127.0.0.1", ["127.0.0.1"]),
        ("127.0.0.5", ["127.0.0.1"]),
        ("::1", ["127.0.0.1"]),
        ("localhost", ["127.0.0.1"]),
        ("192.0.2.7", ["192.0.2.7"]),
        ("::ffff:192.0.2.7", ["192.0.2.7"]),
        ("fd00::2", []),  # announcements are IPv4: nothing true to announce
        ("no-such-host.invalid", []),
    ],
)
def test_announced_addresses_follow_the_listen_address(
    listen: str, expected: list[str] | None
) -> None:
    assert announce_interfaces(listen) == expected


@pytest.mark.anyio
async def test_page_on_loopback_is_announced_on_loopback_only_and_still_found(
    tmp_path: Path,
) -> None:
    room_id = f"scope{os.getpid()}"
    web_pw = tmp_path / "web.pw"
    web_pw.write_text("web-secret-pw\n")

    def with_page(config: AgentConfig) -> AgentConfig:
        web = config.web.model_copy(update={"enabled": True, "password_file": web_pw})
        return config.model_copy(
            update={
                "web": web,
                "discovery": config.discovery.model_copy(update={"enabled": True}),
                "room": config.room.model_copy(update={"id": room_id}),
            }
        )

    async with running_room(tmp_path, configure=with_page) as room:
        assert room.agent.config.web.listen == "127.0.0.1"
        announcer = room.app.announcer
        assert announcer is not None
        with anyio.fail_after(8):
            await announcer.registered.wait()
        assert announcer.announced_addresses == ["127.0.0.1"]
        found = [f for f in await browse(1.5) if f.id == room_id]
        assert [(f.address, f.page_port) for f in found] == [("127.0.0.1", room.app.web.port)]
