"""What every stream framer (VISCA, Pelco, line) shares: a bounded buffer that can be reset."""

from __future__ import annotations


class BufferedFramer:
    """Mixin for dataclass framers holding their partial frame in `_buf`."""

    _buf: bytearray

    @property
    def buffered(self) -> int:
        return len(self._buf)

    def clear(self) -> None:
        """Forget a partial frame (the port was reopened); counters are kept."""
        self._buf.clear()
