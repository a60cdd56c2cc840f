"""Which emulator plays each device family (the family registry: roomagent/devices/families.py).

One table here, so a family added in devices/ and forgotten here fails tests/devices/
test_families.py instead of at run time.
"""

from __future__ import annotations

from roomagent.devices.profiles import Profile
from roomagent.sim.camera import CameraEmulator
from roomagent.sim.emulator import SerialEmulator
from roomagent.sim.panel import PanelEmulator

EMULATORS: dict[str, type[CameraEmulator] | type[PanelEmulator]] = {
    "visca": CameraEmulator,
    "pelco-d": CameraEmulator,
    "pelco-p": CameraEmulator,
    "line": PanelEmulator,
}


def emulator_for(
    profile: Profile, address: int | None = None, port: str | None = None
) -> SerialEmulator:
    """The emulator for a profile's family, at `address` (the profile's default if None)."""
    try:
        cls = EMULATORS[profile.family]
    except KeyError:
        raise LookupError(f"no emulator for device family {profile.family!r}") from None
    if cls is CameraEmulator:
        return CameraEmulator(profile, address or profile.default_address, port)
    return PanelEmulator(profile, address, port)
