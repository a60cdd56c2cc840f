"""The shipped systemd unit and udev rules: what the issue asks of them, and that systemd
itself accepts the unit (where systemd-analyze is installed)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

SYSTEMD = Path(__file__).resolve().parents[2] / "systemd"
UNIT = SYSTEMD / "roomagent.service"
RULES = SYSTEMD / "99-roomagent-serial.rules"


def directives(text: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for line in text.splitlines():
        if "=" in line and not line.lstrip().startswith(("#", "[")):
            key, value = line.split("=", 1)
            found.setdefault(key.strip(), []).append(value.strip())
    return found


def test_unit_has_the_hardening_and_lifecycle_the_box_needs() -> None:
    unit = directives(UNIT.read_text())
    expected = {
        "Type": "notify",
        "Restart": "on-failure",
        "DynamicUser": "yes",
        "SupplementaryGroups": "dialout",
        "ProtectSystem": "strict",
        "NoNewPrivileges": "yes",
        "StateDirectory": "roomagent",
        "ConfigurationDirectory": "roomagent",
    }
    for key, value in expected.items():
        assert unit.get(key) == [value], key
    assert int(unit["WatchdogSec"][0]) > 0
    assert unit["ExecStart"][0].split()[1:3] == ["run", "--config"]
    # The agent runs with -OO (less resident memory): test_idle_imports runs it so.
    assert "PYTHONOPTIMIZE=2" in unit["Environment"]


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze not installed")
def test_systemd_accepts_the_unit(tmp_path: Path) -> None:
    # verify checks that ExecStart exists; point it at a binary every machine has.
    unit = tmp_path / "roomagent.service"
    text = UNIT.read_text()
    unit.write_text(re.sub(r"^ExecStart=\S+", "ExecStart=/bin/true", text, flags=re.M))
    proc = subprocess.run(
        ["systemd-analyze", "verify", str(unit)], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    assert "roomagent.service" not in proc.stderr  # no warnings about our unit


def test_udev_rules_give_dialout_access_and_stable_names() -> None:
    rules = [
        line
        for line in RULES.read_text().splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    key = re.compile(r"^(ACTION|SUBSYSTEM|ATTRS\{\w+\}|ENV\{\w+\}|GROUP|MODE|SYMLINK|GOTO|LABEL)")
    for line in rules:
        for part in re.split(r",\s*", line):
            assert key.match(part.strip()), f"unexpected udev key in: {line}"
    text = "\n".join(rules)
    assert 'GROUP="dialout", MODE="0660"' in text
    assert "SYMLINK+=" in text and 'LABEL="roomagent_end"' in text
    for vendor in ("0403", "067b", "1a86", "10c4"):  # FTDI, Prolific, WCH, Silicon Labs
        assert f'ATTRS{{idVendor}}=="{vendor}"' in text
