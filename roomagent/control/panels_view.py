"""What the page's virtual panels and PTZ pads need: each panel's buttons (from the bindings)
and what it shows now (LEDs, text lines, as the panel took them), each camera's presets and
what it reports (power, firmware), and offline reasons in words a person can act on.

The room's people see the panel, so the page mirrors the panel — not what the agent meant to
send: a frame the panel never took is not shown (Companion's button grid is the model).
"""

from __future__ import annotations

import errno
import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import anyio
from anyio.abc import TaskGroup

from roomagent.config.model import FeedbackSection
from roomagent.control.actions import CameraPreset
from roomagent.control.bindings import Bound, Key, describe_table
from roomagent.devices.device import Device, DeviceEvent
from roomagent.devices.errors import DeviceError

log = logging.getLogger(__name__)

# How often a camera's power state is asked again (a remote control can switch it too).
CAMERA_POLL_SECONDS = 15.0
# Presets the pad always offers; presets named by the bindings are added.
PAD_PRESETS = tuple(range(1, 7))
MAX_PAD_PRESETS = 12
POWER_COMMANDS = ("power_on", "power_off")


def offline_words(kind: str, reason: str | None, port: str) -> tuple[str, str]:
    """(a sentence a person can act on, the technical detail) for an offline device."""
    what = "camera" if kind == "camera" else "panel"
    detail = reason or "not answering"
    text = detail.lower()
    where = detail if port in detail else f"{port}: {detail}"  # the path once, not twice
    if reason is None or reason == "not opened yet":
        return f"Connecting to the {what}…", port
    if "no such file" in text or "not found" in text or f"errno {errno.ENOENT}" in text:
        return f"USB adapter for the {what} not found — check the cable", where
    if "busy" in text or "resource temporarily" in text or "locked" in text:
        return (
            f"The {what}'s port is in use by another program — close it (minicom, a second agent)",
            where,
        )
    if "permission" in text:
        return (
            f"No permission to open the {what}'s port — add the agent's user to the dialout group",
            where,
        )
    if "port lost" in text or "input/output" in text:
        return f"The {what} was unplugged — check the cable and the USB adapter", detail
    if "keepalive" in text or "handshake" in text or "no answer" in text:
        return (
            f"The {what} does not answer — check that it is powered and its cable is in",
            detail,
        )
    if detail == "stopped":
        return f"The {what} was closed by the agent", detail
    return f"The {what} is offline", detail


def _panel_buttons(rows: Sequence[dict[str, Any]], panel: str) -> list[dict[str, Any]]:
    """One entry per bound button: what a tap, a hold and a held press do."""
    buttons: dict[int, dict[str, Any]] = {}
    for row in rows:
        if row["device"] != panel:
            continue
        entry = buttons.setdefault(row["button"], {"button": row["button"]})
        entry[row["on"]] = {"action": row["action"], "text": row["text"]}
    return [buttons[n] for n in sorted(buttons)]


def _lit(leds: Mapping[int, tuple[str, str | None]]) -> list[dict[str, Any]]:
    return [{"led": n, "mode": m, "colour": colour} for n, (m, colour) in sorted(leds.items())]


