"""Config checks for the devices concern: every device's profile exists, is valid, and its
address fits the family; and whether a command the config would send (a preset, an LED, a
text line) or a button it expects fits the device's profile. Run by `check-config`."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from roomagent.devices.device import check_address, make_driver
from roomagent.devices.errors import CommandUsageError, ProfileError
from roomagent.devices.profiles import Profile, load_profile

if TYPE_CHECKING:
    from roomagent.config.model import AgentConfig, DeviceSection

Problem = tuple[tuple[str | int, ...], str]


def profile_dirs(config: AgentConfig, base_dir: Path) -> list[Path]:
    """The config's extra profile folders, relative ones taken from the config's folder."""
    return [d if d.is_absolute() else base_dir / d for d in config.profiles_dirs]


def device_profile(config: AgentConfig, device: DeviceSection, base_dir: Path) -> Profile:
    """The profile a configured device names (a name, or a path relative to the config)."""
    name = device.profile
    if ("/" in name or name.endswith(".toml")) and not Path(name).is_absolute():
        name = str(base_dir / name)
    return load_profile(name, profile_dirs(config, base_dir))


def profile_problems(config: AgentConfig, base_dir: Path) -> list[Problem]:
    problems: list[Problem] = []
    for i, device in enumerate(config.devices):
        try:
            profile = device_profile(config, device, base_dir)
        except ProfileError as exc:
            problems.append((("devices", i, "profile"), str(exc)))
            continue
        try:
            check_address(profile, device.address)
        except CommandUsageError as exc:
            problems.append((("devices", i, "address"), exc.reason))
    return problems


def command_problem(
    profile: Profile, address: int | None, command: str, args: Sequence[Any]
) -> str | None:
    """Why this device would refuse `command args` at run time, or None: the driver's own
    check before anything is sent (no port is opened)."""
    try:
        address = check_address(profile, address)
    except CommandUsageError:
        address = profile.default_address  # reported by profile_problems already
    try:
        make_driver(profile, address, None).prepare(command, list(args), {})
    except CommandUsageError as exc:
        return exc.reason
    return None


def button_problem(profile: Profile, button: int) -> str | None:
    """Why a panel with this profile never reports `button`, or None."""
    if profile.line is None:
        return None
    allowed = profile.line.buttons
    if allowed.contains(button):
        return None
    return f"{profile.name} has buttons {allowed.min}–{allowed.max} (got {button})"
