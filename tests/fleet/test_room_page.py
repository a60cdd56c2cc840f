"""The room's own diagnostics page shows its fleet bridge, in real headless Chromium against a
real agent and a real Mosquitto: connected (broker, topics, room id), then the broker gone
("What needs attention" says so in plain words, no password anywhere), then back."""

from __future__ import annotations

from pathlib import Path

import httpx
from playwright.async_api import expect

from roomagent.app import App
from roomagent.config.model import RoomSection
from roomagent.demo import CAMERA_PROFILE, PANEL_PROFILE
from roomagent.devices.profiles import load_profile
from roomagent.sim.camera import CameraEmulator
from roomagent.sim.panel import PanelEmulator
from roomagent.sim.rooms import RoomsSimulator
from tests.web.real_room import app_page, demo_room_config
from tests.web.test_page_browser import BROWSER_TESTS, screenshots

from .conftest import Mosquitto, room_password
from .rooms import mqtt_section

pytestmark = BROWSER_TESTS
ROOMS_PASSWORD = "sim-rooms-pw-fleetpage"
WEB_PASSWORD = "page-pw-fleet-4242"


async def test_the_room_page_shows_the_fleet_bridge_and_a_lost_broker(
    mosquitto: Mosquitto, tmp_path: Path
) -> None:
    camera = CameraEmulator(load_profile(CAMERA_PROFILE))
    panel = PanelEmulator(load_profile(PANEL_PROFILE))
    async with RoomsSimulator(password=ROOMS_PASSWORD) as sim, camera, panel:
        config = demo_room_config(sim, panel, camera, tmp_path, (ROOMS_PASSWORD, WEB_PASSWORD))
        config.room = RoomSection(name="Huddle 3A", id="huddle-3a")
        config.mqtt = mqtt_section(mosquitto, "huddle-3a", tmp_path)
        async with app_page(config, tmp_path, WEB_PASSWORD) as (agent, page):
            card = page.locator("#card-fleet")
            await expect(card).to_be_visible()
            await expect(page.locator("#fleet-state")).to_contain_text("Connected")
            await expect(card).to_contain_text(mosquitto.url)
            await expect(card).to_contain_text("roomagent/hq/huddle-3a/…")
            await expect(card).to_contain_text("Room id")
            await expect(card).to_contain_text("huddle-3a")
            await expect(page.locator("#health-text")).to_have_text("Room is working")
            await expect(page.locator("#card-problems")).to_be_hidden()
            await screenshots(page, "room-fleet-connected")

            mosquitto.stop()
            problems = page.locator("#problems")
            await expect(problems).to_contain_text("Fleet broker (MQTT): not reachable since")
            await expect(problems).to_contain_text("broker refused the connection")
            await expect(problems).to_contain_text("The room works on its own")
            await expect(page.locator("#fleet-state")).to_contain_text("Broker not reachable")
            await expect(page.locator("#health-text")).to_have_text("Room needs attention")
            # The room keeps working: a press is done, its event waits for the broker.
            await panel.tap(1)
            await expect(page.locator("#events")).to_contain_text("start meeting: done")
            await expect(page.locator("#fleet-outbox")).not_to_have_text("0")
            status = agent.core.status()["fleet"]
            assert status["state"] == "reconnecting" and status["outbox"] >= 1
            metrics = await scrape(agent)
            assert "roomagent_fleet_up 0.0" in metrics
            assert 'roomagent_fleet_state{state="reconnecting"} 1.0' in metrics
            await screenshots(page, "room-fleet-broker-down")
            html = await page.content()
            for secret in (room_password("huddle-3a"), ROOMS_PASSWORD, WEB_PASSWORD):
                assert secret not in html

            mosquitto.start()
            await expect(page.locator("#fleet-state")).to_contain_text("Connected", timeout=30000)
            await expect(page.locator("#card-problems")).to_be_hidden()
            await expect(page.locator("#fleet-outbox")).to_have_text("0")
            assert "roomagent_fleet_up 1.0" in await scrape(agent)


async def scrape(agent: App) -> str:
    assert agent.web is not None
    auth = (agent.config.web.user, WEB_PASSWORD)
    async with httpx.AsyncClient(auth=auth) as client:
        reply = await client.get(f"{agent.web.url}metrics")
    assert reply.status_code == 200
    return reply.text
