"""The room under test: real parts where ROOMAGENT_HIL_* point at them, virtual ones elsewhere.

Virtual parts are the Rooms simulator and device emulators attached (`port=`) to the far end of
a socat pty pair, so the agent opens a real pseudo-terminal exactly as it opens /dev/ttyUSB0.
The agent itself is always the real one, wired with the bundled demo config (its bindings and
feedback are what the scenarios press and read).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
from anyio.abc import TaskGroup, TaskStatus

from hil.socat_link import SocatLink
from roomagent.app import App
from roomagent.config.model import AgentConfig, BindingSection
from roomagent.config.vocab import ButtonPhase
from roomagent.control.core import RoomCore as Agent
from roomagent.control.state import RoomState
from roomagent.demo import CAMERA_PROFILE, PANEL_PROFILE, demo_config
from roomagent.devices.base import DeviceEvent
from roomagent.devices.profiles import load_profile
from roomagent.sim.camera import CameraEmulator
from roomagent.sim.emulator import SerialEmulator
from roomagent.sim.families import emulator_for
from roomagent.sim.panel import PanelEmulator
from roomagent.sim.pty import VirtualPort
from roomagent.sim.rooms import RoomsSimulator

ENV_ROOMS_URL = "ROOMAGENT_HIL_ROOMS_URL"
ENV_ROOMS_PASSWORD = "ROOMAGENT_HIL_ROOMS_PASSWORD"
ENV_CAMERA = "ROOMAGENT_HIL_CAMERA"
ENV_PANEL = "ROOMAGENT_HIL_PANEL"
ENV_MEETING_CODE = "ROOMAGENT_HIL_MEETING_CODE"
DEFAULT_MEETING_CODE = "123456789"  # what the demo config's button 2 joins

SIM_PASSWORD = "hil-sim-password"
# Virtual mode: a fast simulator and short keepalives keep the suite quick; a real Rooms
# client keeps the demo config's pace.
SIM_EVENT_DELAY_S = 0.05
VIRTUAL_PING_INTERVAL_S = 1.0
VIRTUAL_BACKOFF_CAP_S = 1.0
NOTICE_S = 1.0
# How long a scenario waits for the room to show something (a person gets longer).
WAIT_S = 8.0
SETTLE_S = 15.0


class HilConfigError(ValueError):
    """A ROOMAGENT_HIL_* variable that cannot be used; the message says which and why."""


class RigNotReady(RuntimeError):
    """The room did not come up: what was offline and why."""


@dataclass(frozen=True)
class PortSpec:
    """`/dev/ttyUSB0:sony-visca`: a real port and the profile of what is plugged into it."""

    path: str
    profile: str

    @classmethod
    def parse(cls, variable: str, value: str) -> PortSpec:
        path, sep, profile = value.rpartition(":")
        if not sep or not path or not profile:
            raise HilConfigError(
                f"{variable}={value!r}: expected PORT:PROFILE, e.g. /dev/ttyUSB0:sony-visca"
            )
        try:
            load_profile(profile)
        except Exception as exc:
            raise HilConfigError(f"{variable}: {exc}") from None
        if not os.path.exists(path):
            raise HilConfigError(f"{variable}: no such port {path}")
        return cls(path, profile)


@dataclass(frozen=True)
class HilSettings:
    rooms_url: str | None = None
    rooms_password: str | None = None
    camera: PortSpec | None = None
    panel: PortSpec | None = None
    meeting_code: str = DEFAULT_MEETING_CODE

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> HilSettings:
        url = env.get(ENV_ROOMS_URL) or None
        password = env.get(ENV_ROOMS_PASSWORD)
        if url and password is None:
            raise HilConfigError(f"{ENV_ROOMS_URL} is set but {ENV_ROOMS_PASSWORD} is not")
        camera = env.get(ENV_CAMERA)
        panel = env.get(ENV_PANEL)
        code = env.get(ENV_MEETING_CODE) or DEFAULT_MEETING_CODE
        if not code.isdigit():
            raise HilConfigError(f"{ENV_MEETING_CODE} must be digits only")
        return cls(
            rooms_url=url,
            rooms_password=password,
            camera=PortSpec.parse(ENV_CAMERA, camera) if camera else None,
            panel=PortSpec.parse(ENV_PANEL, panel) if panel else None,
            meeting_code=code,
        )

    def describe(self) -> str:
        def port(spec: PortSpec | None) -> str:
            return f"{spec.path} ({spec.profile})" if spec else "virtual"

        rooms = f"real {self.rooms_url}" if self.rooms_url else "simulated"
        parts = [f"Rooms {rooms}", f"camera {port(self.camera)}", f"panel {port(self.panel)}"]
        return "HIL: " + ", ".join(parts)


class LinkedEmulator:
    """An emulator on the device end of a socat cable; unplug/replug pull the whole cable.

    The emulated device keeps its state across a replug (a camera whose USB adapter was pulled
    still knows its presets); only the connection goes.
    """

    def __init__(self, link: SocatLink, emulator: SerialEmulator, tg: TaskGroup) -> None:
        self.link = link
        self.emulator = emulator
        self._tg = tg
        self._scope: anyio.CancelScope | None = None

    @classmethod
    async def start(
        cls, tg: TaskGroup, folder: Path, name: str, make: Callable[[str], SerialEmulator]
    ) -> LinkedEmulator:
        link = SocatLink(folder, name)
        await anyio.to_thread.run_sync(link.plug)
        linked = cls(link, make(str(link.device_end)), tg)
        await tg.start(linked._serve)
        return linked

    @property
    def agent_port(self) -> str:
        return str(self.link.agent_end)

    async def _serve(self, *, task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        with anyio.CancelScope() as scope:
            self._scope = scope
            await self.emulator.run(task_status=task_status)

    def unplug(self) -> None:
        # All in one step, no await: the emulator must not read the dead port in between.
        if self._scope is not None:
            self._scope.cancel()
            self._scope = None
        self.emulator.port.close()
        self.emulator.on_unplug()
        self.link.unplug()

    async def replug(self) -> None:
        await anyio.to_thread.run_sync(self.link.replug)
        self.emulator.port = VirtualPort(self.link.name, attach=str(self.link.device_end))
        await self._tg.start(self._serve)

    def close(self) -> None:
        if self._scope is not None:
            self._scope.cancel()
        self.emulator.port.close()
        self.link.unplug()


@dataclass
class Shown:
    """What the panel shows: LED modes and text lines."""

    leds: dict[int, str] = field(default_factory=dict)
    texts: dict[int, str] = field(default_factory=dict)

    def led(self, n: int) -> str:
        return self.leds.get(n, "off")

    def text(self, n: int) -> str:
        return self.texts.get(n, "")


class Rig:
    """The agent and whatever it talks to, plus the observations scenarios need."""

    def __init__(self, settings: HilSettings, agent: Agent, tg: TaskGroup) -> None:
        self.settings = settings
        self.agent = agent
        self.tg = tg
        self.sim: RoomsSimulator | None = None
        self.camera: LinkedEmulator | None = None
        self.panel: LinkedEmulator | None = None
        self.button_events: list[tuple[float, int, ButtonPhase]] = []  # (time, button, action)
        self.rooms_events: list[tuple[float, str]] = []  # (time, "Meeting event X")
        self.wire: list[tuple[float, str, dict[str, Any]]] = []  # simulator: (time, method, params)
        self.panel_changes: list[tuple[float, str]] = []  # virtual panel: (time, "led 1 on")
        self._changed = anyio.Event()
        self._unwatch_panel: Callable[[], None] | None = None

    # ---- parts ----

    @property
    def camera_emulator(self) -> CameraEmulator | None:
        emulator = self.camera.emulator if self.camera else None
        return emulator if isinstance(emulator, CameraEmulator) else None

    @property
    def panel_emulator(self) -> PanelEmulator | None:
        emulator = self.panel.emulator if self.panel else None
        return emulator if isinstance(emulator, PanelEmulator) else None

    # ---- change notification (one event for agent updates and panel frames) ----

    def changed(self, *_: Any) -> None:
        event, self._changed = self._changed, anyio.Event()
        event.set()

    def _on_agent(self, update: dict[str, Any]) -> None:
        event = update.get("event") or {}
        if update.get("type") == "event" and event.get("source") == "rooms":
            if event.get("kind") == "event":
                self.rooms_events.append((anyio.current_time(), event["message"]))
        self.changed()

    def _on_panel_change(self, change: str) -> None:
        self.panel_changes.append((anyio.current_time(), change))
        self.changed()

    async def _record_wire(self, sim: RoomsSimulator) -> None:
        while True:
            method, params = await sim.next_call()
            self.wire.append((anyio.current_time(), method, params))
            self.changed()

    def _on_button(self, ev: DeviceEvent) -> None:
        if ev.kind == "button" and ev.button is not None and ev.action is not None:
            self.button_events.append((anyio.current_time(), ev.button, ev.action))
        self.changed()

    def watch_panel_device(self) -> None:
        """Device objects are rebuilt when the agent restarts its parts: re-attach."""
        if self._unwatch_panel is not None:
            self._unwatch_panel()
        device = self.agent.devices.get("panel")
        self._unwatch_panel = device.watch(self._on_button) if device else None

    async def until(self, predicate: Callable[[], bool], within: float = WAIT_S) -> None:
        """Until `predicate()` holds, re-checked on every agent update and panel frame."""
        with anyio.fail_after(within):
            while not predicate():
                await self._changed.wait()

    async def until_polled(self, predicate: Callable[[], bool], within: float = WAIT_S) -> None:
        """For emulator state with no change event (camera movement): poll briefly."""
        with anyio.fail_after(within):
            while not predicate():  # noqa: ASYNC110 (the camera emulator offers no event)
                await anyio.sleep(0.005)

    # ---- what the panel shows ----

    def shown(self) -> Shown:
        emulator = self.panel_emulator
        if emulator is not None:
            return Shown({n: mode for n, (mode, _) in emulator.leds.items()}, dict(emulator.text))
        # A real panel: what the agent has had acknowledged is what the panel shows.
        feedback = self.agent.panels.get("panel")
        if feedback is None:
            return Shown()
        frame = feedback.desired(anyio.current_time())
        return Shown({n: mode for n, (mode, _) in frame.leds.items()}, dict(frame.texts))

    async def panel_shows(
        self, predicate: Callable[[Shown], bool], within: float = WAIT_S
    ) -> float:
        """Until the panel shows what `predicate` wants; returns when (anyio time)."""
        await self.until(lambda: predicate(self.shown()), within)
        feedback = self.agent.panels.get("panel")
        if self.panel_emulator is None and feedback is not None:
            with anyio.fail_after(within):
                await feedback.wait_synced()
        return anyio.current_time()

    async def back_to_idle(self) -> None:
        """Leave the room as the next scenario expects it: in no meeting. A real Rooms client
        keeps its state between scenarios (a fresh simulator starts idle anyway)."""
        with anyio.move_on_after(WAIT_S):
            await self.until(lambda: self.state() is not RoomState.JOINING)
        state = self.state()
        session = self.agent.session
        if state is RoomState.WAITING_ROOM:
            action = "meeting.leave_waiting_room"
        elif state is RoomState.IN_MEETING:
            host = session is not None and session.mirror.is_host
            action = "meeting.dissolve" if host else "meeting.leave"
        else:
            return
        await self.agent.perform({"action": action})
        await self.until(lambda: self.state() is RoomState.IDLE)

    @staticmethod
    def agent_clock() -> float:
        return anyio.current_time()

    def state(self) -> RoomState:
        return self.agent.machine.view.state

    def meeting_calls(self, action: str | None = None) -> list[dict[str, Any]]:
        if self.sim is None:
            return []
        return [
            p
            for _, p in self.sim.calls("Call/Meeting")
            if action is None or p.get("action") == action
        ]

    async def call_sent(self, action: str, since: float) -> float | None:
        """Until the simulator got Call/Meeting `action` after `since`; returns when (None:
        a real Rooms client, whose wire we cannot see)."""
        if self.sim is None:
            return None

        def sent() -> float | None:
            return next(
                (t for t, m, p in self.wire if t >= since and p.get("action") == action), None
            )

        await self.until(lambda: sent() is not None)
        return sent()

    def rooms_event_time(self, name: str, since: float) -> float | None:
        return next((t for t, m in self.rooms_events if t >= since and m.endswith(name)), None)

    def actions(self, button: int) -> list[dict[str, Any]]:
        """The agent's finished (or refused) actions started by panel button `button`."""
        return [
            e
            for e in self.agent.recent_events(500)
            if e["source"] == "panel"
            and e["kind"] in ("action", "refused")
            and e["message"].startswith(f"button {button}: ")
        ]

    async def action_done(self, button: int, before: int, within: float = WAIT_S) -> dict[str, Any]:
        """Until a new action of `button` finished (`before`: how many there were)."""
        await self.until(lambda: len(self.actions(button)) > before, within)
        return self.actions(button)[-1]


