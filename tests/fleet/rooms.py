"""A real agent (Rooms simulator, virtual keypad and camera) reporting to the test broker,
and an operator's helpers to read what the broker holds."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiomqtt
import anyio

from roomagent.app import App
from roomagent.config.model import MqttSection, RoomSection
from roomagent.demo import VirtualRoom, virtual_room
from roomagent.fleet.broker import Broker

from .conftest import Mosquitto, room_password

ROOMS_PASSWORD = "sim-rooms-pw-fleet"


def mqtt_section(mosquitto: Mosquitto, room: str, base: Path, **options: Any) -> MqttSection:
    secret = base / f"{room}.mqtt.pw"
    secret.write_text(room_password(room) + "\n")
    fields: dict[str, Any] = {
        "url": mosquitto.url,
        "username": room,
        "password_file": secret,
        "site": "hq",
        "keepalive": 5,
        **options,
    }
    return MqttSection(**fields)


@asynccontextmanager
async def fleet_room(
    mosquitto: Mosquitto,
    room: str,
    base: Path,
    *,
    room_section: RoomSection | None = None,
    **options: Any,
) -> AsyncIterator[tuple[App, VirtualRoom]]:
    """A running agent (the App; its room core is `.core`, its bridge `.fleet`) for `room`
    (the broker account; also `[room] id` unless `room_section` says otherwise) with `[mqtt]`
    pointing at the broker."""
    folder = base / room
    folder.mkdir(exist_ok=True)
    secret = folder / "rooms.pw"
    secret.write_text(ROOMS_PASSWORD + "\n")
    async with virtual_room(
        ROOMS_PASSWORD, web=False, discovery=False, event_delay=0.05, password_file=secret
    ) as virtual:
        config = virtual.config.model_copy(
            update={
                "room": room_section or RoomSection(name=f"Room {room}", id=room),
                "mqtt": mqtt_section(mosquitto, room, folder, **options),
                "state_dir": folder,
            }
        )
        app = App(config, base_dir=folder)
        async with anyio.create_task_group() as tg:
            await tg.start(app.run)
            with anyio.fail_after(10):
                await app.core.wait_settled()
            yield app, virtual
            tg.cancel_scope.cancel()


async def retained(broker: Broker, topic: str, quiet: float = 0.5) -> dict[str, bytes]:
    """Every retained message under a filter, as a fresh subscriber sees it."""
    found: dict[str, bytes] = {}
    async with broker.client("test-reader") as client:
        await client.subscribe(topic, qos=1)
        while True:
            with anyio.move_on_after(quiet) as idle:
                message = await anext(client.messages)
                found[message.topic.value] = bytes(message.payload)  # type: ignore[arg-type]
            if idle.cancelled_caught:
                return found


async def wait_retained(
    broker: Broker, topic: str, predicate: Any, limit: float = 10.0
) -> dict[str, Any]:
    """Until the retained JSON (or text) at `topic` satisfies `predicate`."""
    last: Any = None
    with anyio.fail_after(limit):
        while True:
            value = (await retained(broker, topic, 0.3)).get(topic)
            if value is not None:
                try:
                    last = json.loads(value)
                except ValueError:
                    last = value.decode()
                if predicate(last):
                    return {"value": last}
            await anyio.sleep(0.1)


async def until(predicate: Any, limit: float = 10.0) -> None:
    """Until `predicate()` holds (polled: the bridge's counters have no events to wait on)."""
    with anyio.fail_after(limit):
        while True:
            if predicate():
                return
            await anyio.sleep(0.05)


async def messages_on(client: aiomqtt.Client, count: int, limit: float = 10.0) -> list[Any]:
    out: list[Any] = []
    with anyio.fail_after(limit):
        async for message in client.messages:
            out.append((message.topic.value, json.loads(bytes(message.payload))))  # type: ignore[arg-type]
            if len(out) >= count:
                return out
    return out
