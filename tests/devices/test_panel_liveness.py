"""A panel that talks is alive: any valid frame answers its keepalive, and a press that
arrives while the start-up handshake waits for its reply is not lost (real ptys)."""

from __future__ import annotations

import pytest
from devices_support import FarEnd, make_profile, running

from roomagent.devices import Device, load_profile

pytestmark = pytest.mark.anyio

# Keepalive every 50 ms, 100 ms to answer, offline after 2 misses: the test runs for many
# rounds in which the far end never sends the keepalive's own reply.
BUSY_PANEL = """
family = "line"
[timeouts]
ack = 0.3
[line]
button_template = "BTN {n} {action}"
button_actions = { PRESS = "press", RELEASE = "release" }
inbound = [{ event = "button", pattern = '^BTN (?P<button>\\d+) (?P<action>PRESS|RELEASE)$' },
           { event = "ack", pattern = '^OK$' },
           { event = "error", pattern = '^ERR (?P<code>\\d+)' }]
[line.keepalive]
send = "PING"
expect = "^PONG$"
reply = "PONG"
interval = 0.05
timeout = 0.1
misses = 2
"""


async def test_button_frames_answer_the_keepalive(far_end: FarEnd) -> None:
    device = Device("keypad", far_end.path, make_profile(BUSY_PANEL))
    async with running(device) as events:
        # Ten keepalive rounds, each answered only by what a busy panel sends anyway:
        # presses and releases, an ack, an error. None of it is the expected "PONG".
        answers = ["BTN 1 PRESS", "BTN 1 RELEASE", "OK", "ERR 2"] * 3
        for answer in answers[:10]:
            assert await far_end.line() == "PING"
            await far_end.send(answer + "\r\n")
        assert device.online
        assert device.counters["keepalive_misses"] == 0
        # The presses still count as presses.
        presses = [(e.button, e.action) for e in events.of("button")]
        assert presses[:2] == [(1, "press"), (1, "release")]
        # Garbage is not a valid frame: a panel that only babbles goes offline.
        for _ in range(2):
            assert await far_end.line() == "PING"
            await far_end.send("~~ noise ~~\r\n")
        offline = await events.wait("offline")
        assert "keepalive" in offline.detail
        assert device.counters["keepalive_misses"] >= 2


async def test_a_press_during_the_handshake_is_not_lost(far_end: FarEnd) -> None:
    device = Device("keypad", far_end.path, load_profile("generic-ascii-keypad"))
    async with running(device, wait_online=False) as events:
        assert await far_end.line() == "PING"  # the handshake waits for PONG
        await far_end.send("BTN 3 PRESS\r\n")
        press = await events.wait("button")
        assert (press.button, press.action) == (3, "press")
        assert not device.online  # still in the handshake
        # The release and the handshake's reply in one read.
        await far_end.send("BTN 3 RELEASE\r\nPONG\r\n")
        await events.wait("online")
        await events.wait(lambda e: e.kind == "button" and e.action == "release")
        assert [(e.button, e.action) for e in events.of("button")] == [
            (3, "press"),
            (3, "release"),
        ]
