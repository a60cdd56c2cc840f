"""The agent's bridge to the fleet broker: one peer part beside the web server.

On every connect it publishes availability, status and the Home Assistant configs again (a
broker without persistence has lost them), then streams status changes (coalesced), history
events (buffered while the broker is away) and answers commands. The room never waits for
the broker: the agent's watch callback only marks work, the bridge's own tasks do the I/O.
"""

from __future__ import annotations

import json
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import aiomqtt
import anyio
from anyio.abc import TaskGroup
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from roomagent.config.model import AgentConfig
from roomagent.config.secrets import read_secret
from roomagent.config.vocab import ButtonPhase
from roomagent.control.model import FleetStatus
from roomagent.fleet.broker import Broker, mqtt_error_words, parse_broker
from roomagent.fleet.commands import (
    Command,
    CommandError,
    CommandLog,
    error_result,
    ok_result,
    parse_command,
    refusal,
)
from roomagent.fleet.discovery import room_configs
from roomagent.fleet.legacy import LegacyCleaner, LegacyTopics
from roomagent.fleet.link import BrokerLink, acl_words
from roomagent.fleet.outbox import Outbox
from roomagent.fleet.room_id import account_mismatch, topic_id
from roomagent.fleet.topics import OFFLINE, ONLINE, RoomTopics
from roomagent.logsetup import kv, redact, scrub

log = logging.getLogger("roomagent.fleet")

STATUS_MIN_INTERVAL = 0.25  # "coalesced to at most a few per second"
DISCOVERY_SETTLE_S = 1.0  # time for the broker's retained configs to arrive after subscribing
MAX_CONCURRENT_COMMANDS = 8  # a join can take seconds; more wait (and QoS 1 holds them)
MAX_QUEUED_COMMANDS = 1000
BACKOFF_BASE_S = 1.0
BACKOFF_CAP_S = 60.0
ECHO_WAIT_S = 5.0  # our own "online" back from the broker, or its ACL is not ours


class RoomFacade(Protocol):
    """What the bridge needs from the room: the subset of the agent's facade it uses
    (roomagent.web.facade.AgentFacade has the same methods)."""

    def status(self) -> dict[str, Any]: ...

    def recent_events(self, limit: int = 100) -> list[dict[str, Any]]: ...

    async def perform(self, action: dict[str, Any]) -> dict[str, Any]: ...

    async def press(
        self, device: str, button: int, kind: ButtonPhase = ButtonPhase.PRESS
    ) -> Any: ...

    def watch(self, callback: Callable[[dict[str, Any]], None]) -> Callable[[], None]: ...


@dataclass(frozen=True)
class BridgeSettings:
    broker: Broker
    topics: RoomTopics
    keepalive: int = 30
    allow_actions: tuple[str, ...] = ()
    homeassistant: bool = True
    discovery_prefix: str = "homeassistant"
    backoff_base: float = BACKOFF_BASE_S
    backoff_cap: float = BACKOFF_CAP_S
    legacy: LegacyTopics | None = None  # the old topics of a box without [room] id

    @classmethod
    def from_config(cls, config: AgentConfig, base_dir: Path | None = None) -> BridgeSettings:
        """From `[mqtt]` and `[room]`; raises BrokerConfigError or SecretUnavailable."""
        section = config.mqtt
        if section is None:
            raise ValueError("no [mqtt] section")

        def relative(path: Path | None) -> Path | None:
            if path is None or path.is_absolute() or base_dir is None:
                return path
            return base_dir / path

        password = read_secret(
            section.password_env, relative(section.password_file), what="MQTT password"
        )
        broker = parse_broker(
            section.url,
            username=section.username,
            password=password,
            ca_file=relative(section.ca_file),
            client_cert=relative(section.client_cert),
            client_key=relative(section.client_key),
        )
        broker.tls_context()  # unreadable TLS files are a config error, found at start
        topics = RoomTopics(section.topic_prefix, section.site, topic_id(config))
        mismatch = account_mismatch(config)
        if mismatch:
            log.warning("fleet: %s", mismatch)
        return cls(
            broker=broker,
            topics=topics,
            keepalive=section.keepalive,
            allow_actions=tuple(section.allow_actions),
            homeassistant=section.homeassistant,
            discovery_prefix=section.discovery_prefix,
            legacy=LegacyTopics.of(config, topics, section.discovery_prefix),
        )


