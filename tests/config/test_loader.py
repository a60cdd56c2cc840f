from pathlib import Path

import pytest

from roomagent.config.loader import ConfigError, load_config, parse_config


def problems(text: str) -> list[str]:
    with pytest.raises(ConfigError) as info:
        parse_config(text, "room.toml")
    return [str(p) for p in info.value.problems]


def test_defaults_are_valid() -> None:
    config = parse_config("", "room.toml")
    assert config.rooms.url == "ws://127.0.0.1:6295"
    assert config.web.listen == "127.0.0.1"


def test_bad_value_names_file_line_key_and_allowed() -> None:
    text = '[rooms]\nurl = "ws://x"\n\n[[devices]]\nname = "p"\nport = "/dev/x"\nprofile = "x"\n'
    text += '\n[[bindings]]\ndevice = "p"\nbutton = 1\non = "tap"\naction = "meeting.start"\n'
    assert problems(text) == [
        'room.toml:12: bindings[0].on: must be one of "press", "hold" or "release" (got "tap")'
    ]


def test_unknown_key_lists_allowed_keys() -> None:
    (msg,) = problems('[web]\nlisten = "0.0.0.0"\npasword = "x"\n')
    assert msg.startswith(
        "room.toml:3: web.pasword: unknown key; allowed keys here: enabled, listen"
    )


def test_toml_syntax_error_has_line() -> None:
    (msg,) = problems('[room]\nname = "A\n')
    assert msg.startswith("room.toml:2: not valid TOML")


def test_duplicate_device_names() -> None:
    dev = '[[devices]]\nname = "cam"\nport = "/dev/a"\nprofile = "sony-visca"\n'
    (msg,) = problems(dev + dev)
    assert "repeated: cam" in msg


def test_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path / "missing.toml")
    assert "cannot read" in str(info.value)
