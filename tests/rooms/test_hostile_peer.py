"""A hostile or broken Rooms peer, on a real WebSocket: flapping, flooding, oversized and
control-character text. The session keeps serving, backs off, and keeps what it shows small."""

from __future__ import annotations

import io
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager

import anyio
import pytest

from roomagent.logsetup import LogfmtFormatter
from roomagent.rooms.models import MeetingModule
from roomagent.rooms.reconnect import Reconnect
from roomagent.rooms.text import CODE_MAX, TITLE_MAX
from roomagent.sim.rooms import RoomsSimulator

from .conftest import make_session, running, wait_for

pytestmark = pytest.mark.anyio


@contextmanager
def captured_log(level: int = logging.INFO) -> Iterator[io.StringIO]:
    """The agent's own log lines (logfmt), as an operator would read them."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(LogfmtFormatter())
    logger = logging.getLogger("roomagent")
    old = logger.level
    logger.addHandler(handler)
    logger.setLevel(level)
    try:
        yield stream
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old)


async def test_a_flapping_peer_is_not_hammered(sim: RoomsSimulator) -> None:
    # Closes every session 50 ms after it is ready: before, 200+ connections in 12 s.
    sim.close_after_query = 0.05
    session = make_session(sim.url, backoff_cap=30.0)
    with captured_log(logging.INFO) as log:
        with anyio.move_on_after(12.0):
            await session.run()
    assert sim.connections_total <= 15, sim.connections_total
    assert sim.connections_total >= 4  # it does keep trying
    # After the first attempt the attempts are at debug: a handful of info lines, not 200.
    assert log.getvalue().count("rooms reconnect") == 1


def test_backoff_resets_only_after_a_session_stayed_up() -> None:
    policy = Reconnect(cap=30.0, stable_s=30.0)
    delays = []
    for _ in range(6):
        policy.ready()  # READY, then closed at once
        delays.append(policy.ended("closed", auth_failed=False))
    assert delays[0] > 0 and delays[-1] >= 4.0  # backing off although READY each time
    policy.ready()
    policy._ready_at = time.monotonic() - 31  # this one stayed up 31 s
    assert policy.ended("closed", auth_failed=False) == 0.0  # back for good: retry at once
    assert policy.attempts == 1


async def test_unreachable_attempts_after_the_first_are_debug_with_a_summary() -> None:
    session = make_session("ws://127.0.0.1:9", backoff_cap=0.05)  # nothing listens there
    session.reconnect.summary_s = 0.5
    with captured_log(logging.INFO) as log:
        with anyio.move_on_after(1.3):
            await session.run()
    lines = log.getvalue().splitlines()
    assert sum("rooms reconnect" in line for line in lines) == 1
    summaries = [line for line in lines if "still unreachable after" in line]
    assert 1 <= len(summaries) <= 3
    assert "level=warning" in summaries[0] and "last_error=" in summaries[0]
    assert "connection refused" in summaries[0]
    assert len(lines) < 12  # not one line per attempt (there were dozens)


async def test_an_event_flood_leaves_room_for_other_work(sim: RoomsSimulator) -> None:
    session = make_session(sim.url)
    events_seen = 0

    def count(change: object) -> None:
        nonlocal events_seen
        if getattr(change, "kind", "") == "event":
            events_seen += 1

    worst_lag = 0.0

    async def ticker(stop: anyio.Event) -> None:
        nonlocal worst_lag
        while not stop.is_set():
            start = time.perf_counter()
            await anyio.sleep(0.02)
            worst_lag = max(worst_lag, time.perf_counter() - start - 0.02)

    with captured_log(logging.INFO) as log:
        async with running(session):
            session.watch(count)
            stop = anyio.Event()
            async with anyio.create_task_group() as tg:
                tg.start_soon(ticker, stop)
                sent = await sim.flood(3.0)
                stop.set()
            # The simulator shares this process: the session drains what is queued after it.
            await wait_for(lambda: session.counters["events"] >= min(sent, 3000), session, 15)
            assert session.link.value == "ready"  # the keepalive held
    assert worst_lag < 1.0, worst_lag  # the loop kept turning
    received = session.counters["events"]
    assert received > 1000
    # Observers got a bounded share one by one; the rest were coalesced (and counted).
    assert session.counters["events_coalesced"] >= received - events_seen > 0
    lines = log.getvalue().splitlines()
    assert len(lines) < 300, len(lines)  # 20 a second, not one per event
    assert any("suppressed=" in line for line in lines)
    assert session.mirror.layout is not None and int(session.mirror.layout) == 2


async def test_oversized_and_control_character_text_is_cut_and_counted(
    sim: RoomsSimulator,
) -> None:
    session = make_session(sim.url)
    async with running(session):
        await session.call("StartMeeting", wait=True)
        title = "Board\x1b[2J\x00 meeting\r\n" + "x" * 200_000
        await sim.emit_event(
            "JoinMeetingCompleted",
            {"meeting_info": {"meeting_title": title, "meeting_code": "9" * 5000}},
        )
        await wait_for(lambda: session.counters["texts_cut"] >= 2, session)
        shown = session.mirror.as_dict()
    assert shown["title"].startswith("Board[2J meeting")
    assert len(shown["title"]) == TITLE_MAX
    assert shown["meeting_code"] == "9" * CODE_MAX
    assert not any(ord(c) < 0x20 for c in shown["title"])


def test_models_bound_every_peer_string() -> None:
    module = MeetingModule.model_validate(
        {
            "meeting_info": {"meeting_title": "t" * 10_000, "meeting_url": "u" * 100_000},
            "self_info": {"nickname": "n\x07" * 1000},
            "meeting_list": [{"meeting_title": "x"}] * 5000,
        }
    )
    assert module.meeting_info is not None and module.self_info is not None
    assert len(module.meeting_info.meeting_title or "") == TITLE_MAX
    assert len(module.meeting_info.meeting_url or "") <= 2048
    assert "\x07" not in (module.self_info.nickname or "")
    assert len(module.meeting_list or []) == 100
