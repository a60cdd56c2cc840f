"""Sub-commands for the devices concern: `device`, `profiles`, `sim camera`, `sim panel`."""

from __future__ import annotations

import argparse
import functools
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import anyio

from roomagent.cli.common import EXIT_FAILED, EXIT_UNREACHABLE, Commands, fail
from roomagent.devices.camera import CAMERA_SPECS
from roomagent.devices.device import run_command
from roomagent.devices.errors import CommandUsageError, DeviceError, PortOpenError, ProfileError
from roomagent.devices.fdio import read_some
from roomagent.devices.panel import PANEL_SPECS
from roomagent.devices.profiles import Profile, list_profiles, load_profile


def register(commands: Commands) -> None:
    """`device`, `profiles`, and `sim camera|panel`."""
    cameras = ", ".join(s.usage for s in CAMERA_SPECS)
    panels = ", ".join(s.usage for s in PANEL_SPECS)
    p = commands.add(
        "device",
        cmd_device,
        "send one command to a camera or panel and wait for its outcome",
        "Send one command and wait for its outcome. Exit 0 on success, 1 on a "
        "device error, timeout or usage error, 2 when the port cannot be opened.",
        epilog=f"camera commands: {cameras}. panel commands: {panels}.",
    )
    p.add_argument("port", metavar="PORT", help="serial port, e.g. /dev/serial/by-id/…")
    p.add_argument("profile", metavar="PROFILE", help="profile name or .toml path")
    p.add_argument("name", metavar="COMMAND", help="a camera or panel command (listed below)")
    p.add_argument(
        "args", metavar="ARG", nargs="*", default=[], help="the command's arguments, e.g. 3"
    )
    p.add_argument("--address", type=int, default=None, help="override the profile's address")
    p.add_argument("--timeout", type=float, default=None, help="overall limit in seconds")
    p.add_argument("--profiles-dir", **PROFILES_DIR)

    p = commands.add("profiles", cmd_profiles, "list the firmware profiles")
    p.add_argument("--profiles-dir", **PROFILES_DIR)

    for kind in ("camera", "panel"):
        p = commands.add_sim(
            kind,
            cmd_sim,
            f"run a {kind} emulator on a pseudo-terminal",
            sim_kind=kind,
            default_log_level="warning",
        )
        p.add_argument("--profile", required=True, help="profile name or .toml path")
        p.add_argument(
            "--address", type=int, default=None, help="answer as this address (default: profile's)"
        )
        p.add_argument("--port", default=None, help="use this existing port (e.g. a socat pty)")
        p.add_argument("--profiles-dir", **PROFILES_DIR)


PROFILES_DIR: dict[str, Any] = {
    "action": "append",
    "default": [],
    "type": Path,
    "metavar": "DIR",
    "help": "also look for profiles in DIR (repeatable; before the built-in ones)",
}


def _profile(name: str, dirs: Sequence[Path]) -> Profile:
    try:
        return load_profile(name, dirs)
    except ProfileError as exc:
        fail(str(exc), EXIT_FAILED)


def _show(result: dict[str, Any]) -> None:
    for key, value in result.items():
        print(f"{key}: {value}")


def cmd_device(args: argparse.Namespace) -> int:
    profile = _profile(args.profile, args.profiles_dir)
    if args.timeout is not None and args.timeout <= 0:
        fail("--timeout must be more than 0 seconds")
    try:
        result = anyio.run(
            lambda: run_command(
                args.port, profile, args.name, args.args, address=args.address,
                limit_s=args.timeout,
            )
        )  # fmt: skip
    except CommandUsageError as exc:
        # The problem only; the whole vocabulary is in `roomagent device --help`.
        hint = (
            ""
            if "did you mean" not in exc.reason and "unknown" not in exc.reason
            else (f" (`roomagent device --help` lists the {profile.kind} commands)")
        )
        fail(exc.reason + hint)
    except PortOpenError as exc:
        fail(exc.reason, EXIT_UNREACHABLE)
    except DeviceError as exc:
        fail(f"{args.name}: {exc.reason}", EXIT_FAILED)
    if result:
        _show(result)
    else:
        print("ok")
    return 0


def cmd_profiles(args: argparse.Namespace) -> int:
    bad = 0
    for name in list_profiles(args.profiles_dir):
        try:
            p = load_profile(name, args.profiles_dir)
        except ProfileError as exc:
            bad += 1
            print(f"{name:26} INVALID  {exc}")
            continue
        print(f"{name:26} {p.family:8} {p.kind:7} {p.model}")
    return EXIT_FAILED if bad else 0


def cmd_sim(args: argparse.Namespace) -> int:
    profile = _profile(args.profile, args.profiles_dir)
    try:
        return anyio.run(_run_sim, args, profile)
    except OSError as exc:
        fail(f"cannot open {args.port}: {exc.strerror}", EXIT_UNREACHABLE)


async def _run_sim(args: argparse.Namespace, profile: Profile) -> int:
    from roomagent.sim.families import emulator_as, emulator_for
    from roomagent.sim.panel import PanelEmulator

    if args.sim_kind == "camera":
        if profile.kind != "camera":
            fail(f"profile {profile.name} is a {profile.kind}, not a camera")
        camera = emulator_for(profile, args.address, args.port)
        print(f"camera emulator ({profile.name}) on {camera.path}", flush=True)
        async with camera:
            await anyio.sleep_forever()
    if profile.kind != "panel":
        fail(f"profile {profile.name} is a {profile.kind}, not a panel")
    panel = emulator_as(PanelEmulator, profile, args.address, args.port)
    panel.on_change = lambda change: print(change, flush=True)
    print(f"panel emulator ({profile.name}) on {panel.path}", flush=True)
    print(
        "type a button number + Enter to tap it; h3 long press (hold), p3 press, r3 release",
        flush=True,
    )
    async with panel:
        await _keyboard(panel)
        await anyio.sleep_forever()  # stdin closed: keep serving the agent
    return 0


async def _keyboard(panel: Any) -> None:
    """Lines from stdin → button actions (fd readiness, like the serial ports)."""
    fd = sys.stdin.fileno()
    was_blocking = os.get_blocking(fd)
    os.set_blocking(fd, False)
    try:
        await _read_keys(fd, panel)
    finally:
        os.set_blocking(fd, was_blocking)  # the terminal is shared with the shell


async def _read_keys(fd: int, panel: Any) -> None:
    pending = b""
    actions = {"h": panel.long_press, "p": panel.press, "r": panel.release}
    while True:
        chunk = await read_some(fd)
        if not chunk:
            return
        pending += chunk
        *lines, pending = pending.split(b"\n")
        for raw in lines:
            word = raw.decode(errors="replace").strip().lower()
            action = actions.get(word[:1], panel.tap)
            number = word[1:] if word[:1] in actions else word
            if number.isdigit() and action == panel.long_press:
                panel.spawn(functools.partial(action, int(number)))  # keep reading keys
            elif number.isdigit():
                await action(int(number))
            elif word:
                print(f"? {word!r}: type 3, h3, p3 or r3", flush=True)
