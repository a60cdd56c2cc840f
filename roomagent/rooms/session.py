"""The long-lived CSAPI session: connect with subprotocol auth, subscribe, mirror, calls.

One connection at a time. `run()` connects, keeps the link alive with WebSocket pings and
reconnects with backoff; requests are correlated by id and every one has a timeout. Hostile
peer input is counted and logged, never fatal.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any, NoReturn

import anyio
import anyio.lowlevel
from pydantic import ValidationError
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed

from roomagent.config.model import RoomsSection
from roomagent.logsetup import LogBudget, kv, register_secret
from roomagent.rooms.errors import (
    RoomsAuthFailed,
    RoomsBadRequest,
    RoomsDisconnected,
    RoomsError,
    RoomsRefused,
)
from roomagent.rooms.link import (
    MESSAGE_TOO_BIG,
    LinkObservers,
    LinkState,
    RoomsChange,
    auth_subprotocol,
    open_link,
    why_ended,
)
from roomagent.rooms.mirror import MERGE_DELAY_S, MeetingMirror
from roomagent.rooms.models import (
    ActionParams,
    MeetingModule,
    RoomsEvent,
    validation_summary,
)
from roomagent.rooms.pending import InFlight, OutcomeWaiter, Pending
from roomagent.rooms.protocol import (
    QUERY,
    SUBSCRIBE,
    BadFrame,
    PreparedCall,
    RequestFrame,
    Response,
    parse_frame,
    prepare_call,
)
from roomagent.rooms.reconnect import Reconnect
from roomagent.rooms.text import take_cut_count
from roomagent.waits import Later

MEETING_QUERY = RequestFrame(QUERY, {"path": ["Meeting"]})  # the mirror's re-read

log = logging.getLogger("roomagent.rooms")

DEFAULT_MAX_FRAME = 1 << 20  # the library enforces it: a bigger frame closes with 1009
# A peer gone wild (tens of thousands of events a second): observers get at most this many
# events a second one by one; the rest update the mirror and the outcome waits, counted as
# coalesced (the room needs the latest state, not every frame). Log lines: fewer still.
EVENTS_PER_S = 200
EVENT_LOG_LINES_PER_S = 20
# The mirror re-query after an event waits this long: what observers do about the event (an
# LED frame to a panel, an action's outcome) goes out first instead of queueing behind a
# Query, and a burst of events (join → status, layout, host) costs one query, not one each.
REFRESH_SETTLE_S = 0.01

COUNTER_NAMES = (
    "frames_in",
    "frames_out",
    "bad_frames",
    "oversize_frames",
    "unknown_ids",
    "late_responses",
    "events",
    "unknown_events",
    "reconnects",
    "calls",
    "refusals",
    "timeouts",
    "events_coalesced",
    "texts_cut",
)


class RoomsSession(LinkObservers):
    def __init__(
        self,
        url: str,
        password: str,
        subscribe: Sequence[str] = ("Meeting",),
        call_timeout: float = 10.0,
        outcome_timeout: float = 45.0,
        ping_interval: float = 10.0,
        backoff_cap: float = 30.0,
        *,
        max_frame_bytes: int = DEFAULT_MAX_FRAME,
        open_timeout: float | None = None,
    ) -> None:
        super().__init__()
        register_secret(password)
        if password:  # websockets' debug log shows the handshake header
            register_secret(auth_subprotocol(password))
        self.url = url
        self._password = password
        self.subscribe = tuple(subscribe)
        self.call_timeout = call_timeout
        self.outcome_timeout = outcome_timeout
        self.ping_interval = ping_interval
        self.backoff_cap = backoff_cap
        self.max_frame_bytes = max_frame_bytes
        self.open_timeout = open_timeout if open_timeout is not None else min(call_timeout, 10.0)
        self.mirror = MeetingMirror()
        self.counters: dict[str, int] = dict.fromkeys(COUNTER_NAMES, 0)
        self._ws: ClientConnection | None = None
        self._inflight = InFlight()
        self._seq = itertools.count(1)
        self._refresh: anyio.Event | None = None
        self._merges = Later(MERGE_DELAY_S)  # payloads merged behind the LEDs (mirror.py)
        self._running = False
        self._frames_this_link = 0
        self.reconnect = Reconnect(backoff_cap)
        self._event_budget = LogBudget(EVENTS_PER_S)
        self._log_budget = LogBudget(EVENT_LOG_LINES_PER_S)

    @classmethod
    def from_section(
        cls,
        section: RoomsSection,
        password: str,
        *,
        url: str | None = None,
        subscribe: Sequence[str] | None = None,
    ) -> RoomsSession:
        """A session set up as the config's [rooms] section says (url, subscribe overridable)."""
        return cls(
            url or section.url,
            password,
            subscribe=section.subscribe if subscribe is None else subscribe,
            call_timeout=section.call_timeout,
            outcome_timeout=section.outcome_timeout,
            ping_interval=section.ping_interval,
            backoff_cap=section.backoff_cap,
        )

    def __repr__(self) -> str:
        return f"RoomsSession(url={self.url!r}, link={self.link.value})"

    # ---- observers ----

    def _set_link(self, link: LinkState, error: str | None = None) -> None:
        self.last_error = error if link != LinkState.READY else self.last_error
        if link == self.link:
            return
        self.link = link
        level = logging.DEBUG if self.reconnect.quiet else logging.INFO
        log.log(level, "rooms link", extra=kv(link=link.value, url=self.url, error=error or ""))
        self._notify(RoomsChange("link", link))

    def _mirror_changed(self) -> None:
        self._notify(RoomsChange("mirror", self.link, mirror=self.mirror.as_dict()))

    # ---- lifecycle ----

    async def run(self, *, retry: bool = True) -> None:
        """Connect, keep alive and reconnect until cancelled.

        With retry=False (one-shot tools) the first failure or disconnect is raised instead.
        """
        if self._running:
            raise RuntimeError("RoomsSession.run() is already running")  # never two links
        self._running = True
        self._fatal = None
        try:
            while True:
                self._set_link(LinkState.CONNECTING, self.last_error)
                try:
                    await self._connect_and_serve()
                except RoomsAuthFailed as exc:
                    self._set_link(LinkState.AUTH_FAILED, "authentication failed")
                    error: RoomsError = exc
                except RoomsError as exc:
                    self._set_link(LinkState.DISCONNECTED, str(exc))
                    error = exc
                except Exception as exc:  # a bug or library surprise: reconnect, don't die
                    log.error("rooms session failed", exc_info=True)
                    error = RoomsDisconnected(f"Rooms session error: {type(exc).__name__}")
                    self._set_link(LinkState.DISCONNECTED, str(error))
                if not retry:
                    self._fatal = error
                    self._notify(RoomsChange("link", self.link))
                    raise error
                auth_failed = self.link == LinkState.AUTH_FAILED
                delay = self.reconnect.ended(str(error), auth_failed=auth_failed)
                await anyio.sleep(delay)
                self.counters["reconnects"] += 1
        finally:
            self._running = False
            self._inflight.drop(RoomsDisconnected())
            if self.link == LinkState.READY or self.link == LinkState.CONNECTING:
                self._set_link(LinkState.DISCONNECTED, self.last_error)

    @asynccontextmanager
    async def connected(self, ready_timeout: float | None = None) -> AsyncIterator[RoomsSession]:
        """One-shot use (CLI, scripts): connect once, yield when READY, close on exit.

        Connection errors are raised as themselves (RoomsUnreachable, RoomsAuthFailed, …).
        """
        error: BaseException | None = None

        async def serve() -> None:
            try:
                await self.run(retry=False)
            except RoomsError:
                pass  # surfaced through wait_ready / the calls

        async with anyio.create_task_group() as tg:
            tg.start_soon(serve)
            try:
                await self.wait_ready(ready_timeout)
                yield self
            except Exception as exc:  # re-raised below, unwrapped from the task group
                error = exc
            finally:
                tg.cancel_scope.cancel()
        if error is not None:
            raise error

    # ---- one connection ----

    async def _connect_and_serve(self) -> NoReturn:
        """Serve one connection until it ends, then raise why it ended."""
        ws = await open_link(
            self.url,
            self._password,
            open_timeout=self.open_timeout,
            ping_interval=self.ping_interval,
            max_size=self.max_frame_bytes,
        )
        self._ws = ws
        self._frames_this_link = 0
        ready = False
        closed: ConnectionClosed | None = None
        setup_error: RoomsError | None = None
        log.info("rooms connected", extra=kv(url=self.url, subprotocol=ws.subprotocol or ""))
        try:
            async with anyio.create_task_group() as tg:

                async def setup() -> None:
                    nonlocal ready, setup_error
                    try:
                        await self._setup()
                        ready = True
                        self.reconnect.ready()
                        tg.start_soon(self._refresher)
                    except RoomsError as exc:
                        setup_error = exc
                        await ws.close()

                tg.start_soon(setup)
                closed = await self._read_loop(ws)
                tg.cancel_scope.cancel()
        finally:
            self._ws = None
            self._inflight.drop(RoomsDisconnected())
            with anyio.CancelScope(shield=True), anyio.move_on_after(1.0):
                await ws.close()
            if self.mirror.forget():
                self._mirror_changed()
        raise self._ended(closed, ready, setup_error)

    def _ended(
        self, closed: ConnectionClosed | None, ready: bool, setup_error: RoomsError | None
    ) -> RoomsError:
        """Why the connection ended, as the error run() records."""
        if closed and closed.sent and closed.sent.code == MESSAGE_TOO_BIG:
            self.counters["oversize_frames"] += 1
            log.warning("rooms frame over the size cap", extra=kv(cap=self.max_frame_bytes))
        return why_ended(closed, ready, self._frames_this_link, setup_error)

    async def _setup(self) -> None:
        for module in self.subscribe:
            try:
                await self._request(
                    RequestFrame(SUBSCRIBE, {"path": [module]}), what=f"Subscribe {module}"
                )
            except RoomsRefused as exc:  # keep going: the mirror still works by queries
                log.warning("rooms subscribe refused", extra=kv(module=module, error=str(exc)))
        await self._query_mirror()
        self.last_error = None
        self._set_link(LinkState.READY)

    async def _query_mirror(self) -> None:
        response = await self._request(MEETING_QUERY, what="Query Meeting")
        self._apply_meeting_data(response.data)

    def _apply_meeting_data(self, data: Any) -> None:
        module = data.get("meeting") if isinstance(data, dict) else None
        try:
            parsed = MeetingModule.model_validate(module or {})
        except ValidationError as exc:
            self.counters["bad_frames"] += 1
            log.warning("rooms meeting data has wrong types", extra=kv(error=_first(exc)))
            return
        self.counters["texts_cut"] += take_cut_count()
        if self.mirror.replace(parsed):
            self._mirror_changed()

    async def _refresher(self) -> None:
        """Re-query the Meeting module after events, so the mirror matches the client."""
        while True:
            self._refresh = anyio.Event()
            await self._refresh.wait()
            await anyio.sleep(REFRESH_SETTLE_S)  # events meanwhile join this one query
            try:
                await self._query_mirror()
            except RoomsError as exc:
                log.info("rooms mirror refresh failed", extra=kv(error=str(exc)))

    async def _read_loop(self, ws: ClientConnection) -> ConnectionClosed:
        while True:
            try:
                raw = await ws.recv()
            except ConnectionClosed as exc:
                return exc
            self.counters["frames_in"] += 1
            self._frames_this_link += 1
            try:
                self._dispatch(parse_frame(raw))
            except Exception:  # hostile input is never fatal, whatever it trips over
                self.counters["bad_frames"] += 1
                log.warning("rooms frame handling failed", exc_info=True)
            # recv() returns at once while frames are queued: let the page, the panel, the
            # keepalive and a SIGTERM have their turn between frames.
            await anyio.lowlevel.checkpoint()

    def _dispatch(self, frame: Response | RoomsEvent | BadFrame) -> None:
        self._merges.flush()  # the last event's payload before the next frame: wire order
        if isinstance(frame, Response):
            self._inflight.answered(frame, self.counters)
        elif isinstance(frame, BadFrame):
            self.counters["bad_frames"] += 1
            held = self._log_budget.allow("bad")
            if held is not None:
                fields = {"reason": frame.reason} | ({"suppressed": held} if held else {})
                log.warning("rooms bad frame dropped", extra=kv(**fields))
            self._inflight.malformed(frame)
        else:
            self._on_event(frame)

    def _on_event(self, event: RoomsEvent) -> None:
        self.counters["events"] += 1
        if not event.known:
            # The seed numbers events 1-8 and documents five: an undocumented one may still
            # mean the room changed, so the mirror is queried again as after a known one.
            self.counters["unknown_events"] += 1
        self._take_event(event)
        # The log line after the watchers' tasks (FIFO): the panel's LEDs never wait for it.
        message = "rooms event" if event.known else "rooms unknown event"
        asyncio.get_running_loop().call_soon(self._log_event, message, event)

    def _take_event(self, event: RoomsEvent) -> None:
        if self._event_budget.allow("event") is None:
            # A flood: the outcome waits still end, and the refresher's Query brings the
            # mirror to the latest state instead of validating every frame.
            self.counters["events_coalesced"] += 1
            self._inflight.wake(event)
        elif not event.known:
            self._notify(RoomsChange("event", self.link, event=event))
        else:
            # The status the event settles on reaches the watchers (the panel's LEDs) at
            # once; the payload is validated and merged a moment later (MERGE_DELAY_S) and
            # before the outcome wait ends: call(wait=True) returns with the mirror updated.
            settled = self.mirror.settle_status(event)
            self._notify(RoomsChange("event", self.link, event=event))
            self._merges(self._merge_event, event, settled)
        if self._refresh is not None:  # unknown events too: they may mean a change
            self._refresh.set()

    def _merge_event(self, event: RoomsEvent, settled: bool) -> None:
        try:
            changed = self.mirror.apply_event(event)
        except ValidationError as exc:
            # The status its name settled on stands (the meeting did end); the rest is dropped.
            self.counters["bad_frames"] += 1
            log.warning("rooms event has wrong types", extra=kv(error=_first(exc)))
            changed = False
        self.counters["texts_cut"] += take_cut_count()
        self._inflight.wake(event)
        if changed or settled:
            self._mirror_changed()

    def _log_event(self, message: str, event: RoomsEvent) -> None:
        held = self._log_budget.allow("event")
        if held is not None:
            fields = {"module": event.module, "event_name": event.name}
            log.info(message, extra=kv(**fields, **({"suppressed": held} if held else {})))

    # ---- requests ----

    async def _request(
        self, request: RequestFrame, *, what: str, action: str | None = None
    ) -> Response:
        ws = self._ws
        if ws is None:
            raise RoomsDisconnected("Rooms client is not connected")
        req_id = f"{next(self._seq):x}"  # unique per session, so per connection too
        pending, inflight = Pending(what), self._inflight
        inflight.pending[req_id] = pending
        try:
            await ws.send(request.frame(req_id))
            self.counters["frames_out"] += 1
            await pending.wait(self.call_timeout, lambda: inflight.no_answer(req_id, what, self))
        except ConnectionClosed:
            raise RoomsDisconnected() from None
        finally:
            self._inflight.pending.pop(req_id, None)
        if pending.error is not None:
            raise pending.error
        response = pending.response
        assert response is not None
        if response.error_code != 0:
            self.counters["refusals"] += 1
            raise RoomsRefused(response.error_code, response.message, action)
        return response

    def _require_ready(self) -> None:
        # No silent queueing: a "Join" pressed now must not join minutes later.
        if self.link == LinkState.AUTH_FAILED:
            raise RoomsAuthFailed()
        if self.link != LinkState.READY or self._ws is None:
            why = f": {self.last_error}" if self.last_error else ""
            raise RoomsDisconnected(f"Rooms client is not connected{why}")

    async def query(self, path: Iterable[str] = ("Meeting",)) -> dict[str, Any]:
        """Query a node (whole module or a leaf); returns the result's data."""
        segments = list(path)
        if not segments or not all(isinstance(s, str) and s for s in segments):
            raise RoomsBadRequest("query path must be one or more names, e.g. Meeting")
        self._require_ready()
        response = await self._request(RequestFrame(QUERY, {"path": segments}), what="Query")
        data = response.data if isinstance(response.data, dict) else {}
        if segments == ["Meeting"]:
            self._apply_meeting_data(data)
        return data

    async def call(
        self,
        action: str | PreparedCall,
        params: Mapping[str, Any] | ActionParams | None = None,
        *,
        wait: bool = False,
        module: str = "Meeting",
    ) -> RoomsEvent | None:
        """Call/Meeting ACTION (or a call prepared once with `prepare_call`, as a binding's
        is). wait=False → None once accepted; wait=True → the outcome event."""
        # The passcode in args is masked by its field wherever it is shown (never registered
        # as a secret: "456" would then mask every meeting code holding it).
        prepared = (
            action if isinstance(action, PreparedCall) else prepare_call(action, params, module)
        )
        spec = prepared.spec
        self._require_ready()
        self.counters["calls"] += 1
        waiter: OutcomeWaiter | None = None
        if wait:
            if spec.name in self._inflight.outcomes:
                raise RoomsBadRequest(f"a {spec.name} is already waiting for its outcome")
            # Registered before sending: the event can overtake the response.
            waiter = OutcomeWaiter(spec.name, spec.outcomes)
            self._inflight.outcomes[spec.name] = waiter
        try:
            await self._request(prepared.request, what=spec.name, action=spec.name)
            if waiter is None:
                return None
            await waiter.wait(
                self.outcome_timeout, lambda: self._inflight.no_outcome(spec.name, self)
            )
            if waiter.error is not None:
                raise waiter.error
            return waiter.event
        finally:
            if waiter is not None and self._inflight.outcomes.get(spec.name) is waiter:
                del self._inflight.outcomes[spec.name]


def _first(exc: ValidationError) -> str:
    return validation_summary(exc).split("; ")[0]
