"""Errors raised by serial devices; `str(err)` is a plain sentence for people."""

from __future__ import annotations


class DeviceError(Exception):
    """A device refused or could not perform a command; `reason` says why in plain words."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class DeviceTimeout(DeviceError):
    """The device did not answer within the profile's timeout."""


class DeviceSuperseded(DeviceError):
    """Not sent: a newer command for the same movement (or its stop) came first. Newest
    press wins for camera positions: the older one is skipped, not failed for people."""


class DeviceOffline(DeviceError):
    """The port is closed (unplugged, not answering); nothing is queued for later."""


class PortOpenError(DeviceError):
    """The serial port could not be opened (missing, busy, not a tty)."""


class CommandUsageError(DeviceError):
    """Unknown command or bad argument: detected before anything is sent."""


class ProfileError(DeviceError):
    """A firmware profile is missing or invalid: names the file, the key and what is allowed."""

    def __init__(self, file: str, key: str, message: str) -> None:
        self.file = file
        self.key = key
        self.message = message
        super().__init__(": ".join(part for part in (file, key, message) if part))


class PortLost(DeviceOffline):
    """The open port went away (zero-byte read, EIO, termios error): the device is gone."""
