"""Profile schema and loader: shipped profiles load; errors name file, key and what is allowed."""

from __future__ import annotations

from pathlib import Path

import pytest
from devices_support import profile_file

from roomagent.app import parse_room_config
from roomagent.config.loader import ConfigError
from roomagent.devices import CommandUsageError, ProfileError, list_profiles, load_profile
from roomagent.devices.checks import profile_problems
from roomagent.devices.device import check_address

SHIPPED = {
    "sony-visca", "visca-fixed-reply", "pelco-d", "pelco-p", "kramer-p3000-keypad",
    "lutron-seetouch-keypad", "generic-ascii-keypad",
}  # fmt: skip


def test_every_shipped_profile_loads() -> None:
    assert SHIPPED <= set(list_profiles())
    for name in SHIPPED:
        profile = load_profile(name)
        assert profile.name == name
        assert profile.kind == ("panel" if profile.family == "line" else "camera")
    quirky = load_profile("visca-fixed-reply").visca
    assert quirky is not None and quirky.reply_address == 1


@pytest.mark.parametrize(
    ("text", "key", "allowed"),
    [
        ('family = "visca"\n[serial]\nbaud = 1234\n', "serial.baud", "9600, 19200"),
        ('family = "visca"\n[serial]\nparity = "mark"\n', "serial.parity", '"none", "even"'),
        ('family = "visca"\n[visca]\nspeed = 3\n', "visca.speed", "allowed keys here: pan_speed"),
        ('family = "telnet"\n', "family", '"visca", "pelco-d", "pelco-p" or "line"'),
        ('family = "visca"\n[visca]\npan_speed = {min = 9, max = 2}\n', "visca.pan_speed", "min"),
        ('family = "visca"\n[visca]\nstartup = ["reboot"]\n', "visca.startup[0]", '"if_clear"'),
        ('family = "visca"\n[visca]\nsockets = 3\n', "visca.sockets", "must be at most 2"),
        ('family = "pelco-d"\n[visca]\n', "", "use [pelco]"),
        (
            'family = "line"\n[line]\nbutton_template = "B {x}"\nbutton_actions = {P = "press"}\n'
            'inbound = [{event = "ack", pattern = "OK"}]\n',
            "line.button_template",
            "allowed: {action}, {address}, {n}",
        ),
        (
            'family = "line"\n[line]\nbutton_template = "B {n} {action}"\n'
            'button_actions = {P = "press"}\n'
            'inbound = [{event = "button", pattern = "B (\\\\d+)"}]\n',
            "line.inbound[0]",
            "named groups (?P<action>…), (?P<button>…)",
        ),
    ],
)
def test_profile_errors_name_file_key_and_allowed(
    tmp_path: Path, text: str, key: str, allowed: str
) -> None:
    path = profile_file(tmp_path, "acme-cam", text)
    with pytest.raises(ProfileError) as info:
        load_profile(path)
    err = info.value
    assert err.file == str(path)
    assert err.key == key
    assert allowed in err.message
    assert str(err).startswith(str(path))


def test_unknown_profile_lists_known_ones() -> None:
    with pytest.raises(ProfileError, match=r"unknown profile 'nope'; known: .*sony-visca"):
        load_profile("nope")


def test_new_model_of_known_family_is_only_a_file(tmp_path: Path) -> None:
    profile_file(
        tmp_path,
        "acme-ptz",
        'family = "visca"\nmodel = "ACME PTZ"\n[serial]\nbaud = 38400\n'
        "[visca]\npan_speed = { min = 1, max = 0x20, default = 0x10 }\n",
    )
    profile = load_profile("acme-ptz", [tmp_path])
    assert profile.serial.baud == 38400
    assert profile.visca is not None and profile.visca.pan_speed.max == 0x20
    assert "acme-ptz" in list_profiles([tmp_path])


def test_address_outside_family_range() -> None:
    with pytest.raises(CommandUsageError, match="outside 1–7"):
        check_address(load_profile("sony-visca"), 8)
    assert check_address(load_profile("pelco-p"), None) == 0


def test_config_checks_report_profile_problems(tmp_path: Path) -> None:
    profile_file(tmp_path, "broken", 'family = "visca"\n[serial]\nbaud = 7\n')
    text = (
        'profiles_dirs = ["."]\n'
        '[[devices]]\nname = "a"\nport = "/dev/x"\nprofile = "nope"\n'
        '[[devices]]\nname = "b"\nport = "/dev/y"\nprofile = "sony-visca"\naddress = 9\n'
        '[[devices]]\nname = "c"\nport = "/dev/z"\nprofile = "broken"\n'
        '[[devices]]\nname = "d"\nport = "/dev/w"\nprofile = "pelco-d"\naddress = 200\n'
    )
    with pytest.raises(ConfigError) as info:
        parse_room_config(text, "room.toml", tmp_path)
    problems = [(p.key, p.message) for p in info.value.problems]
    assert problems[0][0] == "devices[0].profile"
    assert problems[0][1].startswith("unknown profile 'nope'; known: ")
    assert problems[1] == (
        "devices[1].address",
        "address 9 is outside 1–7 for visca (profile sony-visca)",
    )
    assert problems[2][0] == "devices[2].profile" and "serial.baud" in problems[2][1]
    assert len(problems) == 3


def test_profile_problems_direct_call(tmp_path: Path) -> None:
    config = parse_room_config('[[devices]]\nname = "a"\nport = "/dev/x"\nprofile = "pelco-d"\n')
    assert profile_problems(config, tmp_path) == []
