"""Serial transport: pyserial opens the port and sets termios; I/O runs on fd readiness.

No polling thread and no sleep loop: reads run in a reader callback the transport keeps on
the event loop for as long as the port is open (`start_reading`), writes wait with
`anyio.wait_writable` when the kernel buffer is full.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import termios
from collections.abc import Callable

import anyio
import serial

from roomagent.devices.errors import DeviceError, PortLost, PortOpenError
from roomagent.devices.fdio import READ_CHUNK, FdClosed, write_all
from roomagent.devices.profiles import SerialSettings
from roomagent.logsetup import kv

# `--log-level debug` shows every byte on the line in hex, as an integrator's serial sniffer
# would; checked before formatting so the press path pays nothing at info.
wire_log = logging.getLogger("roomagent.devices.wire")

# Writers allowed to wait for the port at once; more means the device is not keeping up.
MAX_QUEUED_WRITES = 32
DRAIN_LIMIT_S = 2.0

_PARITY = {"none": serial.PARITY_NONE, "even": serial.PARITY_EVEN, "odd": serial.PARITY_ODD}
_STOPBITS = {1: serial.STOPBITS_ONE, 2: serial.STOPBITS_TWO}
_BYTESIZE = {7: serial.SEVENBITS, 8: serial.EIGHTBITS}


def _describe(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.errno is not None:
        return os.strerror(exc.errno).lower()
    text = str(exc)
    # pyserial wraps OSError text as "[Errno 2] could not open port …: [Errno 2] No such …"
    return text.rsplit("] ", 1)[-1] if "] " in text else text


class SerialTransport:
    """One serial port: exclusive, raw, settings from the profile."""

    def __init__(self, path: str, settings: SerialSettings) -> None:
        self.path = path
        self.settings = settings
        self._serial: serial.Serial | None = None
        self._fd: int | None = None
        self._write_lock = anyio.Lock(fast_acquire=True)  # free: no event-loop trip per write
        self._queued_writes = 0
        self._reader_loop: asyncio.AbstractEventLoop | None = None
        self.bytes_in = 0
        self.bytes_out = 0

    @property
    def is_open(self) -> bool:
        return self._fd is not None

    def open(self) -> None:
        s = self.settings
        port = serial.Serial()
        port.port = self.path
        port.baudrate = s.baud
        port.bytesize = _BYTESIZE[s.data_bits]
        port.parity = _PARITY[s.parity]
        port.stopbits = _STOPBITS[s.stop_bits]
        port.rtscts = s.flow_control == "rtscts"
        port.xonxoff = s.flow_control == "xonxoff"
        port.exclusive = True  # flock: a second agent (or minicom) cannot steal the camera
        port.timeout = 0
        try:
            port.open()  # pyserial puts the tty in raw mode (no echo, no line discipline)
            fd = port.fileno()
            # pyserial leaves VMIN=0, where an idle tty reads as zero bytes; zero bytes must
            # keep meaning "device gone", so VMIN=1 (the fd is non-blocking: no wait happens).
            attrs = termios.tcgetattr(fd)
            attrs[6][termios.VMIN], attrs[6][termios.VTIME] = 1, 0
            termios.tcsetattr(fd, termios.TCSANOW, attrs)
            os.set_blocking(fd, False)
        except (serial.SerialException, OSError, termios.error, ValueError) as exc:
            port.close()
            raise PortOpenError(f"cannot open {self.path}: {_describe(exc)}") from None
        self._serial, self._fd = port, fd

    def close(self) -> None:
        self._stop_reading()
        if self._fd is not None:
            with contextlib.suppress(RuntimeError):  # RuntimeError: no event loop running
                anyio.notify_closing(self._fd)  # wake a writer blocked on this fd
        port, self._serial, self._fd = self._serial, None, None
        if port is not None:
            try:
                port.close()
            except (serial.SerialException, OSError, termios.error):
                pass  # the device is already gone; nothing left to release

    def _require_fd(self) -> int:
        if self._fd is None:
            raise PortLost(f"{self.path} is closed")
        return self._fd

    def start_reading(
        self, on_data: Callable[[bytes], None], on_lost: Callable[[str], None]
    ) -> None:
        """Hand every chunk read to `on_data`, from a reader callback on the event loop, until
        the port is closed; `on_lost(reason)` once when the device has gone.

        A persistent callback rather than a task waiting per read: no reader added and
        removed, no future and no task wake-up per chunk, so a frame is parsed (and a press
        dispatched) in the loop tick its bytes arrive. Both callbacks must not block."""
        fd = self._require_fd()
        loop = asyncio.get_running_loop()

        def readable() -> None:
            try:
                data = os.read(fd, READ_CHUNK)
            except BlockingIOError:
                return  # woken for nothing (another reader drained it)
            except OSError as exc:  # EIO after an unplug
                self._stop_reading()
                on_lost(f"port lost: {_describe(exc)}")
                return
            if not data:
                self._stop_reading()
                on_lost("port lost: the device closed the line (zero-byte read)")
                return
            self.bytes_in += len(data)
            if wire_log.isEnabledFor(logging.DEBUG):
                wire_log.debug("serial in", extra=kv(port=self.path, hex=data.hex(" ")))
            on_data(data)

        self._stop_reading()
        loop.add_reader(fd, readable)
        self._reader_loop = loop

    def _stop_reading(self) -> None:
        loop, self._reader_loop = self._reader_loop, None
        if loop is not None and self._fd is not None and not loop.is_closed():
            loop.remove_reader(self._fd)

    async def drain(self) -> None:
        """Until the kernel has sent everything written (before a one-shot close: a slow
        2400 baud line must not lose a fire-and-forget frame). tcdrain blocks, so a thread."""
        fd = self._require_fd()
        try:
            with anyio.move_on_after(DRAIN_LIMIT_S):  # flow control may hold it forever
                await anyio.to_thread.run_sync(termios.tcdrain, fd, abandon_on_cancel=True)
        except (termios.error, OSError) as exc:
            raise PortLost(f"port lost: {_describe(exc)}") from None

    async def write(self, data: bytes) -> None:
        """Write all of `data`; at most MAX_QUEUED_WRITES writers wait for the port."""
        if self._queued_writes >= MAX_QUEUED_WRITES:
            raise DeviceError("write queue full: the device is not accepting data")
        self._queued_writes += 1
        try:
            async with self._write_lock:
                if wire_log.isEnabledFor(logging.DEBUG):
                    wire_log.debug("serial out", extra=kv(port=self.path, hex=data.hex(" ")))
                self.bytes_out += await write_all(self._require_fd(), data)
        except FdClosed:
            raise PortLost(f"{self.path} was closed") from None
        except OSError as exc:  # EIO, ENXIO, EPIPE…: the device is gone
            raise PortLost(f"port lost: {_describe(exc)}") from None
        finally:
            self._queued_writes -= 1
