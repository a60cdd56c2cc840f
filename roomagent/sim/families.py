"""Which emulator plays each device family (the family registry: roomagent/devices/families.py).

One table here, so a family added in devices/ and forgotten here fails tests/devices/
test_families.py instead of at run time. Everything that plays a device (the CLI's `sim`,
the demo, the HIL rig) builds its emulator here: a new family is its module in devices/,
its emulator in this table, and its profiles.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from roomagent.devices.profiles import Profile
from roomagent.sim.camera import CameraEmulator
from roomagent.sim.emulator import SerialEmulator
from roomagent.sim.panel import PanelEmulator

# family → emulator(profile, address, port): the serial port to attach to, or a new pty.
EMULATORS: dict[str, Callable[[Profile, int, str | None], SerialEmulator]] = {
    "visca": CameraEmulator,
    "pelco-d": CameraEmulator,
    "pelco-p": CameraEmulator,
    "line": PanelEmulator,
}

E = TypeVar("E", bound=SerialEmulator)


def emulator_for(
    profile: Profile, address: int | None = None, port: str | None = None
) -> SerialEmulator:
    """The emulator for a profile's family, at `address` (the profile's default if None)."""
    try:
        make = EMULATORS[profile.family]
    except KeyError:
        raise LookupError(f"no emulator for device family {profile.family!r}") from None
    return make(profile, address or profile.default_address, port)


def emulator_as(
    cls: type[E], profile: Profile, address: int | None = None, port: str | None = None
) -> E:
    """`emulator_for`, for a caller that works the emulator's own controls (a keypad's
    buttons, a camera's position): LookupError when the profile's emulator is not a `cls`."""
    emulator = emulator_for(profile, address, port)
    if not isinstance(emulator, cls):
        raise LookupError(f"profile {profile.name} is a {profile.kind}: no {cls.__name__}")
    return emulator
