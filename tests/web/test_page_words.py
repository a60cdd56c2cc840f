"""Plain words on the page (real Chromium, the real server, SmallAgent behind it): the last
error as a sentence, an unknown meeting with when it was last known, results that clear,
test buttons of an offline device disabled with the reason, long paths that wrap."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from playwright.async_api import expect

from roomagent.web.server import WebServer

from .small_agent import SmallAgent
from .test_page_browser import open_page, screenshots
from .test_page_browser import pytestmark as browser_marks

pytestmark = browser_marks  # anyio, browser, skipped without Debian's chromium

LONG_PORT = "/dev/serial/by-id/usb-FTDI_FT232R_USB_UART_A50285BI-if00-port0"


async def test_last_error_is_a_sentence_even_out_of_the_history(
    server: WebServer, agent: SmallAgent
) -> None:
    async with open_page(server.url) as page:
        # Only the agent's last_error is left (its event scrolled out of the history).
        agent.last_error = "meeting.dissolve: not host or co-host"
        agent.last_error_at = None
        agent.changed({"kind": "error"})
        await expect(page.locator("#last-error-text")).to_have_text(
            "End meeting for everyone: not done — Not host or co-host"
        )


async def test_a_refused_press_is_not_the_rooms_last_error(
    server: WebServer, agent: SmallAgent
) -> None:
    async with open_page(server.url) as page:
        agent._event("panel", "button", "button 3 press", device="panel", button=3, how="press")
        agent.last_error = "meeting.leave: Not in a meeting"
        agent._event(
            "panel", "refused", "button 3: meeting.leave: Not in a meeting",
            device="panel", button=3, action="meeting.leave", ok=False,
            reason="Not in a meeting", result="not_applicable",
        )  # fmt: skip
        agent.last_error_at = agent.events[-1]["ts"]
        agent.changed({"kind": "refused"})
        events = page.locator("#events")
        # One row for the press and its outcome, "not done", and no "Last error … Resolved".
        await expect(events.locator("li").first).to_have_text(
            # time, source, sentence
            re.compile(r"panel\s*Button 3 → leave meeting: not done — Not in")
        )
        await expect(events).not_to_contain_text("Button 3 pressed")
        await expect(page.locator("#last-error")).to_be_hidden()
        await expect(events.locator(".is-last-error")).to_have_count(0)


async def test_unknown_meeting_offline_tests_and_results_that_clear(
    server: WebServer, agent: SmallAgent
) -> None:
    async with open_page(server.url) as page:
        # A result box says what a press did, until the room moves on.
        await page.get_by_role("button", name="Start meeting", exact=True).click()
        result = page.locator("#meeting-result")
        await expect(result).to_have_text("Start meeting: done.")
        await expect(page.locator("#leave-meeting")).not_to_have_class("secondary")
        agent.meeting = {"status": "idle"}
        agent.changed({"kind": "meeting"})
        await expect(result).to_be_hidden()
        await expect(page.locator("#start-meeting")).not_to_have_class("secondary")

        # The link is down: the meeting is unknown, with what it was when last known.
        at = (datetime.now().astimezone() - timedelta(minutes=3)).isoformat()
        agent.meeting = {
            "status": "unknown",
            "last_known": {"status": "in_meeting", "code": "123456789", "title": "X", "at": at},
        }
        agent.set_link("disconnected", "connection refused")
        await expect(page.locator("#meeting-status")).to_contain_text("Unknown")
        await expect(page.locator("#meeting-known")).to_contain_text("in a meeting 123 456 789")
        await expect(page.locator("#meeting-known")).to_contain_text("3 min ago")

        # An offline camera: its test buttons are disabled, and the page says why in words.
        agent.devices["cam1"]["port"] = LONG_PORT
        agent.devices["cam1"]["reason_words"] = {
            "text": "USB adapter for the camera not found — check the cable",
            "detail": f"cannot open {LONG_PORT}: no such file or directory",
        }
        agent.set_device("cam1", False, f"cannot open {LONG_PORT}: no such file or directory")
        preset = page.get_by_role("button", name="Preset 1", exact=True)
        await expect(preset).to_be_disabled()
        await expect(preset).to_have_attribute(
            "title", "Camera “cam1”: USB adapter for the camera not found — check the cable"
        )
        await expect(page.locator("#test-offline")).to_contain_text("Not testable now")
        await expect(page.locator("#problems")).to_contain_text(
            "Camera “cam1”: USB adapter for the camera not found — check the cable"
        )
        # The long path wraps at its separators (a zero-width space after each).
        camera_problem = page.locator("#problems li", has_text="Camera")
        why = await camera_problem.locator(".why").text_content()
        assert why is not None and "/\u200bdev/\u200bserial/\u200b" in why
        await screenshots(page, "words-offline")
