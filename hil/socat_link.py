"""A virtual serial cable: two linked pseudo-terminals made by socat, with stable names.

`unplug()` ends socat (both ends vanish: the agent sees EIO, like a USB adapter pulled out);
`replug()` starts it again under the same names, like plugging the adapter back in. The agent
opens `agent_end` (its "/dev/serial/by-id/…"); an emulator attaches to `device_end`.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path
from types import TracebackType

# socat makes both ptys within milliseconds; a loaded CI box gets some slack.
PLUG_TIMEOUT_S = 5.0
STOP_TIMEOUT_S = 5.0


class SocatError(RuntimeError):
    """socat is missing or did not make the pty pair."""


class SocatLink:
    def __init__(self, folder: Path, name: str) -> None:
        if shutil.which("socat") is None:
            raise SocatError("socat is not installed (apt-get install socat; .ci/run installs it)")
        self.name = name
        self.agent_end = folder / f"{name}-agent"
        self.device_end = folder / f"{name}-device"
        self.plug_count = 0
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def plugged(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def plug(self, timeout: float = PLUG_TIMEOUT_S) -> None:
        if self.plugged:
            return
        for end in (self.agent_end, self.device_end):
            end.unlink(missing_ok=True)
        self._proc = subprocess.Popen(
            [
                "socat",
                f"pty,raw,echo=0,link={self.agent_end}",
                f"pty,raw,echo=0,link={self.device_end}",
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + timeout
        while not (self.agent_end.exists() and self.device_end.exists()):
            if self._proc.poll() is not None or time.monotonic() > deadline:
                self.unplug()
                raise SocatError(f"socat did not create the pty pair for {self.name}")
            time.sleep(0.005)
        self.plug_count += 1

    def unplug(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None:
            proc.terminate()
            try:
                proc.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        for end in (self.agent_end, self.device_end):
            if end.is_symlink() or end.exists():
                os.unlink(end)

    replug = plug
    close = unplug

    def __enter__(self) -> SocatLink:
        self.plug()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:  # fmt: skip
        self.unplug()
