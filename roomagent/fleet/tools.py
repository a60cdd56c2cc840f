"""What the fleet tools do against a broker: collect the retained state, send a command and
wait for its answer, follow changes. The CLI (roomagent.cli.fleet) prints; this talks."""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from typing import Any

import aiomqtt
import anyio
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from roomagent.fleet.broker import Broker, mqtt_error_words
from roomagent.fleet.topics import RoomTopics, fleet_filters
from roomagent.fleet.view import Change, FleetView

# Retained messages come in one burst right after the subscription; the burst is over when
# no retained message has come for this long (a broker sends no "end of retained" marker).
QUIET_S = 0.5


class BrokerUnreachable(Exception):
    """Cannot connect or log in; the message says why in plain words."""


class NoAnswer(Exception):
    """The room did not answer (offline, unknown, or too slow)."""


def tool_client(broker: Broker) -> aiomqtt.Client:
    # A random id: two operators' tools must not knock each other off the broker.
    return broker.client(f"roomagent-tool-{secrets.token_hex(4)}", keepalive=30)


async def collect(
    broker: Broker,
    prefix: str = "roomagent",
    site: str | None = None,
    *,
    quiet: float = QUIET_S,
    limit: float = 10.0,
) -> FleetView:
    """Every room's retained status and availability."""
    view = FleetView(prefix, site)
    try:
        async with tool_client(broker) as client:
            await client.subscribe(
                [(f, 1) for f in fleet_filters(prefix, site, ("availability", "status"))]
            )
            deadline = anyio.current_time() + limit
            last_retained = anyio.current_time()
            while True:
                wait = min(last_retained + quiet, deadline) - anyio.current_time()
                if wait <= 0:
                    break
                with anyio.move_on_after(wait):
                    message = await anext(client.messages)
                    view.apply(message.topic.value, _payload(message))
                    # Live changes (a busy fleet sends some every few ms) are applied but
                    # do not hold the end back: only the retained burst is waited for.
                    if message.retain:
                        last_retained = anyio.current_time()
    except aiomqtt.MqttError as exc:
        raise BrokerUnreachable(f"{broker.url}: {mqtt_error_words(exc)}") from None
    return view


async def call(
    broker: Broker,
    room: str,
    command: dict[str, Any],
    *,
    prefix: str = "roomagent",
    site: str | None = None,
    answer_within: float = 30.0,
) -> dict[str, Any]:
    """Send one command (an id is added) and return the room's answer.

    Without a site the room is looked up by its retained availability. Raises NoAnswer when
    the room is offline or unknown or does not answer within `answer_within` seconds."""
    command_id = command.get("id") or f"fleet-{secrets.token_hex(8)}"
    try:
        async with tool_client(broker) as client:
            topics = await _locate(client, prefix, room, site)
            await client.subscribe(topics.cmd_result, qos=1)
            properties = Properties(PacketTypes.PUBLISH)
            properties.ResponseTopic = topics.cmd_result
            properties.CorrelationData = command_id.encode()
            payload = json.dumps({**command, "id": command_id})
            await client.publish(topics.cmd, payload, qos=1, properties=properties)
            with anyio.move_on_after(answer_within):
                async for message in client.messages:
                    answer = _answer(message, command_id)
                    if answer is not None:
                        return answer
    except aiomqtt.MqttError as exc:
        raise BrokerUnreachable(f"{broker.url}: {mqtt_error_words(exc)}") from None
    raise NoAnswer(f"no answer from {room} within {answer_within:g} s")


async def _locate(client: aiomqtt.Client, prefix: str, room: str, site: str | None) -> RoomTopics:
    """The room's topics; NoAnswer when its retained availability says offline or is absent."""
    await client.subscribe(f"{prefix}/{site or '+'}/{room}/availability", qos=1)
    found: dict[str, bytes] = {}
    with anyio.move_on_after(QUIET_S):
        async for message in client.messages:
            found[message.topic.value.split("/")[-3]] = _payload(message)
    await client.unsubscribe(f"{prefix}/{site or '+'}/{room}/availability")
    if not found:
        where = f" at site {site}" if site else ""
        raise NoAnswer(f"room {room}{where} is unknown to the broker (never connected)")
    if len(found) > 1:
        raise NoAnswer(f"room {room} exists at several sites ({', '.join(found)}); use --site")
    ((site_name, state),) = found.items()
    if state != b"online":
        raise NoAnswer(f"room {room} is offline")
    return RoomTopics(prefix, site_name, room)


def _answer(message: aiomqtt.Message, command_id: str) -> dict[str, Any] | None:
    try:
        data = json.loads(_payload(message))
    except ValueError:
        return None
    if isinstance(data, dict) and data.get("id") == command_id:
        return data
    return None


async def watch(
    broker: Broker,
    emit: Callable[[Change], None],
    *,
    prefix: str = "roomagent",
    site: str | None = None,
    view: FleetView | None = None,
    ready: Callable[[], None] | None = None,
) -> None:
    """Follow every room's changes until cancelled; `emit` gets each one. Reconnects are
    the caller's (the page retries, the CLI exits with code 2)."""
    view = view or FleetView(prefix, site)
    try:
        async with tool_client(broker) as client:
            kinds = ("availability", "status", "events", "cmd/result")
            await client.subscribe([(f, 1) for f in fleet_filters(prefix, site, kinds)])
            if ready is not None:
                ready()
            async for message in client.messages:
                change = view.apply(message.topic.value, _payload(message))
                if change is not None:
                    emit(change)
    except aiomqtt.MqttError as exc:
        raise BrokerUnreachable(f"{broker.url}: {mqtt_error_words(exc)}") from None


def _payload(message: aiomqtt.Message) -> bytes:
    payload = message.payload
    if isinstance(payload, bytes | bytearray):
        return bytes(payload)
    return str(payload).encode() if payload is not None else b""


def change_line(change: Change) -> str:
    """One line of `fleet watch`."""
    record, row = change.record, change.record.summary()
    where = f"{record.site}/{record.room}"
    if change.kind == "availability":
        return f"{where} {'online' if record.online else 'offline'}"
    if change.kind == "removed":
        return f"{where} removed"
    if change.kind == "status":
        meeting = row["meeting"]["code"] or "-"
        off = ",".join(row["devices_offline"]) or "-"
        return f"{where} status {row['state']} link={row['link']} meeting={meeting} offline={off}"
    event = change.event or {}
    if change.kind == "cmd/result":
        outcome = "ok" if event.get("ok") else f"failed: {event.get('error')}"
        return f"{where} result {event.get('id')} {outcome}"
    return f"{where} event {event.get('source')}/{event.get('kind')}: {event.get('message')}"
