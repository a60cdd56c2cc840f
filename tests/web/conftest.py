"""Fixtures for the web tests: a real server on a free loopback port, driven by SmallAgent."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator

import hypothesis.internal.observability  # noqa: F401  (see below)
import pytest

from roomagent.config.model import WebSection
from roomagent.web.server import WebServer

from .small_agent import SmallAgent

# Imported up front on purpose: after Playwright has run, CPython 3.11.7 can fail to compile
# a module imported late ("AST constructor recursion depth mismatch"), and hypothesis's pytest
# plugin imports this one in the terminal summary.

USER = "admin"
PASSWORD = "correct horse battery"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def basic(user: str = USER, password: str = PASSWORD) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


@pytest.fixture
def agent() -> SmallAgent:
    return SmallAgent()


@pytest.fixture
async def server(agent: SmallAgent) -> AsyncIterator[WebServer]:
    web = WebServer(agent, WebSection(listen="127.0.0.1", port=0, user=USER), PASSWORD, None)
    async with web.running():
        yield web