def agent_config(
    settings: HilSettings, rooms_url: str, password_file: Path, camera_port: str, panel_port: str
) -> AgentConfig:
    """The demo's bindings and feedback on these ports; real profiles where the lab gave them."""
    config = demo_config(rooms_url, panel_port, camera_port, 0)
    rooms = config.rooms.model_copy(update={"password_file": password_file})
    if settings.rooms_url is None:
        rooms = rooms.model_copy(
            update={"ping_interval": VIRTUAL_PING_INTERVAL_S, "backoff_cap": VIRTUAL_BACKOFF_CAP_S}
        )
    profiles = {
        "camera": settings.camera.profile if settings.camera else CAMERA_PROFILE,
        "panel": settings.panel.profile if settings.panel else PANEL_PROFILE,
    }
    devices = [d.model_copy(update={"profile": profiles[d.name]}) for d in config.devices]
    bindings = [_with_meeting_code(b, settings.meeting_code) for b in config.bindings]
    return config.model_copy(
        update={
            "rooms": rooms,
            "devices": devices,
            "bindings": bindings,
            "web": config.web.model_copy(update={"enabled": False}),
            "discovery": config.discovery.model_copy(update={"enabled": False}),
        }
    )


def _with_meeting_code(binding: BindingSection, code: str) -> BindingSection:
    if binding.action != "meeting.join":
        return binding
    copy = binding.model_copy(deep=True)
    assert copy.__pydantic_extra__ is not None
    copy.__pydantic_extra__["meeting_code"] = code
    return copy


