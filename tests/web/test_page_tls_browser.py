"""The page over HTTPS in real headless Chromium: the self-signed issuer accepted as staff
accept it once, the API socket over wss, live updates, the fingerprint and an expiry warning
in the footer."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import anyio
from playwright.async_api import async_playwright, expect

from roomagent.config.model import WebSection
from roomagent.web.server import WebServer
from roomagent.web.tls import server_tls

from .conftest import PASSWORD, USER
from .small_agent import SmallAgent
from .test_page_browser import (
    ARTIFACTS,
    BROWSER_TESTS,
    CHROMIUM,
    CHROMIUM_ARGS,
    LAPTOP,
    close_driver_pipes,
)
from .tls_helpers import write_pair

pytestmark = BROWSER_TESTS


async def check_page(server: WebServer, agent: SmallAgent, shot: str) -> tuple[str | None, str]:
    """Open the page, check it is live over wss; the footer's warning (if any) and the text
    of "What needs attention"."""
    assert server.tls is not None and server.port is not None
    url = f"https://127.0.0.1:{server.port}/"
    playwright = async_playwright()
    async with playwright as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            context = await browser.new_context(
                http_credentials={"username": USER, "password": PASSWORD},
                viewport=LAPTOP,
                ignore_https_errors=True,  # the self-signed issuer, as a person accepts it
            )
            page = await context.new_page()
            page.set_default_timeout(8000)
            sockets: list[str] = []
            page.on("websocket", lambda ws: sockets.append(ws.url))
            await page.goto(url)
            await expect(page.locator("#conn")).to_have_text("Live")
            assert sockets and all(s.startswith("wss://") for s in sockets)
            fingerprint = page.locator("#tls-fingerprint")
            await expect(fingerprint).to_have_text(server.tls.info.fingerprint)
            # Live: a change in the agent reaches the page over the wss socket.
            agent.set_device("panel", False, "no reply to the start-up query")
            await expect(page.locator("body")).to_contain_text("no reply to the start-up query")
            ARTIFACTS.mkdir(exist_ok=True)
            await page.screenshot(path=str(ARTIFACTS / f"{shot}-laptop.png"), full_page=True)
            warning = page.locator("#tls-warning")
            footer = await warning.text_content() if await warning.count() else None
            if footer is not None:  # the attention card has it too, in its own words
                await expect(page.locator("#problems")).to_contain_text("Page certificate")
            return footer, await page.locator("#problems").inner_text()
        finally:
            await browser.close()
            close_driver_pipes(playwright)


async def test_page_over_https_with_the_self_signed_certificate(tmp_path: Path) -> None:
    web = WebSection(listen="127.0.0.1", port=0, tls="auto")
    tls = server_tls(web, state_dir=tmp_path, base_dir=tmp_path, mdns_name="roomagent-x.local")
    agent = SmallAgent()
    server = WebServer(agent, web, PASSWORD, None, tls=tls)
    async with server.running():
        footer, attention = await check_page(server, agent, "tls-page")
    assert footer is None and "certificate" not in attention


async def test_page_warns_when_the_site_certificate_expires_soon(tmp_path: Path) -> None:
    soon = dt.datetime.now(dt.UTC) + dt.timedelta(days=9, hours=1)
    cert, key = write_pair(tmp_path, "site", not_after=soon)
    web = WebSection(listen="127.0.0.1", port=0, tls="files", cert_file=cert, key_file=key)
    agent = SmallAgent()
    server = WebServer(
        agent, web, PASSWORD, None, tls=server_tls(web, state_dir=tmp_path, base_dir=tmp_path)
    )
    async with server.running():
        warning, attention = await check_page(server, agent, "tls-expiring")
    assert warning is not None and warning.startswith("The page's certificate expires in 9 days")
    day = soon.date().isoformat()
    assert f"Page certificate (HTTPS) expires in 9 days ({day})" in attention
    assert "Install a renewed certificate as web.cert_file" in attention
    assert "send SIGHUP" in attention


async def test_a_certificate_that_expires_while_the_agent_runs_is_a_problem(
    tmp_path: Path,
) -> None:
    # Valid when loaded (an expired one is a config error), expired by the time staff look.
    until = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=3)
    cert, key = write_pair(tmp_path, "site", not_after=until)
    web = WebSection(listen="127.0.0.1", port=0, tls="files", cert_file=cert, key_file=key)
    agent = SmallAgent()
    server = WebServer(
        agent, web, PASSWORD, None, tls=server_tls(web, state_dir=tmp_path, base_dir=tmp_path)
    )
    await anyio.sleep(max(0.0, (until - dt.datetime.now(dt.UTC)).total_seconds()) + 0.5)
    async with server.running():
        warning, attention = await check_page(server, agent, "tls-expired")
    day = until.date().isoformat()
    assert warning is not None and warning.startswith(f"The page's certificate expired on {day}")
    assert f"Page certificate (HTTPS) expired on {day}" in attention
    assert "Browsers warn before opening this page" in attention
