"""Non-blocking reads and writes on a file descriptor, waiting on readiness in the event loop.

Shared by the serial transport and the emulators' pty ends: no thread, no sleep loop.
"""

from __future__ import annotations

import os

import anyio

READ_CHUNK = 4096


class FdClosed(Exception):
    """The fd was closed (by us) while a task waited on it."""


async def read_some(fd: int, size: int = READ_CHUNK) -> bytes:
    """The next bytes; b"" at end of file; OSError (e.g. EIO) from the kernel as is."""
    while True:
        try:
            return os.read(fd, size)
        except BlockingIOError:
            try:
                await anyio.wait_readable(fd)
            except (anyio.ClosedResourceError, OSError):
                raise FdClosed from None


async def write_all(fd: int, data: bytes) -> int:
    """Write every byte, waiting for room when the kernel buffer is full; returns the count."""
    view = memoryview(data)
    while view:
        try:
            view = view[os.write(fd, view) :]
        except BlockingIOError:
            try:
                await anyio.wait_writable(fd)
            except (anyio.ClosedResourceError, OSError):
                raise FdClosed from None
    return len(data)