@contextlib.asynccontextmanager
async def running_rig(settings: HilSettings, folder: Path) -> AsyncIterator[Rig]:
    """Start the virtual parts, then the agent; yield once the room has settled."""
    password_file = folder / "rooms.pw"
    password_file.write_text((settings.rooms_password or SIM_PASSWORD) + "\n")
    password_file.chmod(0o600)
    problem = ""
    async with contextlib.AsyncExitStack() as stack:
        sim: RoomsSimulator | None = None
        if settings.rooms_url is None:
            sim = await stack.enter_async_context(
                RoomsSimulator(password=SIM_PASSWORD, event_delay=SIM_EVENT_DELAY_S)
            )
        tg = await stack.enter_async_context(anyio.create_task_group())
        stack.callback(tg.cancel_scope.cancel)  # runs first on exit: stops agent and emulators
        camera = panel = None
        if settings.camera is None:
            profile = load_profile(CAMERA_PROFILE)
            camera = await LinkedEmulator.start(
                tg, folder, "camera", lambda p: emulator_for(profile, port=p)
            )
            stack.callback(camera.close)
        if settings.panel is None:
            panel_profile = load_profile(PANEL_PROFILE)
            panel = await LinkedEmulator.start(
                tg, folder, "panel", lambda p: emulator_for(panel_profile, port=p)
            )
            stack.callback(panel.close)
        config = agent_config(
            settings,
            settings.rooms_url or (sim.url if sim else ""),
            password_file,
            settings.camera.path if settings.camera else camera.agent_port,  # type: ignore[union-attr]
            settings.panel.path if settings.panel else panel.agent_port,  # type: ignore[union-attr]
        )
        app = App(config, base_dir=folder, notice_seconds=NOTICE_S)
        agent = app.core
        rig = Rig(settings, agent, tg)
        rig.sim, rig.camera, rig.panel = sim, camera, panel
        agent.watch(rig._on_agent)
        emulator = rig.panel_emulator
        if emulator is not None:
            emulator.on_change = rig._on_panel_change
        if sim is not None:
            tg.start_soon(rig._record_wire, sim)
        await tg.start(app.run)
        with anyio.move_on_after(SETTLE_S) as settling:
            await agent.wait_settled()
        if settling.cancelled_caught:
            problem = unsettled(agent)
        else:
            rig.watch_panel_device()
            await rig.back_to_idle()
            yield rig
            if rig.agent.status()["rooms"]["link"] == "ready":
                await rig.back_to_idle()
    if problem:  # raised here, outside the task group, so it reads as one plain sentence
        raise RigNotReady(problem)


def unsettled(agent: Agent) -> str:
    status = agent.status()
    rooms = status["rooms"]
    parts = [
        f"Rooms {rooms['link']}" + (f" ({rooms['last_error']})" if rooms["last_error"] else "")
    ]
    parts += [f"{d['name']} offline: {d['reason']}" for d in status["devices"] if not d["online"]]
    return f"the room did not settle within {SETTLE_S:g} s: " + "; ".join(parts)


# ---- what the demo config's feedback rules show (LED 1/3 meeting, 16 trouble; text 1/2) ----


def shows_in_meeting(s: Shown) -> bool:
    return s.led(1) == "on" and s.led(3) == "on" and s.text(1).startswith("In meeting")


def shows_idle(s: Shown) -> bool:
    return s.led(1) == "off" and s.led(3) == "off" and s.text(1).endswith(": ready")


def shows_rooms_offline(s: Shown) -> bool:
    return s.led(16) == "blink" and s.text(1) == "Rooms client offline"


def shows_device_offline(name: str) -> Callable[[Shown], bool]:
    return lambda s: s.led(16) == "on" and name in s.text(2)


def shows_all_well(s: Shown) -> bool:
    return s.led(16) == "off" and not s.text(2)
