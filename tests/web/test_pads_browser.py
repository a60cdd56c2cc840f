"""The page's virtual panel and PTZ pad in real Chromium → the real Agent → the Rooms
simulator and the virtual keypad and camera on pseudo-terminals.

Screenshots (laptop and phone) go to test-artifacts/pads-*.png.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import anyio
from playwright.async_api import Page, expect

from roomagent.demo import VirtualRoom, virtual_room
from roomagent.sim.camera import CameraEmulator

from .real_room import app_page
from .test_page_browser import pytestmark as browser_marks
from .test_page_browser import screenshots

pytestmark = browser_marks  # anyio, browser, skipped without Debian's chromium

ROOMS_PASSWORD = "sim-rooms-pw-pads"
WEB_PASSWORD = "page-pw-pads-4242"


@asynccontextmanager
async def room_page(tmp_path: Path) -> AsyncIterator[tuple[VirtualRoom, Page]]:
    (tmp_path / "rooms.pw").write_text(ROOMS_PASSWORD + "\n")
    (tmp_path / "web.pw").write_text(WEB_PASSWORD + "\n")
    async with virtual_room(
        ROOMS_PASSWORD, discovery=False, password_file=tmp_path / "rooms.pw", event_delay=0.05
    ) as room:
        config = room.config
        config.web.password_file = tmp_path / "web.pw"
        config.web.port = 0
        config.state_dir = tmp_path
        async with app_page(config, tmp_path, WEB_PASSWORD) as (_, page):
            yield room, page


async def hold(page: Page, selector: str) -> None:
    box = await page.locator(selector).bounding_box()
    assert box is not None
    await page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    await page.mouse.down()


async def wait_for(camera: CameraEmulator, predicate: Callable[[], bool]) -> None:
    with anyio.fail_after(5):
        await camera.wait_until(predicate)


async def test_virtual_panel_mirrors_the_keypad_and_drives_the_room(tmp_path: Path) -> None:
    async with room_page(tmp_path) as (room, page):
        panel = page.locator('[data-panel="panel"]')
        # What the keypad's display shows, line by line, and its buttons with their actions.
        await expect(panel.locator('.panel-line[data-line="1"]')).to_have_text("Demo room: ready")
        key1 = panel.locator('.panel-key[data-button="1"]')
        await expect(key1).to_contain_text("start meeting")
        await expect(key1).to_have_attribute("data-led", "off")
        await expect(panel.locator('.panel-key[data-button="11"]')).to_contain_text("not assigned")
        # A tap on the page is a press on the keypad: the meeting starts, and LED 1 on the
        # page lights as it lights on the (virtual) keypad in the room.
        await key1.click()
        await expect(key1).to_have_attribute("data-led", "on", timeout=10000)
        assert room.panel.leds[1][0] == "on"
        await expect(panel.locator('.panel-line[data-line="1"]')).to_contain_text("In meeting")
        assert room.panel.text[1].startswith("In meeting")
        # The primary button follows the state: Leave is the filled one in a meeting.
        await expect(page.locator("#leave-meeting")).not_to_have_class("secondary")
        await expect(page.locator("#start-meeting")).to_have_class("secondary")
        # One row for the press and what it did.
        events = page.locator("#events")
        await expect(events).to_contain_text("Virtual button 1 on panel → start meeting: done")
        await expect(events).not_to_contain_text("Virtual button 1 on panel pressed")
        await screenshots(page, "pads-in-meeting")

        # Held on the page, the camera-move button (7) moves the camera until let go.
        await hold(page, '[data-panel="panel"] .panel-key[data-button="7"]')
        await wait_for(room.camera, lambda: "pt" in room.camera.state.moving)
        await page.mouse.up()
        await wait_for(room.camera, lambda: "pt" not in room.camera.state.moving)

        # The keypad's own LED change (the Rooms link lost → LED 16) shows on the page too.
        await room.sim.kill()
        await expect(panel.locator('.panel-key[data-button="16"]')).not_to_have_attribute(
            "data-led", "off", timeout=15000
        )
        await screenshots(page, "pads-rooms-offline")


async def test_ptz_pad_moves_while_held_stores_presets_and_reports(tmp_path: Path) -> None:
    async with room_page(tmp_path) as (room, page):
        camera = room.camera
        pad = page.locator('[data-camera="camera"]')
        # What the camera reports: power and firmware, asked when it came online.
        await expect(pad.locator(".camera-report")).to_contain_text("On")
        await expect(pad.locator(".camera-report")).to_contain_text("ROM")

        await hold(page, '[data-camera="camera"] [data-move="up_left"]')
        await wait_for(camera, lambda: camera.state.moving.get("pt") is not None)
        await page.mouse.up()
        await wait_for(camera, lambda: "pt" not in camera.state.moving)
        await hold(page, '[data-camera="camera"] [data-move="tele"]')
        await wait_for(camera, lambda: "zoom" in camera.state.moving)
        await page.mouse.up()
        await wait_for(camera, lambda: "zoom" not in camera.state.moving)

        # A tap recalls a preset; a long press stores the position there.
        await pad.locator('[data-preset="4"]').click()
        await expect(pad.locator(".result")).to_have_text("Preset 4: done.")
        assert camera.state.last_recalled == 4
        camera.state.pan, camera.state.tilt = 120, -40
        await hold(page, '[data-camera="camera"] [data-preset="5"]')
        await expect(pad.locator(".result")).to_contain_text("Preset 5 stored", timeout=4000)
        await page.mouse.up()
        assert camera.state.presets[5][:2] == (120, -40)

        # Power: standby, reported back as the camera says it.
        await pad.get_by_role("button", name="Standby").click()
        await expect(pad.locator(".camera-report")).to_contain_text("Standby")
        assert camera.state.power is False
        await pad.get_by_role("button", name="Power on").click()
        await expect(pad.locator(".camera-report dd").first).to_have_text("On")
        await screenshots(page, "pads-camera")

        # Unplugged: the pad and the camera's test buttons are disabled, with a reason a
        # person can act on; the path is the detail.
        camera.unplug()
        await expect(pad.locator(".pad-offline")).to_contain_text(
            "USB adapter for the camera not found — check the cable", timeout=10000
        )
        await expect(pad.locator('[data-move="up"]')).to_be_disabled()
        preset_test = page.get_by_role("button", name="Preset 1", exact=True)
        await expect(preset_test).to_be_disabled()
        await expect(page.locator("#test-offline")).to_contain_text("USB adapter")
        await expect(page.locator("#problems")).to_contain_text(camera.path.split("/")[-1])
        await expect(page.locator("#health-text")).not_to_have_text("Room is working")
        await screenshots(page, "pads-camera-unplugged")
        camera.replug()
        await expect(pad.locator(".pad-offline")).to_be_hidden(timeout=15000)
        await expect(pad.locator('[data-move="up"]')).to_be_enabled()


async def test_a_page_gone_mid_hold_leaves_no_camera_moving(tmp_path: Path) -> None:
    """The server stops a held move when its socket closes: the page cannot send a stop
    once its connection is gone, so the agent must not wait for one."""
    async with room_page(tmp_path) as (room, page):
        camera = room.camera
        await hold(page, '[data-camera="camera"] [data-move="right"]')
        await wait_for(camera, lambda: camera.state.moving.get("pt") is not None)
        await page.close()  # no pointerup, no release: the socket just closes
        await wait_for(camera, lambda: "pt" not in camera.state.moving)
