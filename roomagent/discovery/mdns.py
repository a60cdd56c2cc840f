"""mDNS/DNS-SD: the agent announces `_roomagent._tcp.local.` and tools find agents on the LAN.

The instance name is the room's name, so a browser lists "Huddle 3A", not an address. TXT
carries what a tool needs without connecting: version, room, id, api (path), page (port),
state, scheme (http or https) and fp (the certificate's SHA-256, when https). A name already
taken on the LAN gets " (2)", " (3)", … — logged, never fatal — and the local addresses are
re-checked periodically so a DHCP renewal or a cable moved to another switch is announced
again.
"""

from __future__ import annotations

import ipaddress
import logging
import re
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import anyio
from zeroconf import (
    DNSQuestionType,
    InterfaceChoice,
    IPVersion,
    NonUniqueNameException,
    ServiceInfo,
    ServiceStateChange,
    Zeroconf,
    get_all_addresses,
)
from zeroconf.asyncio import AsyncServiceBrowser, AsyncServiceInfo, AsyncZeroconf

from roomagent.logsetup import kv

log = logging.getLogger(__name__)

SERVICE_TYPE = "_roomagent._tcp.local."
ADDRESS_CHECK_S = 30.0  # how often local addresses are compared with what was announced
RETRY_S = 10.0  # after mDNS failed outright (no multicast yet at boot), try again this often
MAX_RENAMES = 20
_LABEL_MAX = 63  # a DNS label, in bytes
_RESOLVE_MS = 1500
LOOKAROUND_S = 1.5  # browse this long before choosing a name, to see names in use

Addresses = Callable[[], list[str]]


@dataclass(frozen=True)
class Found:
    """One agent seen on the LAN."""

    name: str  # instance name (the room name, maybe with " (2)")
    address: str
    port: int
    room: str
    version: str
    id: str
    api: str
    page_port: int | None
    state: str
    scheme: str = "http"
    fingerprint: str = ""  # SHA-256 of the page's certificate (https only)

    def line(self) -> str:
        pin = f"\tsha256={self.fingerprint}" if self.fingerprint else ""
        return (
            f"{self.name}\t{self.address}\t{self.port}\troom={self.room}\tversion={self.version}"
            f"\tstate={self.state or '-'}"
            f"\tpage={self.scheme}://{self.address}:{self.page_port or self.port}/{pin}"
        )


def lan_addresses(interfaces: Sequence[str] | None = None) -> list[str]:
    """IPv4 addresses to announce: the configured ones, else every non-loopback one."""
    if interfaces:
        return sorted(interfaces)
    found = sorted(a for a in get_all_addresses() if not ipaddress.ip_address(a).is_loopback)
    return found or ["127.0.0.1"]


def announce_interfaces(listen: str) -> list[str] | None:
    """Where to announce a page listening on `listen`: only where it can be reached.

    A wildcard (`0.0.0.0`, `::`, empty) → None: every non-loopback address, as configured
    LANs expect. A loopback address → loopback only (`roomagent discover` on the same box
    still finds it; the LAN is not told about a page it cannot open). Any other address →
    that one. [] when nothing can be announced (an IPv6-only address: announcements are
    IPv4; a host name that does not resolve)."""
    if listen in ("", "0.0.0.0", "::"):
        return None
    try:
        address = ipaddress.ip_address(listen)
    except ValueError:  # a host name such as "localhost"
        try:
            infos = socket.getaddrinfo(listen, None, socket.AF_INET, socket.SOCK_STREAM)
        except OSError:
            return []
        address = ipaddress.ip_address(infos[0][4][0])
    if address.is_loopback:
        return ["127.0.0.1"]
    if isinstance(address, ipaddress.IPv6Address):
        mapped = address.ipv4_mapped
        return [str(mapped)] if mapped is not None else []
    return [str(address)]


def _fit_label(name: str, suffix: str = "") -> str:
    """Cut the name so name+suffix fits one DNS label (63 bytes), on a character boundary."""
    budget = _LABEL_MAX - len(suffix.encode())
    cut = name
    while len(cut.encode()) > budget:
        cut = cut[:-1]
    return cut.rstrip() + suffix


def _host_label(room_id: str) -> str:
    slug = re.sub(r"[^a-z0-9-]+", "-", room_id.lower()).strip("-") or "agent"
    return f"roomagent-{slug}"[:_LABEL_MAX]


