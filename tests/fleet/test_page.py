"""The fleet page in real headless Chromium: login, every room live, problems first, filter
by site, a room's last events; /metrics per-room gauges; the diagnostics page's rules."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import anyio
import httpx
from playwright.async_api import expect

from roomagent.config.model import WebSection
from roomagent.control.model import RoomStatus
from roomagent.fleet.feed import BrokerFeed
from roomagent.sim.fleet import SimulatedRoom, room_event, room_status, room_will
from roomagent.web.fleet_page import FleetPageServer
from roomagent.web.tls import server_tls
from tests.web.test_page_browser import BROWSER_TESTS, open_page, screenshots

from .conftest import Mosquitto
from .rooms import fleet_room, until

pytestmark = BROWSER_TESTS
USER = "facilities"
PASSWORD = "fleet-page-pw-2718"


@asynccontextmanager
async def page_server(mosquitto: Mosquitto) -> AsyncIterator[tuple[FleetPageServer, BrokerFeed]]:
    """`roomagent fleet serve` as the CLI composes it: the broker feed and the page."""
    feed = BrokerFeed(mosquitto.broker())
    section = WebSection(listen="127.0.0.1", port=0, user=USER)
    server = FleetPageServer(feed, section, PASSWORD, None, "roomagent.fleet")
    async with anyio.create_task_group() as tg:
        tg.start_soon(feed.run)
        await tg.start(server.run)
        yield server, feed
        tg.cancel_scope.cancel()


async def test_fleet_page_live_problems_first_filter_and_events(
    mosquitto: Mosquitto, tmp_path: Path
) -> None:
    base = "roomagent/annex/lab-2"
    lab = SimulatedRoom(mosquitto.broker("lab-2").client("sim-lab-2", will=room_will(base)), base)
    async with (
        fleet_room(mosquitto, "huddle-3a", tmp_path) as (agent, virtual),
        lab,
        page_server(mosquitto) as (server, feed),
    ):
        broken = room_status("lab-2", name="Lab 2", link="disconnected", offline=("camera",))
        # The simulated payload is the real shape: the room model accepts it, same keys.
        assert RoomStatus.model_validate(broken).model_dump(mode="json").keys() == broken.keys()
        assert set(broken) == set(agent.core.status())
        await lab.status(broken)
        await until(lambda: len(feed.rows()) == 2 and feed.connected)
        # Events are not retained: the feed sees those published once it follows the broker.
        await lab.event(room_event("camera offline: port closed", device="camera"))
        await until(lambda: bool(feed.events("annex/lab-2")))

        async with open_page(server.url, USER, PASSWORD) as page:
            rows = page.locator("#room-rows tr")
            await expect(rows).to_have_count(2)
            # Problems first: the annex lab (link down, camera offline) heads the list.
            await expect(rows.nth(0)).to_contain_text("Lab 2")
            await expect(rows.nth(0)).to_contain_text("Rooms link disconnected")
            await expect(rows.nth(0)).to_contain_text("1 offline")
            await expect(rows.nth(1)).to_contain_text("Room huddle-3a")
            await expect(page.locator("#count-problems")).to_have_text("1")

            # Live: the real room starts a meeting from its keypad.
            await virtual.panel.tap(1)
            await expect(rows.nth(1)).to_contain_text("In a meeting", timeout=15000)
            await expect(page.locator("#count-meeting")).to_have_text("1")

            # A room's last events.
            await rows.nth(0).click()
            await expect(page.locator("#detail-title")).to_have_text("Lab 2 · annex")
            await expect(page.locator("#detail-events")).to_contain_text("camera offline")
            await screenshots(page, "fleet")

            # Filter by site.
            await page.locator("#site").select_option("hq")
            await expect(rows).to_have_count(1)
            await expect(rows.nth(0)).to_contain_text("huddle-3a")
            await page.locator("#site").select_option("")
            await expect(rows).to_have_count(2)

            # The agent goes away: the page shows it offline (its bridge says so).
            await lab.status(room_status("lab-2", name="Lab 2"))
            await expect(page.locator("#count-problems")).to_have_text("0")

        credentials = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
        async with httpx.AsyncClient(base_url=server.url.rstrip("/")) as http:
            metrics = await http.get("/metrics", headers={"Authorization": f"Basic {credentials}"})
            assert metrics.status_code == 200
            text = metrics.text
            assert 'roomagent_fleet_room_up{room="huddle-3a",site="hq"} 1.0' in text
            assert 'roomagent_fleet_room_in_meeting{room="huddle-3a",site="hq"} 1.0' in text
            assert 'roomagent_fleet_room_link_ready{room="lab-2",site="annex"} 1.0' in text
            assert 'roomagent_fleet_room_devices_offline{room="lab-2",site="annex"} 0.0' in text
            # Same rules as the diagnostics page: credentials, Origin, no secrets.
            assert (await http.get("/")).status_code == 401
            assert (await http.get("/metrics")).status_code == 401
            foreign = await http.get(
                "/",
                headers={"Authorization": f"Basic {credentials}", "Origin": "http://evil.test"},
            )
            assert foreign.status_code == 403
            assert (await http.get("/healthz")).text == "ok\n"
            page_js = await http.get(
                "/static/fleet.js", headers={"Authorization": f"Basic {credentials}"}
            )
            assert page_js.status_code == 200 and "http" not in page_js.text.split("location")[0]
            assert PASSWORD not in text


async def test_page_says_when_the_broker_is_unreachable(mosquitto: Mosquitto) -> None:
    mosquitto.stop()
    async with page_server(mosquitto) as (server, feed):
        await until(lambda: feed.error is not None)
        async with open_page(server.url, USER, PASSWORD) as page:
            await expect(page.locator("#broker")).to_contain_text("Broker unreachable: ")
            await expect(page.locator("#broker")).to_contain_text("refused the connection")
            await expect(page.locator("#empty")).to_be_visible()
            await screenshots(page, "fleet-broker-down")


async def test_fleet_page_serves_the_diagnostics_pages_tls(
    mosquitto: Mosquitto, tmp_path: Path
) -> None:
    """`[web] tls` applies to the fleet page too: HTTPS, HSTS, the secure cookie."""
    section = WebSection(listen="127.0.0.1", port=0, user=USER, tls="auto")
    tls = server_tls(section, state_dir=tmp_path, base_dir=tmp_path)
    feed = BrokerFeed(mosquitto.broker())
    server = FleetPageServer(feed, section, PASSWORD, None, "roomagent.fleet", tls=tls)
    async with anyio.create_task_group() as tg:
        tg.start_soon(feed.run)
        await tg.start(server.run)
        assert server.url.startswith("https://")
        async with httpx.AsyncClient(verify=False) as http:
            reply = await http.get(server.url + "session", auth=(USER, PASSWORD))
        assert reply.status_code == 200
        assert "Strict-Transport-Security" in reply.headers
        assert "Secure" in reply.headers["set-cookie"]
        tg.cancel_scope.cancel()