class PanelsView:
    """Keeps the panel mirror and the camera reports; `status()` is what the page reads."""

    def __init__(
        self,
        devices: Mapping[str, Device],
        table: Callable[[], Mapping[Key, Bound]],
        rules: Callable[[], Sequence[FeedbackSection]],
        changed: Callable[[dict[str, Any]], None],
    ) -> None:
        self.devices = devices
        self._table = table
        self._rules = rules
        self._changed = changed
        self.reports: dict[str, dict[str, Any]] = {}  # camera → power, firmware, error
        self._tg: TaskGroup | None = None
        self._wake: dict[str, anyio.Event] = {}

    def start(self, tg: TaskGroup) -> None:
        self._tg = tg
        for name, device in self.devices.items():
            device.watch(self._watcher(name))
            if device.kind == "camera":
                self._wake[name] = anyio.Event()
                tg.start_soon(self._poll_camera, name, device)

    def _watcher(self, name: str) -> Callable[[DeviceEvent], None]:
        def on_event(ev: DeviceEvent) -> None:
            if ev.kind == "shown":
                self._changed({"type": "panel", "panel": name})
            elif ev.kind == "online" and name in self._wake:
                self.ask_camera(name)
            elif ev.kind == "offline" and name in self.reports:
                self.reports[name] = {}  # no stale power state for a camera we cannot reach

        return on_event

    def ask_camera(self, name: str) -> None:
        """Ask the camera what it reports now (after it came online or was switched)."""
        wake = self._wake.get(name)
        if wake is not None:
            wake.set()

    def after_command(self, device: str, command: str) -> None:
        if command in POWER_COMMANDS:
            self.ask_camera(device)

    async def _poll_camera(self, name: str, device: Device) -> None:
        while True:
            with anyio.move_on_after(CAMERA_POLL_SECONDS):
                await self._wake[name].wait()
            self._wake[name] = anyio.Event()
            if not device.online:
                continue
            report = dict(self.reports.get(name) or {})
            for command in ("inquire_power", "inquire_version"):
                if command == "inquire_version" and "firmware" in report:
                    continue  # the firmware does not change while it runs
                try:
                    reply = await device.command(command)
                except DeviceError as exc:
                    report["error"] = exc.reason
                    break
                report.pop("error", None)
                if "power" in reply:
                    report["power"] = reply["power"]
                elif "rom" in reply:
                    vendor, model = reply["vendor"], reply["model"]
                    report["firmware"] = f"ROM {reply['rom']} (vendor {vendor}, model {model})"
            if report != self.reports.get(name):
                self.reports[name] = report
                self._changed({"type": "camera", "camera": name})

    def status(self) -> dict[str, Any]:
        rows = describe_table(dict(self._table()))
        rules = list(self._rules())
        panels, cameras = [], []
        for name, device in self.devices.items():
            if device.kind == "panel":
                panels.append(self._panel(name, device, rows, rules))
            else:
                cameras.append(self._camera(name, device))
        return {"panels": panels, "cameras": cameras}

    def _panel(
        self, name: str, device: Device, rows: Sequence[dict[str, Any]],
        rules: Sequence[FeedbackSection],
    ) -> dict[str, Any]:  # fmt: skip
        shown = device.shown() or {"leds": {}, "texts": {}}
        lines = {r.text_line for r in rules if r.device == name and r.text_line is not None}
        lines |= set(shown["texts"])
        leds = {r.led for r in rules if r.device == name and r.led is not None}
        return {
            "name": name,
            "online": device.online,
            "buttons": _panel_buttons(rows, name),
            "leds": _lit(shown["leds"]),
            "led_numbers": sorted(leds | set(shown["leds"])),
            "texts": [{"line": n, "text": shown["texts"].get(n, "")} for n in sorted(lines)],
            "hold_ms": device.profile.line.hold_ms if device.profile.line else 800,
        }

    def _camera(self, name: str, device: Device) -> dict[str, Any]:
        bound = {
            step.preset
            for entry in self._table().values()
            for step in entry.steps
            if isinstance(step, CameraPreset) and step.camera == name
        }
        presets = sorted(set(PAD_PRESETS) | bound)[:MAX_PAD_PRESETS]
        return {
            "name": name,
            "online": device.online,
            "presets": presets,
            "report": dict(self.reports.get(name) or {}),
        }

    def device_words(self, name: str) -> dict[str, str] | None:
        """The offline sentence and detail for one device, None while it is online."""
        device = self.devices.get(name)
        if device is None or device.online:
            return None
        text, detail = offline_words(device.kind, device.offline_reason, device.port)
        return {"text": text, "detail": detail}
