"""A site broker bridged to a central one with the shipped example (site-bridge.conf):
agent → site broker → central broker → `fleet status` sees it; commands come back in."""

from __future__ import annotations

from pathlib import Path

import pytest

from roomagent.fleet.tools import call, collect

from .conftest import MOSQUITTO, Mosquitto
from .rooms import fleet_room, until, wait_retained

pytestmark = pytest.mark.anyio
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "mosquitto" / "site-bridge.conf"


def site_bridge_conf(central: Mosquitto) -> str:
    text = EXAMPLE.read_text()
    text = text.replace("address central.example.net:8883", f"address 127.0.0.1:{central.port}")
    text = text.replace("remote_password CHANGE-ME", "remote_password bridge-pw-9090")
    text = text.replace("restart_timeout 2 30", "restart_timeout 1 2")
    # The lab has no TLS between the brokers: the one line naming the central CA goes.
    return "\n".join(line for line in text.splitlines() if not line.startswith("bridge_cafile"))


@pytest.fixture
def brokers():  # type: ignore[no-untyped-def]
    if not Path(MOSQUITTO).exists():
        pytest.skip("Debian mosquitto is not installed")
    central = Mosquitto()
    central.start()
    site = Mosquitto(extra_conf=site_bridge_conf(central) + "\n")
    site.start()
    try:
        yield site, central
    finally:
        site.cleanup()
        central.cleanup()


async def test_agent_on_a_site_broker_is_seen_and_commanded_centrally(
    brokers: tuple[Mosquitto, Mosquitto], tmp_path: Path
) -> None:
    site, central = brokers
    async with fleet_room(site, "huddle-3a", tmp_path, allow_actions=["meeting.start"]) as (
        agent,
        _,
    ):
        operator = central.broker()
        await wait_retained(
            operator, "roomagent/hq/huddle-3a/availability", lambda v: v == "online", 20
        )
        view = await collect(operator)
        (row,) = view.rows()
        assert (row["room_id"], row["site"], row["online"]) == ("huddle-3a", "hq", True)
        assert row["version"] == agent.core.status()["version"]
        answer = await call(operator, "huddle-3a", {"action": "meeting.start"}, answer_within=20)
        assert answer["ok"] is True, answer
        await until(
            lambda: any(e.get("action") == "meeting.start" for e in agent.core.recent_events())
        )
