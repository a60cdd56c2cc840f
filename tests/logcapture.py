"""The agent's real log setup (logsetup.setup_logging) into a buffer, for tests that read
the log as an operator would; pytest's own handlers and levels are put back afterwards."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from contextlib import contextmanager

from roomagent.logsetup import setup_logging

_THIRD_PARTY = ("websockets", "httpx", "httpcore", "zeroconf", "asyncio")


@contextmanager
def agent_log(level: str = "debug") -> Iterator[io.StringIO]:
    root = logging.getLogger()
    handlers, root_level = list(root.handlers), root.level
    levels = {name: logging.getLogger(name).level for name in _THIRD_PARTY}
    stream = io.StringIO()
    setup_logging(level, stream)
    try:
        yield stream
    finally:
        for handler in list(root.handlers):
            root.removeHandler(handler)
        for handler in handlers:
            root.addHandler(handler)
        root.setLevel(root_level)
        for name, value in levels.items():
            logging.getLogger(name).setLevel(value)