def mdns_host_name(room_id: str) -> str:
    """The host name the agent announces (`roomagent-<id>.local.`; in its certificate too)."""
    return f"{_host_label(room_id)}.local."


def _zeroconf(interfaces: Sequence[str] | None) -> AsyncZeroconf:
    chosen: Any = list(interfaces) if interfaces else InterfaceChoice.All
    return AsyncZeroconf(interfaces=chosen, ip_version=IPVersion.V4Only)


class Announcer:
    """Announce one agent while `run()` runs; unregistered (goodbye packets) when cancelled."""

    def __init__(
        self,
        room_name: str,
        room_id: str,
        port: int,
        version: str,
        api_path: str = "/api",
        page_port: int | None = None,
        *,
        state: str = "",
        interfaces: Sequence[str] | None = None,
        addresses: Addresses | None = None,
        address_check_s: float = ADDRESS_CHECK_S,
        lookaround_s: float = LOOKAROUND_S,
    ) -> None:
        self.room_name = room_name
        self.room_id = room_id
        self.port = port
        self.interfaces = list(interfaces) if interfaces else None
        self._addresses = addresses or (lambda: lan_addresses(self.interfaces))
        self.address_check_s = address_check_s
        self.lookaround_s = lookaround_s
        self.txt: dict[str, str] = {
            "version": version,
            "room": room_name,
            "id": room_id,
            "api": api_path,
            "page": str(page_port or port),
            "state": state,
        }
        self.name: str | None = None  # the instance name actually announced
        self.announced_addresses: list[str] = []
        self._info: ServiceInfo | None = None
        self._changed = anyio.Event()
        self.registered = anyio.Event()
        self._announced = anyio.Event()  # set (and replaced) after each (re)announcement

    def update(self, **txt: object) -> None:
        """Change TXT fields (e.g. `state="in_meeting"`); sync and cheap, safe in a callback."""
        fresh = {key: "" if value is None else str(value) for key, value in txt.items()}
        if any(self.txt.get(key) != value for key, value in fresh.items()):
            self.txt.update(fresh)
            self._changed.set()

    def _service(self, instance: str, addresses: list[str]) -> ServiceInfo:
        return ServiceInfo(
            SERVICE_TYPE,
            f"{instance}.{SERVICE_TYPE}",
            port=self.port,
            properties=dict(self.txt),
            server=mdns_host_name(self.room_id),
            addresses=[socket.inet_aton(a) for a in addresses],
        )

    async def run(self) -> None:
        while True:
            try:
                zc = _zeroconf(self.interfaces)
                break
            except OSError as exc:  # no multicast-capable interface yet (early boot)
                log.warning("mDNS unavailable; retrying", extra=kv(error=str(exc)))
                await anyio.sleep(RETRY_S)
        try:
            while self._info is None:
                try:
                    await self._register(zc)
                except Exception as exc:  # the room works without mDNS: log, retry, go on
                    log.warning("mDNS announcement failed; retrying", extra=kv(error=str(exc)))
                    await anyio.sleep(RETRY_S)
            while True:
                with anyio.move_on_after(self.address_check_s):
                    await self._changed.wait()
                self._changed = anyio.Event()
                await self._refresh(zc)
        finally:
            with anyio.CancelScope(shield=True), anyio.move_on_after(3):
                await self._withdraw(zc)

    async def _register(self, zc: AsyncZeroconf) -> None:
        addresses = self._addresses()
        # zeroconf's probe only notices a conflict when the other agent's PTR record is
        # already cached, so look at who is on the LAN first (this also fills the cache).
        taken = await self._names_in_use(zc)
        for attempt in range(1, MAX_RENAMES + 1):
            suffix = "" if attempt == 1 else f" ({attempt})"
            instance = _fit_label(self.room_name, suffix)
            info = self._service(instance, addresses)
            try:
                if info.name.lower() in taken:
                    raise NonUniqueNameException(info.name)
                await (await zc.async_register_service(info, allow_name_change=False))
            except NonUniqueNameException:
                log.warning(
                    "mDNS name taken on the LAN; trying the next",
                    extra=kv(taken=instance, room=self.room_name),
                )
                continue
            if attempt > 1:
                log.warning(
                    "announced under a new name: another device uses the room's name",
                    extra=kv(name=instance, room=self.room_name),
                )
            self._info, self.name, self.announced_addresses = info, instance, addresses
            log.info(
                "announced on mDNS",
                extra=kv(name=instance, port=self.port, addresses=",".join(addresses)),
            )
            self.registered.set()
            self._announce_done()
            return
        log.error("mDNS: no free name for the room; not announced", extra=kv(room=self.room_name))
        raise RuntimeError("no free mDNS name")

    async def _names_in_use(self, zc: AsyncZeroconf) -> set[str]:
        """Instance names other agents answer for (our own earlier announcement — a restart
        before its goodbye went out — is not a conflict)."""
        found = await _browse_on(zc, self.lookaround_s)
        return {f"{f.name}.{SERVICE_TYPE}".lower() for f in found if f.id != self.room_id}

    async def _refresh(self, zc: AsyncZeroconf) -> None:
        """Re-announce when the TXT or the local addresses changed."""
        if self._info is None or self.name is None:
            return
        addresses = self._addresses()
        if addresses != self.announced_addresses:
            log.info(
                "local addresses changed; announcing again",
                extra=kv(old=",".join(self.announced_addresses), new=",".join(addresses)),
            )
        info = self._service(self.name, addresses)
        if info.properties == self._info.properties and addresses == self.announced_addresses:
            return
        try:
            await (await zc.async_update_service(info))
        except Exception as exc:  # retried at the next change or address check
            log.warning("mDNS update failed", extra=kv(error=str(exc)))
            return
        self._info, self.announced_addresses = info, addresses
        self._announce_done()

    def _announce_done(self) -> None:
        done, self._announced = self._announced, anyio.Event()
        done.set()

    async def next_announcement(self) -> None:
        """Wait until the next registration or update has gone out on the LAN."""
        await self._announced.wait()

    def recheck(self) -> None:
        """Compare local addresses now instead of at the next periodic check."""
        self._changed.set()

    async def _withdraw(self, zc: AsyncZeroconf) -> None:
        try:
            if self._info is not None:
                await (await zc.async_unregister_service(self._info))
                log.info("mDNS announcement withdrawn", extra=kv(name=self.name))
        except Exception as exc:  # shutting down: a failed goodbye must not hide the cause
            log.warning("mDNS goodbye failed", extra=kv(error=str(exc)))
        finally:
            self._info = None
            await zc.async_close()


