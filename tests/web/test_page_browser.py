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
# Every page test: async, marked `browser`, skipped where Debian's chromium is missing.
BROWSER_TESTS = [
    pytest.mark.anyio,
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium is not installed"),
]
pytestmark = BROWSER_TESTS
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
            "order_id": f"order-{title.lower().replace(' ', '-')}",
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
        await expect(page.locator("#meeting-result")).to_have_text(
            "Start meeting: Already in a meeting"
        )

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
        await expect(page.locator("#events")).to_contain_text(
            "Panel offline: no reply to the start-up query"
        )
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


def free_room_with_booking_in(minutes: int) -> dict[str, object]:
    now = datetime.now().astimezone().replace(second=0, microsecond=0)
    upcoming = {
        "order_id": "order-design-crit",
        "title": "Design crit",
        "start": (now + timedelta(minutes=minutes)).isoformat(),
        "end": (now + timedelta(minutes=minutes + 30)).isoformat(),
        "booked_by": "Li Wei",
        "meeting_code": None,
    }
    return {"current": None, "next": upcoming, "today": [upcoming]}


async def test_calendar_buttons_book_and_end_with_refusals_in_words(
    server: WebServer, agent: SmallAgent
) -> None:
    agent.calendar = free_room_with_booking_in(20)
    starts = str(agent.calendar["next"]["start"])[11:16]  # type: ignore[index]
    async with open_page(server.url) as page:
        book = page.get_by_role("button", name="Book this room (30 min)")
        end = page.get_by_role("button", name="End booking now")
        await expect(book).to_be_visible()
        await expect(end).to_be_hidden()

        # The next booking starts within 30 min: refused, in the calendar card, in words.
        await book.click()
        result = page.locator("#calendar-result")
        await expect(result).to_have_text(
            f"Book this room (30 min): The room is booked from {starts}"
        )
        await expect(result).to_have_class("result tone-bad")

        agent.calendar = free_room_with_booking_in(120)
        agent.changed({"kind": "calendar"})
        await book.click()
        await expect(result).to_contain_text("Book this room (30 min): Room booked until ")
        await expect(page.locator("#cal-current")).to_contain_text("Ad-hoc meeting")
        await expect(book).to_be_hidden()  # booked now: the card offers to end it instead
        await screenshots(page, "calendar-booked")

        await end.click()
        await expect(result).to_contain_text("End booking now: Booking ended at ")
        await expect(page.locator("#cal-current")).to_have_text("—")
        await expect(book).to_be_visible()
        # The test card's result line was not used for the calendar.
        await expect(page.locator("#result")).to_have_text("Press a button to test it.")


async def test_last_error_says_when_and_whether_it_still_matters(
    server: WebServer, agent: SmallAgent
) -> None:
    async with open_page(server.url) as page:
        await expect(page.locator("#last-error")).to_be_hidden()

        # The Rooms link drops with an error two minutes ago: a current problem.
        agent.link = "auth_failed"
        agent.fail("rooms", "error", "Rooms client rejected the password", seconds_ago=125)
        await expect(page.locator("#health-text")).to_have_text("Room has a problem")
        last = page.locator("#last-error")
        await expect(last).to_be_visible()
        await expect(page.locator("#card-problems #last-error")).to_have_count(1)
        await expect(page.locator("#last-error-when")).to_contain_text("2 min ago")
        await expect(page.locator("#last-error-text")).to_have_text(
            "Rooms client rejected the password"
        )
        await expect(last).not_to_have_class("last-error resolved")
        # Titled once: the card says what needs attention, the box inside says "Last error".
        await expect(page.locator("#card-problems h2")).to_have_text("What needs attention")
        await expect(page.locator("#card-problems").get_by_text("Last error")).to_have_count(1)
        await screenshots(page, "last-error-current")

        # The room recovers: the banner says so; the error stays as history, marked resolved.
        agent.set_link("ready")
        await expect(page.locator("#health-text")).to_have_text("Room is working")
        await expect(page.locator("#card-problems")).to_be_hidden()
        await expect(last).to_have_class("last-error resolved")
        await expect(page.locator("#last-error-state")).to_contain_text("Resolved")
        await expect(page.locator(".card.wide #last-error")).to_have_count(1)
        flagged = page.locator("#events .is-last-error")
        await expect(flagged).to_have_count(1)
        await expect(flagged).to_contain_text("Rooms client rejected the password")
        await screenshots(page, "last-error-resolved")


