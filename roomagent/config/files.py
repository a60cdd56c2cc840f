"""Reading a small text file (the config, a secret) without trusting what the path names.

A path may name /dev/zero, a FIFO nobody writes, a device, a huge log or a binary: each is
refused with a reason in words (FileProblem) instead of hanging, eating memory or raising
deep inside a task group. Opened non-blocking, checked with fstat on the open descriptor (no
race with a swapped file), read up to a limit.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

CONFIG_MAX_BYTES = 1 << 20  # a room's config is a few KB
SECRET_MAX_BYTES = 4096  # a password or token; a certificate bundle is not a secret file


class FileProblem(Exception):
    """Why a file cannot be used, in words (never its content): `cannot read PATH: why` or
    `PATH is …`; `reason` is the part without the path."""

    def __init__(self, path: Path, reason: str, *, unreadable: bool = False) -> None:
        self.reason = f"cannot read: {reason}" if unreadable else reason
        super().__init__(f"cannot read {path}: {reason}" if unreadable else f"{path} {reason}")


def read_text_file(path: Path, max_bytes: int) -> tuple[str, int]:
    """The UTF-8 text of a regular file of at most `max_bytes`, and its permission bits."""
    flags = os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise FileProblem(path, exc.strerror or "error", unreadable=True) from None
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise FileProblem(path, "is a folder, not a file")
        if not stat.S_ISREG(info.st_mode):
            raise FileProblem(path, "is not a regular file (a device, FIFO or socket)")
        if info.st_size > max_bytes:
            raise FileProblem(path, f"is too big ({info.st_size} bytes; at most {max_bytes})")
        data = b""
        while len(data) <= max_bytes:
            chunk = os.read(fd, max_bytes + 1 - len(data))
            if not chunk:
                break
            data += chunk
    except OSError as exc:
        raise FileProblem(path, exc.strerror or "error", unreadable=True) from None
    finally:
        os.close(fd)
    if len(data) > max_bytes:
        raise FileProblem(path, f"is too big (more than {max_bytes} bytes)")
    if b"\0" in data:
        raise FileProblem(path, "holds binary data, not text")
    try:
        return data.decode("utf-8"), stat.S_IMODE(info.st_mode)
    except UnicodeDecodeError:
        raise FileProblem(path, "is not UTF-8 text") from None
