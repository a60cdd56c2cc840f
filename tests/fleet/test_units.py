"""The fleet plane's pieces without a broker: topics, commands, de-dup, outbox, config."""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path

import anyio
import pytest

from roomagent.app import parse_room_config
from roomagent.config.loader import ConfigError
from roomagent.fleet.broker import BrokerConfigError, parse_broker
from roomagent.fleet.commands import CommandLog, error_result, parse_command, refusal
from roomagent.fleet.outbox import Outbox
from roomagent.fleet.topics import RoomTopics, parse_topic, slug

pytestmark = pytest.mark.anyio


def test_topics_and_room_ids() -> None:
    topics = RoomTopics("roomagent", "hq", "huddle-3a")
    assert topics.cmd_result == "roomagent/hq/huddle-3a/cmd/result"
    name = parse_topic("roomagent", topics.cmd_result)
    assert name is not None and (name.site, name.room, name.kind) == (
        "hq",
        "huddle-3a",
        "cmd/result",
    )
    assert parse_topic("roomagent", "roomagent/hq/huddle-3a/other") is None
    assert parse_topic("roomagent", "elsewhere/hq/x/status") is None
    assert slug("Huddle 3A (2nd floor)") == "huddle-3a-2nd-floor"


def test_commands_parse_and_the_allow_list() -> None:
    command = parse_command(b'{"id": "a", "action": "meeting.layout", "switch_type": 2}')
    assert command.action == {"action": "meeting.layout", "switch_type": 2}
    assert refusal(command, ["meeting.layout"]) is None
    assert refusal(command, []) == "meeting.layout: not allowed from the fleet"
    press = parse_command('{"id": "b", "press": {"device": "panel", "button": 3}}')
    assert press.press == {"device": "panel", "button": 3, "how": "press"}
    assert refusal(press, ["meeting.leave"]) == "press: not allowed from the fleet"
    assert refusal(press, ["press"]) is None
    with pytest.raises(ValueError, match="larger than"):
        parse_command(b"{" + b" " * 20000 + b"}")
    with pytest.raises(ValueError, match='"action" must be'):
        parse_command('{"id": "m", "action": [{"action": "meeting.leave"}]}')  # no macros
    assert error_result(None, "x") == {"id": None, "ok": False, "error": "x"}


async def test_a_command_id_is_remembered_for_the_window_only() -> None:
    log = CommandLog(window=0.2)
    assert log.begin("c1") is None
    earlier = log.begin("c1")
    assert earlier is not None
    log.finish("c1", {"id": "c1", "ok": True})
    assert await log.answer_of(earlier) == {"id": "c1", "ok": True}
    await anyio.sleep(0.3)
    assert log.begin("c1") is None  # older than the window: a new command
    bounded = CommandLog(limit=3)
    for n in range(10):
        bounded.begin(f"id{n}")
    assert len(bounded) <= 4


def test_outbox_drops_the_oldest_and_counts() -> None:
    box = Outbox(limit=3)
    for n in range(5):
        box.put({"n": n})
    assert box.dropped == 2 and box.peek() == {"n": 2} and len(box) == 3


def test_broker_urls() -> None:
    assert parse_broker("mqtts://broker.example").port == 8883
    assert parse_broker("mqtt://127.0.0.1:1884").url == "mqtt://127.0.0.1:1884"
    for bad in ("http://x", "mqtt://", "mqtt://user:pw@host"):
        with pytest.raises(BrokerConfigError):
            parse_broker(bad)


def test_mqtt_section_checks(tmp_path: Path) -> None:
    base = '[mqtt]\nurl = "mqtts://broker:8883"\nusername = "r1"\n'
    config = parse_room_config(base + 'allow_actions = ["meeting.leave", "press"]\n')
    assert config.mqtt is not None and config.mqtt.site == "default"
    assert config.mqtt.topic_prefix == "roomagent" and config.mqtt.keepalive == 30
    assert config.mqtt.homeassistant and config.mqtt.allow_actions == ["meeting.leave", "press"]
    with pytest.raises(ConfigError, match=r"unknown action 'meeting\.explode'"):
        parse_room_config(base + 'allow_actions = ["meeting.explode"]\n')
    with pytest.raises(ConfigError, match="site"):
        parse_room_config(base + 'site = "a/b"\n')
    with pytest.raises(ConfigError, match="password"):
        parse_room_config(base + 'password = "inline"\n')  # secrets from env/file only
    with pytest.raises(ConfigError, match="client_key"):
        parse_room_config(base + 'client_cert = "c.pem"\n')


def test_the_page_loads_nothing_from_elsewhere() -> None:
    folder = resources.files("roomagent.fleet") / "static"
    for name in ("index.html", "fleet.js", "fleet.css"):
        text = (folder / name).read_text()
        assert not re.search(r"(src|href)=\"(https?:)?//", text), name
        assert "cdn" not in text.lower()
