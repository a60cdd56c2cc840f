"""Serial devices: cameras (VISCA, Pelco-D/P) and panels (line protocols) from firmware profiles."""

# The family modules register their families (camera first: the order error messages list).
from roomagent.devices import camera, panel  # noqa: F401
from roomagent.devices.base import DeviceEvent
from roomagent.devices.device import Device, run_command
from roomagent.devices.errors import (
    CommandUsageError,
    DeviceError,
    DeviceOffline,
    DeviceTimeout,
    PortOpenError,
    ProfileError,
)
from roomagent.devices.profiles import Profile, list_profiles, load_profile

__all__ = [
    "CommandUsageError",
    "Device",
    "DeviceError",
    "DeviceEvent",
    "DeviceOffline",
    "DeviceTimeout",
    "PortOpenError",
    "Profile",
    "ProfileError",
    "list_profiles",
    "load_profile",
    "run_command",
]
