"""`roomagent check-config` as a person runs it (a subprocess), on broken configs: each
problem is one line `file:line: key: what is wrong`, in words, found before anything runs."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.control.test_checks import DEVICES as TWO_DEVICES
from tests.web.tls_helpers import write_pair

ROOT = Path(__file__).resolve().parents[2]
# The two devices the binding checks' tests use, and three more profiles.
DEVICES = (
    TWO_DEVICES
    + """
[[devices]]
name = "pelco"
port = "/dev/ttyUSB2"
profile = "pelco-d"

[[devices]]
name = "lutron"
port = "/dev/ttyUSB3"
profile = "lutron-seetouch-keypad"

[[devices]]
name = "kramer"
port = "/dev/ttyUSB4"
profile = "kramer-p3000-keypad"
"""
)
# Validator wording that must never reach a person.
INTERNALS = ("should", "pattern", "Input", "Traceback", "validation error", "pydantic", "^")

# (what is broken, TOML, the one line expected: key and message after "file:line: ")
BROKEN = [
    ("port as text", '[web]\nport = "8080"\n',
     'web.port: must be a whole number, not text in quotes (got "8080")'),
    ("enabled as text", '[web]\nenabled = "yes"\n',
     'web.enabled: must be true or false, not text in quotes (got "yes")'),
    ("Rooms URL scheme", '[rooms]\nurl = "http://10.0.0.5:6295"\n',
     'rooms.url: must start with ws:// or wss:// (got "http://10.0.0.5:6295")'),
    ("timeout below range", "[rooms]\ncall_timeout = -1\n",
     "rooms.call_timeout: must be more than 0 (got -1)"),
    ("log level", '[log]\nlevel = "verbose"\n',
     'log.level: must be one of "debug", "info", "warning" or "error" (got "verbose")'),
    ("subscribe not a list", '[rooms]\nsubscribe = "Meeting"\n',
     'rooms.subscribe: must be a list, e.g. ["a", "b"] (got "Meeting")'),
    ("state_dir a number", "state_dir = 5\n", "state_dir: must be a file path in quotes (got 5)"),
    ("unknown key", '[web]\npasword = "x"\n', "web.pasword: unknown key; allowed keys here: "),
    ("device name", DEVICES + '\n[[devices]]\nname = "my cam"\nport = "/dev/x"\n'
     'profile = "sony-visca"\n',
     "devices[5].name: may use only letters, digits, '.', '_' and '-' (got \"my cam\")"),
    ("device without port", '[[devices]]\nname = "cam"\nprofile = "sony-visca"\n',
     "devices[0].port: required key is missing"),
    ("unknown profile", '[[devices]]\nname = "cam"\nport = "/dev/x"\nprofile = "sony"\n',
     "devices[0].profile: unknown profile 'sony'; known: "),
    ("VISCA address", '[[devices]]\nname = "cam"\nport = "/dev/x"\nprofile = "sony-visca"\n'
     "address = 9\n", "devices[0].address: address 9 is outside 1–7 for visca"),
    ("preset beyond the camera", DEVICES + '\n[[bindings]]\ndevice = "panel"\nbutton = 1\n'
     'action = "camera.preset"\ncamera = "cam"\npreset = 200\n',
     "bindings[0].preset: camera 'cam' (sony-visca): preset number must be 0–127 (got 200)"),
    ("preset as text", DEVICES + '\n[[bindings]]\ndevice = "panel"\nbutton = 1\n'
     'action = "camera.preset"\ncamera = "cam"\npreset = "3"\n',
     "bindings[0].preset: camera.preset: 'preset' must be an integer 0-255 (got '3')"),
    ("button beyond the keypad", DEVICES + '\n[[bindings]]\ndevice = "panel"\nbutton = 99\n'
     'action = "meeting.start"\n',
     "bindings[0].button: panel 'panel': generic-ascii-keypad has buttons 1–32 (got 99)"),
    ("pan speed beyond the camera", DEVICES + '\n[[bindings]]\ndevice = "panel"\nbutton = 2\n'
     'action = "camera.move"\ncamera = "cam"\ndirection = "left"\nspeed = 40\n',
     "bindings[0].speed: camera 'cam' (sony-visca): pan speed must be 1–24 (got 40)"),
    ("zoom speed on Pelco", DEVICES + '\n[[bindings]]\ndevice = "panel"\nbutton = 3\n'
     'action = [{ action = "camera.zoom", camera = "pelco", direction = "tele", speed = 3 }]\n',
     "bindings[0].action[0].speed: camera 'pelco' (pelco-d): pelco-d has no zoom speed"),
    ("LED beyond the keypad", DEVICES + '\n[[feedback]]\ndevice = "panel"\nwhen = "idle"\n'
     "led = 99\n",
     "feedback[0].led: panel 'panel' (generic-ascii-keypad): LED number must be 1–32 (got 99)"),
    ("text line beyond the panel", DEVICES + '\n[[feedback]]\ndevice = "panel"\n'
     'when = "idle"\ntext_line = 150\ntext = "Free"\n',
     "feedback[0].text_line: must be at most 99 (got 150)"),
    ("text on a panel without a display", DEVICES + '\n[[feedback]]\ndevice = "lutron"\n'
     'when = "idle"\ntext_line = 1\ntext = "Free"\n',
     "feedback[0].text_line: panel 'lutron' (lutron-seetouch-keypad): this panel has no text "
     "display in its profile"),
    ("unknown LED colour", DEVICES + '\n[[feedback]]\ndevice = "kramer"\nwhen = "idle"\n'
     'led = 1\ncolour = "purple"\n',
     "feedback[0].colour: panel 'kramer' (kramer-p3000-keypad): unknown colour 'purple'; "
     "known: red, green, blue, amber, white"),
    ("TOML syntax", '[room]\nname = "Huddle\n', "not valid TOML: "),
    ("TLS cert file missing", '[web]\ntls = "files"\ncert_file = "gone.crt"\n'
     'key_file = "site.key"\n', "web.cert_file: file not found: "),
    ("TLS key of another cert", '[web]\ntls = "files"\ncert_file = "site.crt"\n'
     'key_file = "other.key"\n',
     "web.key_file: the key does not belong to the certificate in web.cert_file"),
]  # fmt: skip


def check_config(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "roomagent", "check-config", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )


@pytest.mark.parametrize(("what", "text", "expected"), BROKEN, ids=[b[0] for b in BROKEN])
def test_a_broken_config_gets_one_line_in_words(
    tmp_path: Path, what: str, text: str, expected: str
) -> None:
    write_pair(tmp_path, "site")
    write_pair(tmp_path, "other")
    path = tmp_path / "room.toml"
    path.write_text(text)
    done = check_config(path)
    assert done.returncode == 1, (what, done.stdout)
    lines = done.stderr.splitlines()
    assert len(lines) == 1, lines
    assert re.match(rf"{re.escape(str(path))}:\d+: ", lines[0]), lines[0]
    message = lines[0].split(": ", 1)[1]
    assert message.startswith(expected), message
    assert not any(word in message for word in INTERNALS), message


@pytest.mark.parametrize("name", ["demo.toml", "room.toml"])
def test_the_bundled_examples_pass(name: str) -> None:
    for folder in (ROOT / "examples", ROOT / "roomagent" / "examples"):
        done = check_config(folder / name)
        assert done.returncode == 0, done.stderr
        assert done.stdout.startswith(f"{folder / name}: OK (")


def test_a_broker_account_other_than_the_topic_id_is_a_warning(tmp_path: Path) -> None:
    mqtt = '[mqtt]\nurl = "mqtt://127.0.0.1:1883"\nusername = "huddle-3a"\n'
    path = tmp_path / "room.toml"
    path.write_text('[room]\nname = "Huddle 3A"\n' + mqtt)
    done = check_config(path)
    assert done.returncode == 0, done.stderr
    (line,) = done.stderr.splitlines()
    assert line.startswith(f"{path}: warning: mqtt.username: the topic id ")
    assert "(from the machine id ([room] id is not set))" in line
    assert line.endswith("with the shipped ACL set [room] id = 'huddle-3a'")
    path.write_text('[room]\nname = "Huddle 3A"\nid = "huddle-3a"\n' + mqtt)
    done = check_config(path)
    assert done.returncode == 0 and done.stderr == "", done.stderr
