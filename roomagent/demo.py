"""`roomagent demo`: the whole room in one process, for a newcomer with no hardware.

A Rooms simulator, a virtual VISCA camera and a virtual ASCII keypad on pseudo-terminals,
the diagnostics page and the agent wired to them with the bundled `examples/demo.toml`.
The terminal drives the keypad (`3`+Enter taps button 3, `h3` holds it, `p7`/`r7` press and
release) and injects faults (roomagent/demo_terminal.py; `?` lists the keys). Without a
usable stdin (CI, tests) it just runs until signalled or `--duration`.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import socket
import sys
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, TextIO

import anyio

from roomagent.app import App, parse_room_config
from roomagent.config.model import AgentConfig
from roomagent.config.vocab import ButtonPhase
from roomagent.control.bindings import describe_table
from roomagent.control.core import RoomCore
from roomagent.demo_terminal import DemoTerminal, held_buttons, key_help
from roomagent.devices.profiles import load_profile
from roomagent.sim.camera import CameraEmulator
from roomagent.sim.families import emulator_as
from roomagent.sim.panel import PanelEmulator
from roomagent.sim.rooms import RoomsSimulator

PANEL_PROFILE = "generic-ascii-keypad"
CAMERA_PROFILE = "sony-visca"
DEFAULT_WEB_PORT = 8080
ROOMS_PASSWORD_ENV = "ROOMAGENT_DEMO_ROOMS_PASSWORD"
WEB_PASSWORD_ENV = "ROOMAGENT_DEMO_WEB_PASSWORD"
# The demo's meeting behind button 2 has a host who admits the room (`admit` in the terminal).
WAITING_ROOM_CODE = "123456789"
# How long the demo waits for the simulator link and the virtual devices before its intro.
SETTLE_SECONDS = 5.0


def demo_config_text() -> str:
    return (resources.files("roomagent") / "examples" / "demo.toml").read_text(encoding="utf-8")


def demo_config_source(rooms_url: str, panel_port: str, camera_port: str, web_port: int) -> str:
    """The bundled demo config's TOML with the simulator's and the virtual ports filled in
    (for a `roomagent run` process, which reads a file)."""
    text = demo_config_text()
    # The file is a valid config of its own (check-config passes); the "(demo)" values are
    # replaced, each found exactly once.
    slots = (
        ('url = "ws://127.0.0.1:6295"', f"url = {json.dumps(rooms_url)}"),
        ('port = "/dev/ttyUSB0"', f"port = {json.dumps(panel_port)}"),
        ('port = "/dev/ttyUSB1"', f"port = {json.dumps(camera_port)}"),
        ("port = 8080 ", f"port = {int(web_port)} "),
    )
    for old, new in slots:
        if text.count(old) != 1:
            raise RuntimeError(f"the bundled demo.toml lost its demo value {old!r}")
        text = text.replace(old, new)
    return text


def demo_config(rooms_url: str, panel_port: str, camera_port: str, web_port: int) -> AgentConfig:
    """The bundled demo config with the simulator's and the virtual ports filled in."""
    text = demo_config_source(rooms_url, panel_port, camera_port, web_port)
    return parse_room_config(text, "demo.toml")


@dataclass
class VirtualRoom:
    """A room with no hardware: simulator, virtual keypad and camera, and their config."""

    sim: RoomsSimulator
    camera: CameraEmulator
    panel: PanelEmulator
    config: AgentConfig


@contextlib.asynccontextmanager
async def virtual_room(
    rooms_password: str,
    *,
    web_port: int = 0,
    web: bool = True,
    discovery: bool = True,
    event_delay: float = 0.2,
    password_file: Path | None = None,
) -> AsyncIterator[VirtualRoom]:
    """Start the simulator and the emulators; the demo config points at them. Used by the
    demo, the tests and the benchmarks (the app is the caller's)."""
    camera = emulator_as(CameraEmulator, load_profile(CAMERA_PROFILE))
    panel = emulator_as(PanelEmulator, load_profile(PANEL_PROFILE))
    sim = RoomsSimulator(password=rooms_password, event_delay=event_delay)
    async with sim, camera, panel:
        config = demo_config(sim.url, panel.path, camera.path, web_port)
        rooms = config.rooms.model_copy(update={"password_file": password_file})
        config = config.model_copy(
            update={
                "rooms": rooms,
                "web": config.web.model_copy(update={"enabled": web}),
                "discovery": config.discovery.model_copy(update={"enabled": discovery}),
            }
        )
        yield VirtualRoom(sim, camera, panel, config)


def pick_web_port(preferred: int = DEFAULT_WEB_PORT) -> int:
    """`preferred` when free on 127.0.0.1, else 0 (the server picks one)."""
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", preferred))
        except OSError:
            return 0
    return preferred


