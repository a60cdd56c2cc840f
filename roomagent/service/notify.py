"""systemd's sd_notify protocol in a few lines: datagrams to $NOTIFY_SOCKET.

No dependency on libsystemd: the protocol is one `KEY=VALUE\\n…` datagram per message.
Outside systemd (no $NOTIFY_SOCKET) every call is a cheap no-op.
"""

from __future__ import annotations

import logging
import os
import socket

import anyio

log = logging.getLogger(__name__)


class Notifier:
    """READY=1, STATUS=…, WATCHDOG=1 and STOPPING=1 for a Type=notify service."""

    def __init__(self, env: dict[str, str] | None = None) -> None:
        env = dict(os.environ) if env is None else env
        address = env.get("NOTIFY_SOCKET", "")
        # '@name' is a Linux abstract-namespace socket: the leading byte is NUL on the wire.
        self._address = "\0" + address[1:] if address.startswith("@") else address
        self._sock: socket.socket | None = None
        self.watchdog_interval = _watchdog_interval(env)

    @property
    def enabled(self) -> bool:
        return bool(self._address)

    def notify(self, *lines: str) -> bool:
        """Send one message; returns False (and logs once at debug) when it cannot be sent."""
        if not self._address:
            return False
        try:
            if self._sock is None:
                self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
            self._sock.sendto("\n".join(lines).encode(), self._address)
            return True
        except OSError as exc:
            # systemd gone or socket unreadable: never fatal for the agent itself.
            log.debug("sd_notify failed", extra={"fields": {"error": exc.strerror}})
            return False

    def ready(self, status: str = "") -> bool:
        return self.notify("READY=1", *([f"STATUS={status}"] if status else []))

    def status(self, text: str) -> bool:
        return self.notify(f"STATUS={text}")

    def stopping(self) -> bool:
        return self.notify("STOPPING=1")

    def watchdog(self) -> bool:
        return self.notify("WATCHDOG=1")

    async def run_watchdog(self) -> None:
        """Ping the watchdog at half of WATCHDOG_USEC (systemd's advice) until cancelled."""
        if not self.enabled or self.watchdog_interval is None:
            await anyio.sleep_forever()
            return
        while True:
            self.watchdog()
            await anyio.sleep(self.watchdog_interval)

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None


def _watchdog_interval(env: dict[str, str]) -> float | None:
    """Half the watchdog timeout, or None when no watchdog applies to this process."""
    try:
        usec = int(env.get("WATCHDOG_USEC", ""))
    except ValueError:
        return None
    pid = env.get("WATCHDOG_PID")
    if usec <= 0 or (pid and pid != str(os.getpid())):
        return None
    return usec / 2 / 1_000_000
