"""The session against the simulator over real sockets: actions, refusals, faults."""

from __future__ import annotations

import anyio
import pytest
from anyio import wait_all_tasks_blocked

from roomagent.rooms import (
    LinkState,
    MeetingStatus,
    RoomsAuthFailed,
    RoomsBadRequest,
    RoomsChange,
    RoomsDisconnected,
    RoomsRefused,
    RoomsTimeout,
    RoomsUnreachable,
    SwitchType,
    codes,
)
from roomagent.rooms.reconnect import backoff_delay
from roomagent.sim.rooms import GARBAGE_KINDS, RoomsSimulator

from .conftest import PASSWORD, make_session, running, wait_for

pytestmark = pytest.mark.anyio


async def test_ready_means_subscribed_and_mirrored(sim: RoomsSimulator) -> None:
    async with running(make_session(sim.url)) as session:
        assert session.link is LinkState.READY and session.last_error is None
        assert sim.subscriptions() == [{"Meeting"}]
        assert [m for m, _ in sim.received] == ["Subscribe", "Query"]
        assert sim.received[0][1] == {"path": ["Meeting"]}
        assert session.mirror.known and session.mirror.status is MeetingStatus.IDLE
        assert session.mirror.layout is SwitchType.GRID


async def test_query_whole_partial_and_unknown(sim: RoomsSimulator) -> None:
    async with running(make_session(sim.url)) as session:
        whole = await session.query(["Meeting"])
        assert whole["meeting"]["meeting_info"]["meeting_status"] == 0
        assert await session.query(["Meeting", "MeetingInfo", "MeetingCode"]) == {
            "meeting_code": ""
        }
        begin = await session.query(["Meeting", "MeetingInfo", "BeginTime"])
        assert begin == {"begin_time": 0}
        with pytest.raises(RoomsRefused) as info:
            await session.query(["Meeting", "NoSuchNode"])
        assert info.value.error_code == codes.INVALID_PARAMS
        with pytest.raises(RoomsBadRequest):
            await session.query([])


async def test_start_switch_dissolve_with_outcomes(sim: RoomsSimulator) -> None:
    async with running(make_session(sim.url)) as session:
        joined = await session.call("StartMeeting", {"meeting_type": "instant"}, wait=True)
        assert joined is not None and joined.name == "JoinMeetingCompleted"
        assert session.mirror.status is MeetingStatus.IN_MEETING and session.mirror.is_host
        code = session.mirror.meeting_code
        assert code is not None and len(code) == 9 and code.isdigit()
        assert session.mirror.formatted_meeting_code == f"{code[:3]} {code[3:6]} {code[6:]}"
        sim.participants = 2
        changed = await session.call("SwitchLayout", {"switch_type": 2}, wait=True)
        assert changed is not None and changed.name == "LayoutSwitchChanged"
        assert session.mirror.layout is SwitchType.SPEAKER
        done = await session.call("DissolveMeeting", wait=True)
        assert done is not None and done.name == "DissolveMeeting"
        assert session.mirror.status is MeetingStatus.IDLE and session.mirror.meeting_code is None
        assert sim.calls("Call/Meeting")[0][1] == {
            "action": "StartMeeting",
            "action_params": {"meeting_type": "instant"},
        }


async def test_join_sends_code_as_string_and_leave(sim: RoomsSimulator) -> None:
    async with running(make_session(sim.url)) as session:
        outcome = await session.call("JoinMeeting", {"meeting_code": 123456789}, wait=True)
        assert outcome is not None and outcome.name == "JoinMeetingCompleted"
        assert sim.calls("Call/Meeting")[0][1]["action_params"] == {
            "meeting_code": "123456789",
            "password": "",
        }
        assert session.mirror.meeting_code == "123456789" and not session.mirror.is_host
        left = await session.call("LeaveMeeting", wait=True)
        assert left is not None and left.name == "LeaveMeeting"
        assert session.mirror.status is MeetingStatus.IDLE


async def test_call_without_wait_returns_once_accepted(sim: RoomsSimulator) -> None:
    sim.event_delay = 0.3
    async with running(make_session(sim.url)) as session:
        assert await session.call("StartMeeting") is None
        assert sim.status is MeetingStatus.JOINING
        await wait_for(lambda: session.mirror.status is MeetingStatus.IN_MEETING, session)


