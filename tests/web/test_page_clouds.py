"""In Chromium, the page's cloud-meeting block against the real App and loopback clouds: the
Quanshi meeting behind the current booking's link, and "invite a number into this room's
Huawei meeting" reaching the control-token and participants endpoints."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from playwright.async_api import expect

from roomagent.config.model import CalendarSection, CloudSection, HuaweiSection, QuanshiSection
from roomagent.demo import CAMERA_PROFILE, PANEL_PROFILE
from roomagent.devices.profiles import load_profile
from roomagent.scheduling import huawei_booked
from roomagent.scheduling.huawei import Conference
from roomagent.sim.camera import CameraEmulator
from roomagent.sim.clouds import QUANSHI_SEED_MEETING, HuaweiCloud, QuanshiCloud, YunzhijiaCloud
from roomagent.sim.panel import PanelEmulator
from roomagent.sim.rooms import RoomsSimulator

from . import test_page_real_agent as real_agent
from .real_room import app_page, demo_room_config
from .test_page_browser import screenshots
from .test_page_real_agent import PASSWORDS, ROOMS_PASSWORD, WEB_PASSWORD

pytestmark = real_agent.pytestmark
YZJ_TOKEN = "yzj-token-page-clouds"
QS_TOKEN = "qs-token-page-clouds"
CHAIR = "chair-SECRET-page-7373"


async def test_page_shows_the_quanshi_detail_and_invites_into_the_huawei_meeting(
    tmp_path: Path,
) -> None:
    for name, value in (("yzj.token", YZJ_TOKEN), ("qs.token", QS_TOKEN), ("chair.pw", CHAIR)):
        (tmp_path / name).write_text(value + "\n")
    now = datetime.now(UTC)
    camera = CameraEmulator(load_profile(CAMERA_PROFILE))
    panel = PanelEmulator(load_profile(PANEL_PROFILE))
    with (
        YunzhijiaCloud(YZJ_TOKEN) as yzj,
        HuaweiCloud("hwm-fixed-token", chair_password=CHAIR) as hwm,
        QuanshiCloud(QS_TOKEN) as qs,
    ):
        link = QUANSHI_SEED_MEETING["attendeeJoinUrl"]
        yzj.add_booking("23F会议室", now - timedelta(minutes=5), now + timedelta(minutes=30),
                        topic="Supplier call", content=f"Quanshi: {link}")  # fmt: skip
        running = HuaweiCloud.RUNNING_CONFERENCE
        huawei_booked.remember(
            tmp_path,
            Conference(running, "Board", now - timedelta(minutes=10), now + timedelta(minutes=50),
                       "Created", None),
        )  # fmt: skip
        async with RoomsSimulator(password=ROOMS_PASSWORD) as sim, camera, panel:
            config = demo_room_config(sim, panel, camera, tmp_path, PASSWORDS)
            config.calendar = CalendarSection(yunzhijia=yzj.section(tmp_path / "yzj.token"))
            config.cloud = CloudSection(
                huawei=HuaweiSection(
                    base_url=hwm.url,
                    token_env="ROOMAGENT_PAGE_TEST_UNSET",  # invites need no access token
                    chair_password_file=tmp_path / "chair.pw",
                ),
                quanshi=QuanshiSection(url=qs.endpoint, token_file=tmp_path / "qs.token"),
            )
            async with app_page(config, tmp_path, WEB_PASSWORD) as (_, page):
                card = page.locator("#card-clouds")
                await expect(card).to_be_visible()
                facts = page.locator("#detail-facts")
                await expect(facts).to_contain_text("哦")
                await expect(facts).to_contain_text("pxytest24")
                await expect(facts).to_contain_text("no Tencent meeting code")
                await expect(page.locator("#invite-heading")).to_contain_text("“Board”")
                await page.locator("#invite-name").fill("Room 5B")
                await page.locator("#invite-address").fill("+8657100")
                await page.get_by_role("button", name="Invite").click()
                result = page.locator("#clouds-result")
                await expect(result).to_contain_text(f"invited Room 5B into conference {running}")
                assert hwm.conferences[running]["attendees"][0]["phone"] == "+8657100"
                await page.locator("#invite-how").select_option("email")
                await page.locator("#invite-name").fill("Ann")
                await page.locator("#invite-address").fill("ann@example.com")
                await page.get_by_role("button", name="Invite").click()
                await expect(result).to_contain_text("no notification")
                await screenshots(page, "clouds-block")
                html = await page.content()
                for secret in (CHAIR, QS_TOKEN, *QUANSHI_SEED_MEETING["pcode1"].split()):
                    assert secret not in html
