"""The diagnostics page in real headless Chromium: login, status, test buttons, live updates.

Screenshots (laptop and phone) go to test-artifacts/ for a person to judge the design.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from pathlib import Path

import anyio
import pytest
from anyio.abc import TaskStatus
from playwright.async_api import Page, async_playwright, expect

from roomagent.config.model import WebSection
from roomagent.web.server import WebServer

from .conftest import PASSWORD, USER
from .small_agent import MEETING_PASSCODE, ROOMS_PASSWORD, SmallAgent

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
pytestmark = [
    pytest.mark.anyio,
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium is not installed"),
]
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LAPTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}


@asynccontextmanager
async def open_page(url: str, user: str = USER, password: str = PASSWORD) -> AsyncIterator[Page]:
    playwright = async_playwright()
    async with playwright as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            context = await browser.new_context(
                http_credentials={"username": user, "password": password}, viewport=LAPTOP
            )
            page = await context.new_page()
            page.set_default_timeout(8000)
            await page.goto(url)
            await expect(page.locator("#conn")).to_have_text("Live")
            yield page
        finally:
            await browser.close()
    close_driver_pipes(playwright)


def close_driver_pipes(playwright: object) -> None:
    """Playwright leaves its driver's subprocess transport for the garbage collector, which
    then meets a closed event loop (an "unraisable exception" in pytest's summary): close it
    while the loop still runs. Private attributes, so every step is optional."""
    client = getattr(playwright, "_client", None)
    process = getattr(getattr(client, "_transport", None), "_proc", None)
    transport = getattr(process, "_transport", None)
    if transport is not None:
        transport.close()


async def screenshots(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    await page.set_viewport_size(LAPTOP)
    await page.screenshot(path=str(ARTIFACTS / f"{name}-laptop.png"), full_page=True)
    await page.set_viewport_size(PHONE)
    await page.screenshot(path=str(ARTIFACTS / f"{name}-phone.png"), full_page=True)
    await page.set_viewport_size(LAPTOP)


def booked_day() -> dict[str, object]:
    now = datetime.now().astimezone().replace(second=0, microsecond=0)

    def booking(title: str, start: int, end: int, code: str | None) -> dict[str, object]:
        return {
            "title": title,
            "start": (now + timedelta(minutes=start)).isoformat(),
            "end": (now + timedelta(minutes=end)).isoformat(),
            "booked_by": "Li Wei",
            "meeting_code": code,
        }

    current = booking("Budget review", -10, 50, "555123987")
    upcoming = booking("Design crit", 60, 90, None)
    return {"current": current, "next": upcoming, "today": [current, upcoming]}


async def test_page_shows_status_runs_tests_and_updates_live(
    server: WebServer, agent: SmallAgent
) -> None:
    async with open_page(server.url) as page:
        await expect(page.locator("#room-name")).to_have_text("Huddle 3A")
        await expect(page.locator("#health-text")).to_have_text("Room is working")
        await expect(page.locator("#links")).to_contain_text("Camera “cam1”")
        await expect(page.locator("#camera-name")).to_have_text("“cam1”")

        await page.get_by_role("button", name="Preset 2").click()
        await expect(page.locator("#result")).to_have_text("Camera preset 2: done.")
        assert ("cam1", "camera.preset", [2]) in agent.commands

        await page.get_by_role("button", name="Start meeting").click()
        await expect(page.locator("#meeting-status")).to_contain_text("In a meeting")
        await expect(page.locator("#meeting-code")).to_have_text("123 456 789")

        # A refusal is shown in words, with the Rooms error code.
        await page.get_by_role("button", name="Start meeting").click()
        await expect(page.locator("#result")).to_have_text("Start meeting: Already in a meeting")

        await page.get_by_role("button", name="Leave meeting").click()
        await expect(page.locator("#meeting-status")).to_contain_text("No meeting")
        # A booked meeting appears with the calendar; one button joins it.
        agent.calendar = booked_day()
        agent.changed({"kind": "calendar"})
        await expect(page.locator("#cal-current")).to_contain_text("Budget review")
        await page.get_by_role("button", name="Join now · 555 123 987").click()
        await expect(page.locator("#meeting-code")).to_have_text("555 123 987")

        # Live: the agent changes, the page follows without a reload.
        agent.set_device("panel", False, "no reply to the start-up query")
        await expect(page.locator("#health-text")).to_have_text("Room needs attention")
        await expect(page.locator("#problems")).to_contain_text("no reply to the start-up query")
        await expect(page.locator("#events")).to_contain_text("no reply to the start-up query")
        await screenshots(page, "diagnostics")

        html = await page.content()
        for secret in (PASSWORD, ROOMS_PASSWORD, MEETING_PASSCODE):
            assert secret not in html


async def test_page_reconnects_by_itself(agent: SmallAgent) -> None:
    config = WebSection(listen="127.0.0.1", port=0, user=USER)
    first = WebServer(agent, config, PASSWORD, None)
    stop_first = anyio.CancelScope()

    async def serve_first(*, task_status: TaskStatus[int]) -> None:
        with stop_first:
            await first.run(task_status=task_status)

    async with anyio.create_task_group() as tg:
        port = await tg.start(serve_first)
        async with open_page(first.url) as page:
            stop_first.cancel()  # the agent restarts…
            await expect(page.locator("#conn")).to_have_text("Reconnecting…")
            again = WebServer(agent, config.model_copy(update={"port": port}), PASSWORD, None)
            async with again.running():  # …and the page comes back on its own
                agent.set_device("cam1", False, "cable unplugged")
                await expect(page.locator("#conn")).to_have_text("Live", timeout=20000)
                await expect(page.locator("#links")).to_contain_text("cable unplugged")