def _text(properties: dict[bytes, bytes | None], key: str) -> str:
    value = properties.get(key.encode())
    return value.decode("utf-8", "replace") if value else ""


def _found(info: AsyncServiceInfo) -> Found | None:
    addresses = info.parsed_addresses(IPVersion.V4Only)
    if not addresses or info.port is None:
        return None
    props = info.properties
    page = _text(props, "page")
    return Found(
        name=info.name.removesuffix("." + SERVICE_TYPE),
        address=addresses[0],
        port=info.port,
        room=_text(props, "room"),
        version=_text(props, "version"),
        id=_text(props, "id"),
        api=_text(props, "api") or "/api",
        page_port=int(page) if page.isdigit() else None,
        state=_text(props, "state"),
        scheme="https" if _text(props, "scheme") == "https" else "http",
        fingerprint=_text(props, "fp"),
    )


async def _browse_on(zc: AsyncZeroconf, seconds: float) -> list[Found]:
    names: set[str] = set()

    def on_change(
        zeroconf: Zeroconf, service_type: str, name: str, state_change: ServiceStateChange
    ) -> None:
        if state_change is not ServiceStateChange.Removed:
            names.add(name)
        else:
            names.discard(name)

    # QM: answers come back by multicast, so several agents (or tools) on one host all
    # hear them; a unicast (QU) answer reaches only one of the sockets sharing port 5353.
    browser = AsyncServiceBrowser(
        zc.zeroconf, [SERVICE_TYPE], handlers=[on_change], question_type=DNSQuestionType.QM
    )
    try:
        await anyio.sleep(seconds)
    finally:
        await browser.async_cancel()
    found: list[Found] = []
    for name in sorted(names):
        info = AsyncServiceInfo(SERVICE_TYPE, name)
        if await info.async_request(zc.zeroconf, _RESOLVE_MS, DNSQuestionType.QM):
            entry = _found(info)
            if entry is not None:
                found.append(entry)
    return found


async def browse(seconds: float = 3.0, interfaces: Sequence[str] | None = None) -> list[Found]:
    """Agents answering on the LAN within `seconds`, sorted by name."""
    zc = _zeroconf(interfaces)
    try:
        return await _browse_on(zc, seconds)
    finally:
        await zc.async_close()
