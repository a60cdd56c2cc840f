"""The device family registry: every family has all its parts, an unknown one is a clear error."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import roomagent
from roomagent.devices import ProfileError, list_profiles, load_profile
from roomagent.devices.base import Driver
from roomagent.devices.device import make_driver
from roomagent.devices.families import families
from roomagent.devices.profiles import Profile, parse_profile
from roomagent.sim.camera import CameraEmulator
from roomagent.sim.emulator import SerialEmulator
from roomagent.sim.families import EMULATORS, emulator_as, emulator_for
from roomagent.sim.panel import PanelEmulator

BUILTIN = {name: load_profile(name) for name in list_profiles()}


@pytest.fixture(autouse=True)
def _close_the_ptys(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """An emulator opens its pty when built: close the ones these tests build."""
    built: list[SerialEmulator] = []
    original = SerialEmulator.__init__

    def record(self: SerialEmulator, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        built.append(self)

    monkeypatch.setattr(SerialEmulator, "__init__", record)
    yield
    for emulator in built:
        emulator.port.close()


def test_registry_holds_the_known_families_in_order() -> None:
    assert list(families()) == ["visca", "pelco-d", "pelco-p", "line"]


@pytest.mark.parametrize("name", list(families()))
def test_every_family_has_all_its_parts(name: str) -> None:
    family = families()[name]
    assert family.section in Profile.model_fields, f"{name}: no [{family.section}] in Profile"
    low, high, default = family.addresses
    assert low <= default <= high
    assert name in EMULATORS, f"{name}: no emulator in roomagent/sim/families.py"
    profiles = [p for p in BUILTIN.values() if p.family == name]
    assert profiles, f"{name}: no profile in firmware_profiles/"
    for profile in profiles:
        assert profile.kind == family.kind
        driver = make_driver(profile, profile.default_address, None)
        assert isinstance(driver, Driver)
        assert isinstance(emulator_for(profile), SerialEmulator)


def test_no_emulator_for_a_family_that_does_not_exist() -> None:
    assert set(EMULATORS) == set(families())


def test_unknown_family_names_the_file_and_key(tmp_path: Path) -> None:
    with pytest.raises(ProfileError) as info:
        parse_profile('family = "telnet"\n', str(tmp_path / "x.toml"), "x")
    text = str(info.value)
    assert "x.toml" in text and "family" in text
    assert '"visca", "pelco-d", "pelco-p" or "line"' in text


def test_an_emulator_plays_its_profile_at_the_address_asked_for() -> None:
    for profile in BUILTIN.values():
        high = families()[profile.family].addresses[1]
        emulator = emulator_for(profile, high)
        assert emulator.profile is profile
        assert type(emulator) is EMULATORS[profile.family]
        assert _address(emulator) == high
        assert _address(emulator_for(profile)) == profile.default_address


def _address(emulator: SerialEmulator) -> int:
    """Where the emulated device answers: a camera's address, a keypad's line dialect's."""
    if isinstance(emulator, PanelEmulator):
        return emulator.dialect.address
    assert isinstance(emulator, CameraEmulator)
    return emulator.address


def test_a_caller_that_needs_a_kind_gets_it_or_a_clear_error() -> None:
    camera, panel = BUILTIN["sony-visca"], BUILTIN["generic-ascii-keypad"]
    assert isinstance(emulator_as(CameraEmulator, camera), CameraEmulator)
    assert isinstance(emulator_as(PanelEmulator, panel), PanelEmulator)
    with pytest.raises(LookupError, match="generic-ascii-keypad is a panel: no CameraEmulator"):
        emulator_as(CameraEmulator, panel)


def test_a_family_without_an_emulator_is_a_clear_error() -> None:
    alien = BUILTIN["sony-visca"].model_copy(update={"family": "telnet"})
    with pytest.raises(LookupError, match="no emulator for device family 'telnet'"):
        emulator_for(alien)


# Whatever plays a device goes through the table (a new family needs no edit there).
_BUILT_DIRECTLY = re.compile(
    r"\b(" + "|".join(sorted({getattr(c, "__name__", "") for c in EMULATORS.values()})) + r")\("
)


def test_the_cli_demo_and_rig_build_emulators_through_the_table() -> None:
    repo = Path(roomagent.__file__).parent.parent
    sim = repo / "roomagent" / "sim"
    found = []
    for path in sorted([*(repo / "roomagent").rglob("*.py"), *(repo / "hil").rglob("*.py")]):
        if path.is_relative_to(sim):
            continue
        text = path.read_text(encoding="utf-8")
        for m in _BUILT_DIRECTLY.finditer(text):
            found.append(f"{path.relative_to(repo)}:{text.count(chr(10), 0, m.start()) + 1}")
    assert found == []