def button_help(agent: RoomCore) -> list[str]:
    """One line per panel button: what a tap and a hold do, and which keys are held down."""
    by_button: dict[int, dict[str, str]] = {}
    for row in describe_table(agent.table):
        if row["device"] == "panel":
            by_button.setdefault(row["button"], {})[row["on"]] = row["text"]
    held = held_buttons(agent.table)
    lines = []
    for button, ons in sorted(by_button.items()):
        text = ons.get(ButtonPhase.PRESS, "-")
        if button in held:
            text += f"   (held: p{button} starts it, r{button} stops it; h{button} for 1.5 s)"
        if ButtonPhase.HOLD in ons:
            text += f"   (hold, h{button}: {ons[ButtonPhase.HOLD]})"
        lines.append(f"  {button:>2}  {text}")
    return lines


def led_help(agent: RoomCore) -> list[str]:
    """One line per keypad LED: the room states that light it."""
    by_led: dict[int, list[str]] = {}
    for rule in agent.config.feedback:
        if rule.device == "panel" and rule.led is not None:
            how = f" ({rule.mode})" if rule.mode != "on" else ""
            by_led.setdefault(rule.led, []).append(rule.when + how)
    return [f"  {led:>2}  {', '.join(whens)}" for led, whens in sorted(by_led.items())]


def panel_summary(panel: PanelEmulator) -> str:
    lit = [f"led {n} {mode}" for n, (mode, _) in sorted(panel.leds.items()) if mode != "off"]
    texts = [f"text {n} {text!r}" for n, text in sorted(panel.text.items()) if text]
    return ", ".join(texts + (lit or ["all LEDs off"]))


def intro(agent: RoomCore, sim: RoomsSimulator, web_line: str, out: TextIO) -> None:
    print("roomagent demo: a simulated room is running.", file=out)
    print(f"  Rooms simulator  {sim.url}", file=out)
    for name, device in agent.devices.items():
        print(f"  {device.kind:<7}  {name:<7} {device.port} ({device.profile.name})", file=out)
    print(web_line, file=out)
    print("Keypad buttons:", file=out)
    for line in button_help(agent):
        print(line, file=out)
    print("Keypad LEDs (lit while):", file=out)
    for line in led_help(agent):
        print(line, file=out)
    print("Keys (type one and Enter):", file=out)
    for line in key_help():
        print(line, file=out)
    print(
        "Type a button number and Enter to tap it. Panel LEDs and text appear below.",
        file=out,
        flush=True,
    )


async def read_commands(terminal: DemoTerminal) -> None:
    """Terminal lines → the terminal's keys. EOF (no terminal) ends reading, not the demo."""
    fd = sys.stdin.fileno()
    buffer = b""
    pollable = True
    while True:
        if pollable:
            try:
                await anyio.wait_readable(fd)
            except OSError:
                pollable = False  # a regular file or /dev/null: reads never block
        try:
            chunk = os.read(fd, 1024)
        except OSError:
            return
        if not chunk:
            return
        buffer += chunk
        while b"\n" in buffer:
            raw, buffer = buffer.split(b"\n", 1)
            command = " ".join(raw.decode(errors="replace").strip().lower().split())
            terminal.handle(command)
            if command in ("q", "quit", "exit"):
                return


async def run_demo(duration: float | None = None, web_port: int | None = None) -> int:
    out = sys.stdout
    rooms_password = secrets.token_urlsafe(12)
    web_password = secrets.token_urlsafe(9)
    # The agent reads secrets from the environment, as in production.
    os.environ[ROOMS_PASSWORD_ENV] = rooms_password
    os.environ[WEB_PASSWORD_ENV] = web_password
    port = pick_web_port() if web_port is None else web_port
    with anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
        async with virtual_room(rooms_password, web_port=port) as room:
            config, panel = room.config, room.panel
            room.sim.waiting_room_codes.add(WAITING_ROOM_CODE)
            app = App(config, base_dir=Path("."))
            agent = app.core
            async with anyio.create_task_group() as tg:
                await tg.start(app.run)
                with anyio.move_on_after(SETTLE_SECONDS):
                    await agent.wait_settled()
                intro(agent, room.sim, _web_line(app, config, web_password), out)
                print(f"[panel] now: {panel_summary(panel)}", file=out, flush=True)
                panel.on_change = lambda change: print(f"[panel] {change}", file=out, flush=True)
                stop = tg.cancel_scope.cancel
                terminal = DemoTerminal(agent, room.sim, panel, room.camera, tg, out, stop)
                agent.watch(terminal.on_update)
                tg.start_soon(terminal.echo_camera)
                if _stdin_usable():
                    tg.start_soon(read_commands, terminal)
                if duration is not None:
                    tg.start_soon(_stop_after, duration, stop)
                async for _ in signals:
                    break
                stop()
    print("roomagent demo: stopped.", file=out, flush=True)
    return 0


def _web_line(app: App, config: AgentConfig, password: str) -> str:
    if app.web is None or app.web.port is None:
        return "diagnostics: off (see the log above)"
    return f"diagnostics: {app.web.url} user={config.web.user} password={password}"


def _stdin_usable() -> bool:
    try:
        os.fstat(sys.stdin.fileno())
    except (OSError, ValueError, AttributeError):
        return False
    return True


async def _stop_after(seconds: float, stop: Callable[[], Any]) -> None:
    await anyio.sleep(seconds)
    stop()