def backoff_delay(attempt: int, base: float, cap: float, rng: random.Random) -> float:
    """Exponential backoff with jitter: a random half to all of min(cap, base·2^attempt), so
    a building's boxes do not all knock at once after the broker comes back."""
    ceiling = min(cap, base * (2 ** min(attempt, 30)))
    return ceiling * rng.uniform(0.5, 1.0)


@dataclass
class BridgeCounters:
    connects: int = 0
    connect_failures: int = 0
    status_published: int = 0
    events_published: int = 0
    commands: int = 0
    commands_accepted: int = 0
    commands_refused: int = 0
    commands_duplicate: int = 0
    commands_malformed: int = 0
    discovery_removed: int = 0


class FleetBridge:
    def __init__(
        self,
        room: RoomFacade,
        settings: BridgeSettings,
        *,
        seed: int | None = None,
        on_change: Callable[[], None] = lambda: None,
    ):
        """`on_change()` is called (sync) when the bridge's state changes: connected, lost,
        another reason why the broker cannot be reached."""
        self.room = room
        self.settings = settings
        self.topics = settings.topics
        self.outbox = Outbox()
        self.commands = CommandLog()
        self.counters = BridgeCounters()
        self.connected = False
        self.link = BrokerLink(on_change)
        self._catching_up = False  # events from an outage still going out
        self._echo = anyio.Event()  # our own "online" came back from the broker
        self._legacy: LegacyCleaner | None = None
        self._rng = random.Random(seed)
        self._status_dirty = anyio.Event()
        self._last_status: str | None = None
        self._configs: dict[str, str] = {}  # discovery configs published in this run
        self._retained_configs: set[str] = set()  # our configs the broker held at connect
        self._settling = False
        self._dropped_told = 0  # outbox drops already logged

    # ---- the agent's side (sync, never blocking) -----------------------------------------

    def _on_update(self, update: dict[str, Any]) -> None:
        if update.get("type") == "event" and isinstance(update.get("event"), dict):
            self.outbox.put(update["event"])
        self._status_dirty.set()  # an event can set last_error: the status may have changed

    def report(self) -> FleetStatus:
        """The bridge's state for the room's status (status.fleet) and its page."""
        counters, link = self.counters, self.link
        return FleetStatus(
            state=link.state,
            since=link.since,
            broker=self.settings.broker.url,
            topic=self.topics.base,
            topic_id=self.topics.room,
            last_error=link.last_error,
            last_publish=link.last_publish,
            outbox=len(self.outbox),
            outbox_dropped=self.outbox.dropped,
            commands_accepted=counters.commands_accepted,
            commands_refused=counters.commands_refused + counters.commands_malformed,
        )

    @property
    def last_error(self) -> str | None:
        return self.link.last_error

    # ---- lifecycle -----------------------------------------------------------------------

    async def run(self) -> None:
        """Connect, serve, reconnect with backoff + jitter; until cancelled."""
        unwatch = self.room.watch(self._on_update)
        attempt = 0
        try:
            while True:
                try:
                    async with self._client() as client:
                        attempt = 0
                        await self._connected(client)
                except* aiomqtt.MqttError as group:
                    self._lost(mqtt_error_words(group.exceptions[0]))
                except* Exception as group:  # a bug here must not stop the room
                    log.error("fleet bridge failed", exc_info=group.exceptions[0])
                    self._lost(f"internal error: {group.exceptions[0]}")
                delay = backoff_delay(
                    attempt, self.settings.backoff_base, self.settings.backoff_cap, self._rng
                )
                attempt += 1
                await anyio.sleep(delay)
        finally:
            unwatch()

    def _client(self) -> aiomqtt.Client:
        will = aiomqtt.Will(self.topics.availability, OFFLINE, qos=1, retain=True)
        ident = f"roomagent-{self.topics.site}-{self.topics.room}"
        return self.settings.broker.client(
            ident,
            keepalive=self.settings.keepalive,
            will=will,
            # A flood of commands must not grow memory without bound: beyond this many
            # waiting, new ones are dropped (QoS 1 senders see no answer and may retry).
            max_queued_incoming_messages=MAX_QUEUED_COMMANDS,
        )

    def _lost(self, reason: str) -> None:
        if self.connected:
            log.warning("fleet broker lost", extra=kv(broker=self.settings.broker.url))
        else:
            self.counters.connect_failures += 1
        self.connected = False
        self.link.set("reconnecting", redact(reason))
        log.info("fleet broker unavailable: %s", self.last_error)

    async def _connected(self, client: aiomqtt.Client) -> None:
        self.connected = True
        self._catching_up = len(self.outbox) > 0
        self.link.set("connected", None)
        self.counters.connects += 1
        log.info("fleet broker connected", extra=kv(broker=self.settings.broker.url))
        if self.outbox.dropped > self._dropped_told:
            lost = self.outbox.dropped - self._dropped_told
            log.warning("fleet: %d events dropped while the broker was away (oldest first)", lost)
            self._dropped_told = self.outbox.dropped
        try:
            await client.subscribe(self.topics.cmd, qos=1)
            # Our own "online" must come back: a broker whose ACL gives this account other
            # topics takes the login and drops the rest quietly (Mosquitto grants the
            # subscription and drops the messages).
            self._echo = anyio.Event()
            await client.subscribe(self.topics.availability, qos=1)
            await client.publish(self.topics.availability, ONLINE, qos=1, retain=True)
            legacy = self.settings.legacy
            self._legacy = LegacyCleaner(legacy) if legacy is not None else None
            if self._legacy is not None:
                await self._legacy.start(client)
            self.link.published()
            self._last_status = None
            await self._publish_status(client)
            self._configs = {}
            async with anyio.create_task_group() as tg:
                if self.settings.homeassistant:
                    tg.start_soon(self._settle_discovery, client)
                tg.start_soon(self._status_loop, client)
                tg.start_soon(self._event_loop, client)
                tg.start_soon(self._message_loop, client, tg)
                tg.start_soon(self._check_echo, client)
        finally:
            # A clean stop says "offline" itself: the client's DISCONNECT on the way out
            # tells the broker to drop the last will, which covers only unclean ends.
            with anyio.move_on_after(1.0, shield=True):
                try:
                    await client.publish(self.topics.availability, OFFLINE, qos=1, retain=True)
                except aiomqtt.MqttError:
                    pass

    async def _check_echo(self, client: aiomqtt.Client) -> None:
        with anyio.move_on_after(ECHO_WAIT_S):
            await self._echo.wait()
        if not self._echo.is_set():
            self.link.set("connected", acl_words(self.topics, self.settings.broker, ECHO_WAIT_S))
            log.warning("fleet: %s", self.last_error)
            await self._echo.wait()  # late after all (a slow broker): the problem goes
            self.link.set("connected", None)
        await client.unsubscribe(self.topics.availability)

    # ---- status and discovery ------------------------------------------------------------

    def _status_payload(self) -> tuple[str, str, dict[str, Any]]:
        status: dict[str, Any] = scrub(self.room.status())
        text = json.dumps(status, ensure_ascii=False, sort_keys=True)
        # The uptime ticks on every call, and the bridge's own part changes with each publish:
        # a status differing only there is not a change.
        same = json.dumps(
            {k: v for k, v in status.items() if k not in ("uptime_s", "fleet")}, sort_keys=True
        )
        return text, same, status

    async def _publish_status(self, client: aiomqtt.Client) -> None:
        text, same, status = self._status_payload()
        if same != self._last_status:
            await client.publish(self.topics.status, text, qos=1, retain=True)
            self.link.published()
            self._last_status = same
            self.counters.status_published += 1
        if self.settings.homeassistant and not self._settling:
            await self._sync_discovery(client, status)

    async def _status_loop(self, client: aiomqtt.Client) -> None:
        while True:
            await self._status_dirty.wait()
            self._status_dirty = anyio.Event()
            await self._publish_status(client)
            await anyio.sleep(STATUS_MIN_INTERVAL)

    def wanted_configs(self, status: dict[str, Any]) -> dict[str, str]:
        return room_configs(
            self.topics,
            status,
            list(self.settings.allow_actions),
            discovery_prefix=self.settings.discovery_prefix,
        )

    async def _sync_discovery(self, client: aiomqtt.Client, status: dict[str, Any]) -> None:
        wanted = self.wanted_configs(status)
        for topic, payload in wanted.items():
            if self._configs.get(topic) != payload:
                await client.publish(topic, payload, qos=1, retain=True)
        stale = (set(self._configs) | self._retained_configs) - set(wanted)
        for topic in sorted(stale):
            await client.publish(topic, b"", qos=1, retain=True)  # HA removes the entity
            self.counters.discovery_removed += 1
        self._retained_configs -= stale
        self._configs = wanted

    async def _settle_discovery(self, client: aiomqtt.Client) -> None:
        """Learn which of our configs the broker still holds from an earlier run (a device
        removed from the config since), then publish the current set and clear the rest."""
        node_filter = f"{self.settings.discovery_prefix}/+/{self.topics.room}/+/config"
        self._settling = True
        self._retained_configs = set()
        try:
            await client.subscribe(node_filter, qos=1)
            await anyio.sleep(DISCOVERY_SETTLE_S)
            await client.unsubscribe(node_filter)
        finally:
            self._settling = False
        await self._sync_discovery(client, self._status_payload()[2])

    # ---- events --------------------------------------------------------------------------

    async def _event_loop(self, client: aiomqtt.Client) -> None:
        while True:
            await self.outbox.wait()
            event = self.outbox.peek()
            if event is None:
                continue
            text = json.dumps(scrub(event), ensure_ascii=False)
            await client.publish(self.topics.events, text, qos=1)
            self.outbox.pop()  # only once the broker has it: a drop mid-way resends it
            self.link.published()
            self.counters.events_published += 1
            if self._catching_up and not len(self.outbox):
                self._catching_up = False  # the backlog is out: the page says 0 waiting
                self.link.on_change()

    # ---- incoming: commands and our retained discovery configs ---------------------------

    async def _message_loop(self, client: aiomqtt.Client, tg: TaskGroup) -> None:
        slots = anyio.Semaphore(MAX_CONCURRENT_COMMANDS)
        async for message in client.messages:
            topic = message.topic.value
            if topic == self.topics.cmd:
                await slots.acquire()  # backpressure: stop reading while the room is busy
                tg.start_soon(self._command, client, message, slots)
            elif topic == self.topics.availability:
                if message.payload in (ONLINE, ONLINE.encode()):
                    self._echo.set()
            elif self._legacy is not None and self._legacy.wants(topic):
                await self._legacy.handle(client, topic, message.payload)
            elif self._settling and message.payload and topic.endswith("/config"):
                self._retained_configs.add(topic)

    async def _command(
        self, client: aiomqtt.Client, message: aiomqtt.Message, slots: anyio.Semaphore
    ) -> None:
        try:
            answer = await self.answer(message.payload)
            await self._reply(client, answer, message.properties)
        finally:
            slots.release()

    async def answer(self, payload: Any) -> dict[str, Any]:
        """The result for one command payload (runs it at most once per id)."""
        self.counters.commands += 1
        try:
            command = parse_command(payload if isinstance(payload, bytes | str) else b"")
        except CommandError as exc:
            self.counters.commands_malformed += 1
            return error_result(exc.command_id, exc.reason)
        earlier = self.commands.begin(command.id)
        if earlier is not None:
            self.counters.commands_duplicate += 1
            return await self.commands.answer_of(earlier)
        result = await self._run(command)
        self.commands.finish(command.id, result)
        return result

    async def _run(self, command: Command) -> dict[str, Any]:
        why = refusal(command, self.settings.allow_actions)
        if why is not None:
            self.counters.commands_refused += 1
            log.warning("fleet command refused", extra=kv(id=command.id, action=command.name))
            return error_result(command.id, why)
        log.info("fleet command", extra=kv(id=command.id, action=command.name))
        self.counters.commands_accepted += 1
        try:
            if command.press is not None:
                press = command.press
                outcome = await self.room.press(press["device"], press["button"], press["how"])
            else:
                outcome = await self.room.perform(dict(command.action or {}))
        except Exception as exc:  # the room's refusal or failure, in its own words
            return error_result(command.id, redact(str(exc)) or type(exc).__name__)
        return ok_result(command.id, scrub(outcome))

    async def _reply(
        self, client: aiomqtt.Client, answer: dict[str, Any], request: Properties | None
    ) -> None:
        text = json.dumps(answer, ensure_ascii=False)
        # MQTT 5: a command's correlation data comes back with its answer, which also goes
        # to the response topic it names (cmd/result stays the record operators watch).
        properties = None
        correlation = getattr(request, "CorrelationData", None)
        if correlation is not None:
            properties = Properties(PacketTypes.PUBLISH)
            properties.CorrelationData = correlation
        await client.publish(self.topics.cmd_result, text, qos=1, properties=properties)
        response_topic = getattr(request, "ResponseTopic", None)
        if response_topic and response_topic != self.topics.cmd_result:
            await client.publish(response_topic, text, qos=1, properties=properties)
