"""`roomagent check-config`: the shipped example is valid; bad bindings/feedback get exact,
located messages that say what is allowed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from roomagent.app import load_room_config
from roomagent.config.loader import ConfigError

ROOT = Path(__file__).resolve().parents[2]

DEVICES = """
[[devices]]
name = "panel"
port = "/dev/ttyUSB0"
profile = "generic-ascii-keypad"

[[devices]]
name = "cam"
port = "/dev/ttyUSB1"
profile = "sony-visca"
"""

ALLOWED_ACTIONS = (
    "meeting.start, meeting.join, meeting.join_next, meeting.leave, meeting.dissolve, "
    "meeting.leave_waiting_room, meeting.layout, camera.preset, camera.move, camera.zoom, "
    "camera.stop, camera.home, camera.power, calendar.book_now, calendar.end_early, "
    "huawei.invite, delay"
)


def at(extra: str, snippet: str, nth: int = 0) -> int:
    """The line number of the nth line containing `snippet` in DEVICES + extra."""
    lines = [i for i, line in enumerate((DEVICES + extra).splitlines(), 1) if snippet in line]
    return lines[nth]


def _check(tmp_path: Path, extra: str) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "room.toml"
    path.write_text(DEVICES + extra)
    return subprocess.run(
        [sys.executable, "-m", "roomagent", "check-config", str(path)],
        capture_output=True,
        text=True,
        timeout=30,
    )


def _problems(tmp_path: Path, extra: str) -> list[str]:
    path = tmp_path / "room.toml"
    path.write_text(DEVICES + extra)
    with pytest.raises(ConfigError) as info:
        load_room_config(path)
    return [str(p).replace(str(path), "room.toml") for p in info.value.problems]


def test_shipped_example_is_valid() -> None:
    example = "examples/room.toml"
    proc = subprocess.run(
        [sys.executable, "-m", "roomagent", "check-config", str(ROOT / example)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert proc.returncode == 0, proc.stderr
    assert "OK (2 devices, 18 bindings, 13 feedback rules)" in proc.stdout


def test_good_config_exits_0(tmp_path: Path) -> None:
    proc = _check(
        tmp_path,
        '[[bindings]]\ndevice = "panel"\nbutton = 1\naction = "camera.preset"\n'
        'camera = "cam"\npreset = 3\n',
    )
    assert proc.returncode == 0 and proc.stderr == ""


def test_unknown_device(tmp_path: Path) -> None:
    extra = '[[bindings]]\ndevice = "keypad"\nbutton = 1\naction = "meeting.start"\n'
    proc = _check(tmp_path, extra)
    line = at(extra, 'device = "keypad"')
    assert proc.returncode == 1
    assert proc.stderr.splitlines() == [
        f"{tmp_path / 'room.toml'}:{line}: bindings[0].device: "
        "unknown device 'keypad'; "
        "devices: panel, cam"
    ]


def test_unknown_action_lists_the_allowed_ones(tmp_path: Path) -> None:
    extra = '[[bindings]]\ndevice = "panel"\nbutton = 1\naction = "start"\n'
    problems = _problems(tmp_path, extra)
    assert problems == [
        f"room.toml:{at(extra, 'action')}: bindings[0].action: unknown action 'start'; "
        f"allowed: {ALLOWED_ACTIONS}"
    ]


def test_missing_and_bad_parameters_name_what_is_allowed(tmp_path: Path) -> None:
    extra = (
        '[[bindings]]\ndevice = "panel"\nbutton = 1\naction = "meeting.layout"\n\n'
        '[[bindings]]\ndevice = "panel"\nbutton = 2\naction = "meeting.layout"\nswitch_type = 9\n'
        "\n"
        '[[bindings]]\ndevice = "panel"\nbutton = 3\naction = "meeting.leave"\nswitch_type = 2\n'
        "\n"
        '[[bindings]]\ndevice = "panel"\nbutton = 4\naction = "meeting.join"\n'
        "meeting_code = 123456789\n"
    )
    assert _problems(tmp_path, extra) == [
        # A missing key has no line of its own: the binding's header is shown.
        f"room.toml:{at(extra, '[[bindings]]', 0)}: bindings[0].switch_type: "
        "meeting.layout needs 'switch_type': an integer 1-7",
        f"room.toml:{at(extra, 'switch_type = 9')}: bindings[1].switch_type: meeting.layout: "
        "'switch_type' must be an integer 1-7 (got 9)",
        f"room.toml:{at(extra, 'switch_type = 2')}: bindings[2].switch_type: meeting.leave has "
        "no parameter 'switch_type'; allowed: none",
        f"room.toml:{at(extra, 'meeting_code')}: bindings[3].meeting_code: meeting.join: "
        "'meeting_code' must be "
        'a quoted string of 6-20 digits, e.g. "123456789" (got 123456789)',
    ]


def test_camera_action_naming_a_panel_or_nothing(tmp_path: Path) -> None:
    extra = (
        '[[bindings]]\ndevice = "panel"\nbutton = 1\naction = "camera.home"\ncamera = "panel"\n'
        "\n"
        '[[bindings]]\ndevice = "panel"\nbutton = 2\naction = "camera.home"\ncamera = "ptz"\n'
        "\n"
        '[[bindings]]\ndevice = "cam"\nbutton = 3\naction = "camera.home"\ncamera = "cam"\n'
    )
    lines = [
        at(extra, 'camera = "panel"'),
        at(extra, 'camera = "ptz"'),
        at(extra, 'device = "cam"'),
    ]
    assert _problems(tmp_path, extra) == [
        f"room.toml:{lines[0]}: bindings[0].camera: 'panel' is a panel, not a camera; cameras: cam",
        f"room.toml:{lines[1]}: bindings[1].camera: unknown camera 'ptz'; cameras: cam",
        f"room.toml:{lines[2]}: bindings[2].device: 'cam' is a camera; "
        "buttons come from panels: panel",
    ]


def test_macro_steps_delay_and_held_moves(tmp_path: Path) -> None:
    extra = (
        '[[bindings]]\ndevice = "panel"\nbutton = 1\naction = [\n'
        '  { action = "camera.preset", camera = "cam", preset = 1 },\n'
        '  { action = "delay", seconds = 100 },\n'
        "]\n\n"
        '[[bindings]]\ndevice = "panel"\nbutton = 2\naction = "delay"\nseconds = 1\n\n'
        '[[bindings]]\ndevice = "panel"\nbutton = 3\non = "release"\naction = "camera.move"\n'
        'camera = "cam"\ndirection = "left"\n'
    )
    delay_line, on_line = at(extra, 'action = "delay"', 1), at(extra, 'on = "release"')
    assert _problems(tmp_path, extra) == [
        # Inline tables have no line of their own: the macro's `action = [` line is shown.
        f"room.toml:{at(extra, 'action = [')}: bindings[0].action[1].seconds: delay: 'seconds' "
        "must be a number of seconds up to 60 (got 100)",
        f"room.toml:{delay_line}: bindings[1].action: delay only makes "
        "sense inside a macro (a list)",
        f"room.toml:{on_line}: bindings[2].on: camera.move moves while the button is "
        "held; bind it on press or hold",
    ]


def test_duplicate_binding_and_feedback_problems(tmp_path: Path) -> None:
    extra = (
        '[[bindings]]\ndevice = "panel"\nbutton = 1\naction = "meeting.start"\n\n'
        '[[bindings]]\ndevice = "panel"\nbutton = 1\naction = "meeting.leave"\n\n'
        '[[feedback]]\ndevice = "cam"\nled = 1\nwhen = "idle"\n\n'
        '[[feedback]]\ndevice = "panel"\ntext_line = 1\nwhen = "idle"\ntext = "Next {next}"\n'
    )
    problems = _problems(tmp_path, extra)
    cam_line = at(extra, 'device = "cam"')
    assert problems[0] == (
        f"room.toml:{at(extra, 'button = 1', 1)}: bindings[1].button: button 1 on press is "
        "already bound in bindings[0]"
    )
    assert problems[1] == (
        f"room.toml:{cam_line}: feedback[0].device: 'cam' is a camera; "
        "feedback goes to panels: panel"
    )
    assert problems[2].startswith(
        f"room.toml:{at(extra, 'text = ')}: feedback[1].text: unknown field {{next}}; allowed: "
        "{room}, {state}, {meeting_code}"
    )


def test_bad_when_is_reported_by_the_schema(tmp_path: Path) -> None:
    extra = '[[feedback]]\ndevice = "panel"\nled = 1\nwhen = "busy"\n'
    problems = _problems(tmp_path, extra)
    assert problems == [
        f'room.toml:{at(extra, "when")}: feedback[0].when: must be one of "idle", "joining", '
        '"in_meeting", "waiting_room", "rooms_offline" or "device_offline" (got "busy")'
    ]


def test_a_zero_lower_bound_is_named(tmp_path: Path) -> None:
    extra = (
        '[[bindings]]\ndevice = "panel"\nbutton = 1\naction = "camera.preset"\n'
        'camera = "cam"\npreset = 999\n'
    )
    (problem,) = _problems(tmp_path, extra)
    assert problem.endswith("camera.preset: 'preset' must be an integer 0-255 (got 999)")


def test_calendar_actions_are_checked_like_the_others(tmp_path: Path) -> None:
    extra = (
        '[[bindings]]\ndevice = "panel"\nbutton = 1\naction = "calendar.book_now"\n'
        "minutes = 300\n\n"
        '[[bindings]]\ndevice = "panel"\nbutton = 2\naction = "calendar.book_now"\n'
        'title = " "\n\n'
        '[[bindings]]\ndevice = "panel"\nbutton = 3\naction = "calendar.end_early"\n'
        "minutes = 15\n\n"
        '[[bindings]]\ndevice = "panel"\nbutton = 4\naction = "calendar.book_now"\n'
    )
    assert _problems(tmp_path, extra) == [
        f"room.toml:{at(extra, 'minutes = 300')}: bindings[0].minutes: "
        "calendar.book_now: 'minutes' must be an integer 15-240 (got 300)",
        f"room.toml:{at(extra, 'title')}: bindings[1].title: "
        "calendar.book_now: 'title' must be a title of 1-100 characters, not blank (got ' ')",
        f"room.toml:{at(extra, 'minutes = 15')}: bindings[2].minutes: "
        "calendar.end_early has no parameter 'minutes'; allowed: none",
    ]
