"""Virtual serial ports for the device emulators: a pty pair behind a stable symlink.

The agent opens `.path` (a symlink, like /dev/serial/by-id/…); `unplug()` closes the master
(the agent sees EIO / a zero-byte read) and removes the link; `replug()` makes a new pty and
points the link at it, as a USB adapter coming back under the same by-id name would.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import termios
import tty
from pathlib import Path

import anyio

from roomagent.devices.fdio import FdClosed, read_some, write_all


class PortGone(Exception):
    """The emulator's side of the port is closed (unplugged)."""


class VirtualPort:
    """The device end of a serial line: a new pty pair, or an existing port (attach mode)."""

    def __init__(self, name: str = "roomagent-device", attach: str | None = None) -> None:
        self.attached = attach is not None
        self._dir: Path | None = None
        self.fd: int | None = None
        self._slave_fd: int | None = None
        self.plugged = anyio.Event()
        if attach is not None:
            self.path = attach
            self._open_existing(attach)
        else:
            self._dir = Path(tempfile.mkdtemp(prefix="roomagent-serial-"))
            self.path = str(self._dir / f"usb-{name}-if00")
            self.replug()

    def _open_existing(self, path: str) -> None:
        fd = os.open(path, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
        with contextlib.suppress(termios.error):
            tty.setraw(fd)
        self.fd = fd
        self.plugged.set()

    @property
    def device_path(self) -> str | None:
        """The pty slave the symlink points at (None while unplugged)."""
        return os.path.realpath(self.path) if self.fd is not None else None

    def replug(self) -> None:
        if self.attached:
            raise RuntimeError("an attached port cannot be replugged")
        if self.fd is not None:
            return
        master, slave = os.openpty()
        tty.setraw(slave)  # raw both ways until the agent sets its own termios
        tty.setraw(master)
        os.set_blocking(master, False)
        # Keep the slave open ourselves so the line stays up while the agent reopens it.
        self.fd, self._slave_fd = master, slave
        tmp = f"{self.path}.new"
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        os.symlink(os.ttyname(slave), tmp)
        os.replace(tmp, self.path)  # atomic: the name never points nowhere mid-replug
        self.plugged.set()

    def unplug(self) -> None:
        if self.attached:
            raise RuntimeError("an attached port cannot be unplugged")
        self._close_fds()
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)
        self.plugged = anyio.Event()

    def _close_fds(self) -> None:
        fd, slave, self.fd, self._slave_fd = self.fd, self._slave_fd, None, None
        if fd is not None:
            with contextlib.suppress(RuntimeError):  # no event loop (closing after a test)
                anyio.notify_closing(fd)
            os.close(fd)
        if slave is not None:
            os.close(slave)

    def close(self) -> None:
        self._close_fds()
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)

    async def read(self) -> bytes:
        fd = self.fd
        if fd is None:
            raise PortGone
        try:
            data = await read_some(fd)
        except (FdClosed, OSError):  # unplugged, or EIO: nobody holds the other end
            raise PortGone from None
        if not data:
            raise PortGone
        return data

    async def write(self, data: bytes) -> None:
        fd = self.fd
        if fd is None:
            return  # unplugged: bytes vanish, as on a pulled cable
        with contextlib.suppress(FdClosed, OSError):
            await write_all(fd, data)