async def test_waiting_room_then_admitted_or_left(sim: RoomsSimulator) -> None:
    sim.waiting_room_codes.add("111222333")
    async with running(make_session(sim.url)) as session:
        events: list[str] = []
        session.watch(lambda c: events.append(c.event.name) if c.event else None)
        held = await session.call("JoinMeeting", {"meeting_code": "111 222 333"}, wait=True)
        assert held is not None and held.name == "JoinWaitingRoom"
        assert session.mirror.status is MeetingStatus.WAITING_ROOM
        await sim.admit()
        await wait_for(lambda: session.mirror.status is MeetingStatus.IN_MEETING, session)
        assert events == ["JoinWaitingRoom", "JoinMeetingCompleted"]
        await session.call("LeaveMeeting", wait=True)
        await session.call("JoinMeeting", {"meeting_code": "111222333"}, wait=True)
        out = await session.call("LeaveWaitingRoom", wait=True)
        assert out is not None and out.name == "LeaveWaitingRoom"
        assert session.mirror.status is MeetingStatus.IDLE


async def _refused(session_call: object) -> RoomsRefused:
    with pytest.raises(RoomsRefused) as info:
        await session_call  # type: ignore[misc]
    return info.value


async def test_every_refusal(sim: RoomsSimulator) -> None:
    async with running(make_session(sim.url)) as session:
        idle_refusals = [
            ("LeaveMeeting", {}),
            ("DissolveMeeting", {}),
            ("LeaveWaitingRoom", {}),
            ("SwitchLayout", {"switch_type": 1}),
        ]
        for action, params in idle_refusals:
            err = await _refused(session.call(action, params))
            assert err.error_code == codes.WRONG_MEETING_STATE and err.action == action
            assert "error_code 2001" in str(err)
        sim.logged_in = False
        err = await _refused(session.call("JoinMeeting", {"meeting_code": "123456789"}))
        assert err.error_code == codes.NO_MEETING_CAPABILITY
        sim.logged_in, sim.can_start = True, False
        err = await _refused(session.call("StartMeeting"))
        assert err.error_code == codes.NO_MEETING_CAPABILITY
        sim.meeting_passwords["999888777"] = "2468"
        err = await _refused(session.call("JoinMeeting", {"meeting_code": "999888777"}))
        assert err.error_code == codes.INVALID_PARAMS and "password" in err.message
        joined = await session.call(
            "JoinMeeting", {"meeting_code": "999888777", "password": "2468"}, wait=True
        )
        assert joined is not None
        err = await _refused(session.call("JoinMeeting", {"meeting_code": "123456789"}))
        assert err.error_code == codes.WRONG_MEETING_STATE
        err = await _refused(session.call("StartMeeting"))
        assert err.error_code in (codes.WRONG_MEETING_STATE, codes.NO_MEETING_CAPABILITY)
        assert sim.role == "attendee"
        err = await _refused(session.call("DissolveMeeting"))
        assert err.error_code == codes.NOT_HOST
        sim.participants = 1
        err = await _refused(session.call("SwitchLayout", {"switch_type": 3}))
        assert err.error_code == codes.TOO_FEW_PARTICIPANTS
        sim.role = "co-host"
        assert await session.call("DissolveMeeting", wait=True) is not None
        assert session.counters["refusals"] == 11


async def test_local_validation_sends_nothing(sim: RoomsSimulator) -> None:
    async with running(make_session(sim.url)) as session:
        before = len(sim.received)
        for action, params in [("SwitchLayout", {"switch_type": 9}), ("Nope", {})]:
            with pytest.raises(RoomsBadRequest):
                await session.call(action, params)
        assert len(sim.received) == before


async def test_one_outcome_waiter_per_action(sim: RoomsSimulator) -> None:
    sim.event_delay = 0.5
    async with running(make_session(sim.url)) as session, anyio.create_task_group() as tg:
        tg.start_soon(session.call, "StartMeeting", None)  # fire and forget: no waiter
        await sim.next_call("Call/Meeting")
        sim.status = MeetingStatus.IN_MEETING
        sim.participants = 3

        async def first() -> None:
            await session.call("SwitchLayout", {"switch_type": 4}, wait=True)

        tg.start_soon(first)
        await sim.next_call("Call/Meeting")
        with pytest.raises(RoomsBadRequest, match="already waiting"):
            await session.call("SwitchLayout", {"switch_type": 5}, wait=True)


async def test_outcome_timeout_is_plain(sim: RoomsSimulator) -> None:
    sim.event_delay = 5
    async with running(make_session(sim.url, outcome_timeout=0.2)) as session:
        with pytest.raises(RoomsTimeout) as info:
            await session.call("StartMeeting", wait=True)
        assert str(info.value) == (
            "StartMeeting was accepted but no outcome event came within 0.2 s"
        )
        assert session.counters["timeouts"] == 1


async def test_call_timeout_then_late_response_dropped(sim: RoomsSimulator) -> None:
    async with running(make_session(sim.url, call_timeout=0.3)) as session:
        sim.stall()
        with pytest.raises(RoomsTimeout, match="no answer"):
            await session.query(["Meeting"])
        sim.resume()
        # Frames arrive in order: the late answer is handled before this query's answer.
        assert (await session.query(["Meeting", "MeetingInfo", "MeetingStatus"])) == {
            "meeting_status": 0
        }
        assert session.counters["late_responses"] == 1
        assert session.counters["unknown_ids"] == 0
        assert session.link is LinkState.READY


