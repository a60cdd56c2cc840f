"""mDNS announce/browse with zeroconf on the loopback interface (multicast stays on this host)."""

from __future__ import annotations

from collections.abc import Callable

import anyio
import pytest

from roomagent.discovery.mdns import Announcer, Found, browse

pytestmark = pytest.mark.anyio
LOOPBACK = ["127.0.0.1"]


def announcer(name: str = "Huddle 3A", room_id: str = "room-3a", **kwargs: object) -> Announcer:
    return Announcer(
        name,
        room_id,
        8081,
        "0.1.0",
        page_port=8081,
        interfaces=LOOPBACK,
        **kwargs,  # type: ignore[arg-type]
    )


async def find(name: str) -> Found | None:
    return next((f for f in await browse(1.5, LOOPBACK) if f.name == name), None)


async def find_where(name: str, wanted: Callable[[Found], bool]) -> Found | None:
    """Browse again while the answer is not the wanted one: right after an announcement a
    responder may hold back its multicast answer for a second (RFC 6762 §6)."""
    found = None
    for _ in range(3):
        found = await find(name)
        if found is not None and wanted(found):
            break
    return found


async def test_name_conflict_renames_with_a_suffix(caplog: pytest.LogCaptureFixture) -> None:
    first, second = announcer(state="idle"), announcer(room_id="room-3a-spare")
    async with anyio.create_task_group() as tg:
        tg.start_soon(first.run)
        with anyio.fail_after(8):
            await first.registered.wait()
        tg.start_soon(second.run)
        with anyio.fail_after(8):
            await second.registered.wait()
        names = {f.name: f for f in await browse(1.5, LOOPBACK)}
        tg.cancel_scope.cancel()
    assert second.name == "Huddle 3A (2)"
    assert names["Huddle 3A"] == Found(
        name="Huddle 3A",
        address="127.0.0.1",
        port=8081,
        room="Huddle 3A",
        version="0.1.0",
        id="room-3a",
        api="/api",
        page_port=8081,
        state="idle",
    )
    assert "Huddle 3A\t127.0.0.1\t8081\troom=Huddle 3A\tversion=0.1.0" in names["Huddle 3A"].line()
    assert names["Huddle 3A (2)"].id == "room-3a-spare"
    assert names["Huddle 3A (2)"].room == "Huddle 3A"
    assert any("new name" in r.getMessage() for r in caplog.records)


async def test_txt_update_and_address_change_are_announced() -> None:
    addresses = ["127.0.0.1"]
    ann = announcer(addresses=lambda: list(addresses), state="idle")
    async with anyio.create_task_group() as tg:
        tg.start_soon(ann.run)
        with anyio.fail_after(8):
            await ann.registered.wait()
        with anyio.fail_after(8):
            ann.update(state="in_meeting")
            await ann.next_announcement()
        updated = await find_where("Huddle 3A", lambda f: f.state == "in_meeting")
        addresses[:] = ["127.0.0.2"]
        with anyio.fail_after(8):
            ann.recheck()
            await ann.next_announcement()
        moved = await find_where("Huddle 3A", lambda f: f.address == "127.0.0.2")
        tg.cancel_scope.cancel()
    assert updated is not None and updated.state == "in_meeting"
    assert moved is not None and moved.address == "127.0.0.2"


async def test_shutdown_unregisters() -> None:
    ann = announcer(name="Board Room")
    with anyio.fail_after(10):
        async with anyio.create_task_group() as tg:
            tg.start_soon(ann.run)
            await ann.registered.wait()
            assert await find("Board Room") is not None
            tg.cancel_scope.cancel()
    assert await find("Board Room") is None