# One event of each kind: (source, kind, the real agent's message, its fields, the sentence).
SENTENCES: list[tuple[str, str, str, dict[str, object], str]] = [
    (
        "cam1",
        "online",
        "cam1 online: cam1 online on /dev/ttyUSB1",
        {"device": "cam1", "port": "/dev/ttyUSB1"},
        "Camera online (/dev/ttyUSB1)",
    ),
    (
        "panel",
        "offline",
        "panel offline: no reply to the start-up query",
        {"device": "panel", "reason": "no reply to the start-up query"},
        "Panel offline: no reply to the start-up query",
    ),
    (
        "panel",
        "button",
        "button 3 press",
        {"device": "panel", "button": 3, "how": "press"},
        "Button 3 pressed",
    ),
    (
        "panel",
        "action",
        "button 3: meeting.leave: LeaveMeeting: LeaveMeeting",
        {
            "device": "panel",
            "button": 3,
            "action": "meeting.leave",
            "ok": True,
            "outcome": "LeaveMeeting: LeaveMeeting",
        },
        "Button 3 → leave meeting: done",
    ),
    (
        "panel",
        "busy",
        "button 1: busy… meeting.start still running",
        {"device": "panel", "button": 1, "action": "meeting.start"},
        "Button 1: still busy with start meeting; press not repeated",
    ),
    (
        "panel",
        "refused",
        "button 4: meeting.start: Already in a meeting",
        {
            "device": "panel",
            "button": 4,
            "action": "meeting.start",
            "ok": False,
            "reason": "Already in a meeting",
        },
        "Button 4 → start meeting: not done — Already in a meeting",
    ),
    (
        "panel",
        "refused",
        "button 10: macro step 2 (meeting.layout): not enough participants",
        {
            "device": "panel",
            "button": 10,
            "action": "macro",
            "ok": False,
            "reason": "not enough participants",
            "step": "step 2 (meeting.layout)",
        },
        "Button 10 → macro (step 2 (meeting.layout)): not done — not enough participants",
    ),
    (
        "panel",
        "action",
        "button 20: calendar.book_now: Room booked until 10:45",
        {
            "device": "panel",
            "button": 20,
            "action": "calendar.book_now",
            "ok": True,
            "outcome": "Room booked until 10:45",
        },
        "Button 20 → book this room: Room booked until 10:45",
    ),
    (
        "api",
        "action",
        "camera.preset: cam1 preset_recall 2",
        {"action": "camera.preset", "ok": True, "outcome": "cam1 preset_recall 2"},
        "Camera preset: done",
    ),
    (
        "api",
        "button",
        "virtual panel button 5 hold",
        {"device": "panel", "button": 5, "how": "hold"},
        "Virtual button 5 on panel held",
    ),
    (
        "api",
        "device",
        "cam1 preset_recall 2",
        {"device": "cam1", "command": "preset_recall", "args": [2]},
        "Camera “cam1” from the page: go to preset 2",
    ),
    (
        "rooms",
        "event",
        "ZoomRoom event JoinMeetingCompleted",
        {"module": "ZoomRoom", "event": "JoinMeetingCompleted"},
        "Join meeting completed",
    ),
    (
        "rooms",
        "link",
        "Rooms client offline: connection refused",
        {"link": "disconnected", "reason": "connection refused"},
        "Meeting system (Rooms client) offline: connection refused",
    ),
    (
        "rooms",
        "link",
        "Rooms link ready",
        {"link": "ready"},
        "Meeting system (Rooms client) connected",
    ),
]


@pytest.mark.parametrize("reworded", [False, True], ids=["agent-wording", "reworded"])
async def test_event_sentences_come_from_fields_not_wording(
    server: WebServer, agent: SmallAgent, reworded: bool
) -> None:
    """The page's sentence is built from the event's fields: rewording the agent's message
    (here: replacing it outright) changes the tooltip, never the sentence."""
    messages = [
        f"{kind} #{n}, said differently" if reworded else message
        for n, (_, kind, message, _, _) in enumerate(SENTENCES)
    ]
    async with open_page(server.url) as page:
        for (source, kind, _, fields, _), message in zip(SENTENCES, messages, strict=True):
            agent._event(source, kind, message, **fields)
        events = page.locator("#events .event-message")
        # A press and what its action did are one row: "Button 3 pressed" folds into
        # "Button 3 → leave meeting: done".
        folded = ["Button 3 pressed"]
        shown = [sentence for *_, sentence in reversed(SENTENCES) if sentence not in folded]
        await expect(events).to_have_text(shown)
        # Nothing is lost: the agent's own message is the line's tooltip.
        leave = page.locator("#events li", has_text="Button 3 → leave meeting")
        await expect(leave).to_have_attribute("title", messages[3])
        # An event of a kind the page does not know reads as the agent's message.
        agent._event("agent", "note", "configuration reloaded")
        await expect(events.first).to_have_text("Configuration reloaded")
        if not reworded:
            await screenshots(page, "events")
