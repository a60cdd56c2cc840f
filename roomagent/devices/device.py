"""A supervised serial device: open, start-up sequence, read, reopen with backoff on loss."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Coroutine, Sequence
from typing import Any, Literal

import anyio
from anyio.abc import TaskGroup

from roomagent.devices.base import DeviceEvent, Driver
from roomagent.devices.errors import (
    CommandUsageError,
    DeviceError,
    DeviceOffline,
    DeviceTimeout,
    PortLost,
)
from roomagent.devices.families import get_family
from roomagent.devices.panel import LineDriver
from roomagent.devices.profiles import Profile, load_profile
from roomagent.devices.transport import SerialTransport
from roomagent.logsetup import kv

log = logging.getLogger("roomagent.devices")

BACKOFF_INITIAL = 0.5
BACKOFF_CAP = 30.0
# A connection that stayed up this long resets the backoff (it was not a flapping port).
STABLE_AFTER = 10.0


def make_driver(profile: Profile, address: int, link: Any) -> Driver:
    return get_family(profile.family).driver(profile, address, link)


def check_address(profile: Profile, address: int | None) -> int:
    if address is None:
        return profile.default_address
    rng = profile.addresses
    if not rng.contains(address):
        raise CommandUsageError(
            f"address {address} is outside {rng.min}–{rng.max} for {profile.family} "
            f"(profile {profile.name})"
        )
    return address


class Device:
    """One camera or panel on one serial port; `run()` keeps it connected until cancelled."""

    def __init__(
        self,
        name: str,
        port: str,
        profile: Profile | str,
        address: int | None = None,
        *,
        backoff_initial: float = BACKOFF_INITIAL,
        backoff_cap: float = BACKOFF_CAP,
    ) -> None:
        self.name = name
        self.port = port
        self.profile = profile = load_profile(profile) if isinstance(profile, str) else profile
        self.address = check_address(profile, address)
        self.backoff_initial = backoff_initial
        self.backoff_cap = backoff_cap
        self.online = False
        self.offline_reason: str | None = "not opened yet"
        self._driver = make_driver(profile, self.address, self)
        self._transport: SerialTransport | None = None
        self._tg: TaskGroup | None = None
        self._loss_reason: str | None = None
        self._callbacks: list[Callable[[DeviceEvent], None]] = []
        self._stats = {"reopens": 0, "port_losses": 0, "bytes_in": 0, "bytes_out": 0}

    @property
    def kind(self) -> Literal["camera", "panel"]:
        return self.profile.kind

    @property
    def counters(self) -> dict[str, int]:
        counters = {**self._driver.all_counters(), **self._stats}
        counters["frames_in"] = counters.pop("frames", 0)
        if self._transport is not None:
            counters["bytes_in"] += self._transport.bytes_in
            counters["bytes_out"] += self._transport.bytes_out
        return counters

    def shown(self) -> dict[str, Any] | None:
        """A panel's LEDs and text lines as it shows them now; None for a camera."""
        driver = self._driver
        if not isinstance(driver, LineDriver):
            return None
        return {"leds": dict(driver.leds), "texts": dict(driver.texts)}

    def watch(self, callback: Callable[[DeviceEvent], None]) -> Callable[[], None]:
        self._callbacks.append(callback)

        def unsubscribe() -> None:
            if callback in self._callbacks:
                self._callbacks.remove(callback)

        return unsubscribe

    async def command(self, name: str, *args: Any, **kw: Any) -> dict[str, Any]:
        """Run one command of the common vocabulary; usage errors come before any I/O."""
        prepared = self._driver.prepare(name, args, kw)
        if not self.online:
            raise DeviceOffline(f"{self.name} is offline: {self.offline_reason}")
        self._driver.counters["commands"] += 1
        return await self._driver.execute(prepared)

    # ---- Link (what the driver may do) ----

    async def write(self, data: bytes) -> None:
        transport = self._transport
        if transport is None:
            raise DeviceOffline(f"{self.name} is offline: {self.offline_reason}")
        try:
            await transport.write(data)
        except PortLost as exc:
            self.lost(exc.reason)
            raise DeviceOffline(f"{self.name} went offline: {exc.reason}") from None

    def emit(self, event: DeviceEvent) -> None:
        for callback in list(self._callbacks):
            try:
                callback(event)
            except Exception:  # a watcher's bug must not take the device down
                log.exception("device watcher failed", extra=kv(device=self.name))

    def lost(self, reason: str) -> None:
        if self._tg is not None and self._loss_reason is None:
            self._loss_reason = reason
            self._tg.cancel_scope.cancel()

    def restart(self, reason: str) -> None:
        self._set_offline(reason)
        self.spawn(self._start_up)

    def spawn(self, func: Callable[[], Coroutine[Any, Any, None]]) -> None:
        if self._tg is not None:
            self._tg.start_soon(func)

    # ---- state ----

    def _own_log_level(self, level: int) -> int:
        """A watched device's owner (the room core) logs its online/offline as a history
        event: one log line per event, so the device's own line is debug then."""
        return logging.DEBUG if self._callbacks else level

    def _set_online(self) -> None:
        if not self.online:
            self.online, self.offline_reason = True, None
            level = self._own_log_level(logging.INFO)
            log.log(level, "device online", extra=kv(device=self.name, port=self.port))
            self.emit(DeviceEvent("online", detail=f"{self.name} online on {self.port}"))

    def _set_offline(self, reason: str) -> None:
        was_online, old_reason = self.online, self.offline_reason
        self.online, self.offline_reason = False, reason
        if was_online or old_reason != reason:
            level = self._own_log_level(logging.WARNING)
            log.log(level, "device offline", extra=kv(device=self.name, reason=reason))
            self.emit(DeviceEvent("offline", detail=reason))

    # ---- connection ----

    async def run(self) -> None:
        delay = self.backoff_initial
        opened_before = False
        try:
            while True:
                transport = SerialTransport(self.port, self.profile.serial)
                try:
                    transport.open()
                except DeviceError as exc:
                    self._set_offline(exc.reason)
                    await anyio.sleep(delay)
                    delay = min(delay * 2, self.backoff_cap)
                    continue
                if opened_before:
                    self._stats["reopens"] += 1
                opened_before = True
                started = time.monotonic()
                await self._session(transport)
                if time.monotonic() - started >= STABLE_AFTER:
                    delay = self.backoff_initial
                await anyio.sleep(delay)
                delay = min(delay * 2, self.backoff_cap)
        finally:
            self._set_offline("stopped")

    async def _session(self, transport: SerialTransport) -> None:
        self._transport, self._loss_reason = transport, None
        self._driver.reset()
        try:
            async with anyio.create_task_group() as tg:
                self._tg = tg
                transport.start_reading(self._feed, self.lost)
                # The reads run in the transport's callback; this keeps the session open
                # until lost() cancels it.
                tg.start_soon(anyio.sleep_forever)
                tg.start_soon(self._bring_up)
        finally:
            self._tg, self._transport = None, None
            self._stats["bytes_in"] += transport.bytes_in
            self._stats["bytes_out"] += transport.bytes_out
            transport.close()  # at once: nothing more goes to a half-gone device
            reason = self._loss_reason or "stopped"
            self._stats["port_losses"] += reason.startswith("port lost")
            # Fail, never replay: a pan started before an unplug must not resume after it.
            self._driver.fail_pending(f"{self.name} went offline: {reason}")
            self._set_offline(reason)

    def _feed(self, data: bytes) -> None:
        try:
            self._driver.feed(data)
        except Exception:  # a decoding bug must not take the whole agent down
            self._stats["parser_failures"] = self._stats.get("parser_failures", 0) + 1
            log.exception("device reply not understood", extra=kv(device=self.name))

    async def _start_up(self) -> None:
        try:
            await self._driver.start_up()
        except DeviceError as exc:
            self.lost(f"start-up failed: {exc.reason}")
            return
        self._set_online()

    async def _bring_up(self) -> None:
        await self._start_up()
        if self.online:
            await self._driver.background()

    # ---- one-shot (CLI) ----

    async def once(
        self, name: str, args: Sequence[Any] = (), kw: dict[str, Any] | None = None,
        limit_s: float | None = None,
    ) -> dict[str, Any]:  # fmt: skip
        """Open the port, run one command, close: no start-up, no reconnect loop."""
        prepared = self._driver.prepare(name, args, kw or {})  # usage errors: nothing opened
        transport = SerialTransport(self.port, self.profile.serial)
        transport.open()  # PortOpenError
        self._transport = transport
        result: dict[str, Any] = {}
        failure: DeviceError | None = None
        try:
            async with anyio.create_task_group() as tg:
                self._tg = tg
                transport.start_reading(self._feed, self.lost)
                try:
                    with anyio.fail_after(limit_s or None):  # None: no limit
                        result = await self._driver.execute(prepared)
                        await transport.drain()
                except TimeoutError:
                    failure = DeviceTimeout(f"no outcome within {limit_s:g} s")
                except DeviceError as exc:  # raised after the task group, not inside a group
                    failure = exc
                tg.cancel_scope.cancel()
        finally:
            self._tg, self._transport = None, None
            transport.close()
        if failure is not None:
            raise failure
        if self._loss_reason:
            raise DeviceOffline(self._loss_reason)
        return result


async def run_command(
    port: str,
    profile: Profile,
    name: str,
    args: Sequence[Any] = (),
    *,
    address: int | None = None,
    limit_s: float | None = None,
    **kw: Any,
) -> dict[str, Any]:
    """One command on a port, then close (used by `roomagent device`)."""
    device = Device(name="cli", port=port, profile=profile, address=address)
    return await device.once(name, args, kw, limit_s)