async def test_auth_failure_is_distinct(sim: RoomsSimulator) -> None:
    session = make_session(sim.url, password="wrong")
    with pytest.raises(RoomsAuthFailed, match="authentication failed"):
        async with session.connected(5):
            pass
    session = make_session(sim.url, password="wrong", backoff_cap=30)
    async with running(session, ready=False):
        await session.wait_link(LinkState.AUTH_FAILED, timeout=5)
        assert session.last_error == "authentication failed"
        with pytest.raises(
            RoomsTimeout, match=r"not ready within 0\.1 s \(authentication failed\)"
        ):
            await session.wait_link(LinkState.READY, timeout=0.1)
        with pytest.raises(RoomsAuthFailed):
            await session.call("LeaveMeeting")
    assert sim.received == []


async def test_server_that_does_not_echo_the_subprotocol(sim: RoomsSimulator) -> None:
    sim.echo_subprotocol = False
    async with running(make_session(sim.url)) as session:
        assert session.link is LinkState.READY


async def test_unreachable() -> None:
    probe = RoomsSimulator()
    async with probe:
        url = probe.url
    session = make_session(url)
    with pytest.raises(RoomsUnreachable, match="connection refused"):
        async with session.connected(5):
            pass
    with pytest.raises(RoomsDisconnected, match="not connected"):
        await session.query()


async def test_peer_killed_mid_call_fails_pending_at_once(sim: RoomsSimulator) -> None:
    session = make_session(sim.url, call_timeout=30, outcome_timeout=30)
    async with running(session):
        sim.event_delay = 30
        with anyio.fail_after(5):  # far below both timeouts: the failure is the disconnect
            async with anyio.create_task_group() as tg:

                async def kill_when_sent() -> None:
                    await sim.next_call("Call/Meeting")
                    await sim.kill()

                tg.start_soon(kill_when_sent)
                with pytest.raises(RoomsDisconnected):
                    await session.call("StartMeeting", wait=True)
        with pytest.raises(RoomsDisconnected):
            await session.call("StartMeeting")  # while down: fails fast, nothing queued
        assert session.link is not LinkState.READY


async def test_request_pending_when_connection_drops(sim: RoomsSimulator) -> None:
    session = make_session(sim.url, call_timeout=30)
    async with running(session):
        sim.stall()
        with anyio.fail_after(5):
            async with anyio.create_task_group() as tg:

                async def ask() -> None:
                    with pytest.raises(RoomsDisconnected):
                        await session.query()

                tg.start_soon(ask)
                await wait_all_tasks_blocked()  # the query is sent and waiting for its answer
                sim.drop_connections()
        sim.resume()
        await session.wait_link(LinkState.READY, timeout=5)


async def test_peer_restarted_subscriptions_and_mirror_restored(sim: RoomsSimulator) -> None:
    async with running(make_session(sim.url)) as session:
        links: list[LinkState] = []
        session.watch(lambda c: links.append(c.link) if c.kind == "link" else None)
        await session.call("StartMeeting", wait=True)
        assert session.mirror.status is MeetingStatus.IN_MEETING
        await sim.restart()  # fresh state: idle, no subscriptions
        await session.wait_link(LinkState.DISCONNECTED, timeout=5)
        await session.wait_link(LinkState.READY, timeout=5)
        assert LinkState.CONNECTING in links
        assert sim.subscriptions() == [{"Meeting"}] and sim.connection_count == 1
        assert session.mirror.known and session.mirror.status is MeetingStatus.IDLE
        assert session.counters["reconnects"] >= 1
        outcome = await session.call("StartMeeting", wait=True)  # events flow again
        assert outcome is not None


async def test_half_open_peer_detected_by_keepalive(sim: RoomsSimulator) -> None:
    session = make_session(sim.url, ping_interval=0.3)
    async with running(session):
        sim.stall()  # socket stays open, no pongs
        await session.wait_link(LinkState.DISCONNECTED, timeout=5)
        assert "keepalive" in (session.last_error or "")
        sim.resume()
        await session.wait_link(LinkState.READY, timeout=5)


@pytest.mark.parametrize("kind", [k for k in GARBAGE_KINDS if k != "huge"])
async def test_garbage_is_counted_never_fatal(sim: RoomsSimulator, kind: str) -> None:
    async with running(make_session(sim.url)) as session:
        await sim.send_garbage(kind)  # type: ignore[arg-type]
        data = await session.query(["Meeting", "MeetingInfo", "MeetingStatus"])
        assert data == {"meeting_status": 0} and session.link is LinkState.READY
        counters = session.counters
        moved = {
            "invalid_json": counters["bad_frames"] == 2,
            "wrong_types": counters["bad_frames"] == 4,
            "unknown_id": counters["unknown_ids"] == 1,
            "unknown_event": counters["unknown_events"] == 1,
            "binary": counters["bad_frames"] == 1,
        }
        assert moved[kind], counters
        assert counters["reconnects"] == 0


