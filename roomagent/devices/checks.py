"""Config checks for the devices concern: every device's profile exists, is valid, and its
address fits the family. Called by roomagent.config.loader (key path, message)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from roomagent.devices.device import check_address
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