async def test_huge_frame_counted_and_session_recovers(sim: RoomsSimulator) -> None:
    session = make_session(sim.url, max_frame_bytes=64 * 1024)
    sim.huge_frame_bytes = 100 * 1024
    async with running(session):
        await sim.send_garbage("huge")
        await wait_for(lambda: session.counters["oversize_frames"] == 1, session)
        await session.wait_link(LinkState.READY, timeout=5)
        assert await session.query(["Meeting", "MeetingInfo", "MeetingStatus"])


async def test_nested_event_payloads(sim: RoomsSimulator) -> None:
    sim.nested_events = True
    async with running(make_session(sim.url)) as session:
        outcome = await session.call("StartMeeting", wait=True)
        assert outcome is not None and "meeting_info" in outcome.payload
        assert session.mirror.status is MeetingStatus.IN_MEETING


async def test_unknown_events_passed_on_and_watchers_cannot_kill(sim: RoomsSimulator) -> None:
    async with running(make_session(sim.url)) as session:
        seen: list[RoomsChange] = []

        def broken(change: RoomsChange) -> None:
            raise RuntimeError("observer bug")

        session.watch(broken)
        unsubscribe = session.watch(seen.append)
        await sim.emit_event("BrandNewThing", {"x": 1})
        await wait_for(lambda: any(c.event for c in seen), session)
        assert seen[0].event is not None and seen[0].event.name == "BrandNewThing"
        assert session.counters["unknown_events"] == 1
        unsubscribe()
        await session.call("StartMeeting", wait=True)
        assert session.link is LinkState.READY and len(seen) == 1


async def test_an_unknown_event_refreshes_the_mirror(sim: RoomsSimulator) -> None:
    """The seed numbers events 1-8 and documents five: an undocumented event may mean the
    room changed, so the mirror is queried again, as after a known one."""
    async with running(make_session(sim.url)) as session:
        assert session.mirror.status is MeetingStatus.IDLE
        queries = len(sim.calls("Query"))
        sim.status = MeetingStatus.IN_MEETING  # changed on the client, no known event sent
        await sim.emit_event("BrandNewThing", {"x": 1})
        await wait_for(lambda: session.mirror.status is MeetingStatus.IN_MEETING, session)
        assert len(sim.calls("Query")) > queries


async def test_never_two_runs() -> None:
    async with RoomsSimulator(password=PASSWORD) as sim:
        session = make_session(sim.url)
        async with running(session):
            with pytest.raises(RuntimeError, match="already running"):
                await session.run()
            assert sim.connection_count == 1


def test_backoff_first_immediate_then_capped() -> None:
    assert backoff_delay(0, 30) == 0
    delays = [backoff_delay(n, 4.0) for n in range(1, 12)]
    assert all(0 < d <= 4.0 for d in delays)
    assert max(delays[6:]) > 1.9  # reached the cap region


async def test_no_password_or_passcode_in_debug_logs(sim: RoomsSimulator) -> None:
    import base64
    import io
    import logging

    from roomagent.logsetup import LogfmtFormatter

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(LogfmtFormatter())
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    logging.getLogger("websockets").setLevel(logging.DEBUG)
    try:
        sim.meeting_passwords["123456789"] = "864209"
        async with running(make_session(sim.url)) as session:
            await session.call(
                "JoinMeeting", {"meeting_code": "123456789", "password": "864209"}, wait=True
            )
            await session.query(["Meeting"])
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)
        logging.getLogger("websockets").setLevel(logging.WARNING)
    text = stream.getvalue()
    assert "JoinMeeting" in text  # websockets logged the frames (with *** for the passcode)
    for secret in (PASSWORD, "864209", base64.b64encode(PASSWORD.encode()).decode()):
        assert secret not in text


async def test_an_ending_event_with_wrong_types_still_ends_the_meeting(sim: RoomsSimulator) -> None:
    """The status an event's name settles on stands; its malformed payload is counted and
    dropped (before, the whole event was dropped and the room stayed "in meeting")."""
    async with running(make_session(sim.url)) as session:
        await session.call("StartMeeting", wait=True)
        assert session.mirror.status is MeetingStatus.IN_MEETING
        await sim.emit_event("DissolveMeeting", {"meeting_info": {"meeting_title": ["no"]}})
        await wait_for(lambda: session.counters["bad_frames"] == 1, session)
        assert session.mirror.status is MeetingStatus.IDLE
        assert session.mirror.meeting_code is None and session.link is LinkState.READY
