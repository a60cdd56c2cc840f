"""The device family registry: every family has all its parts, an unknown one is a clear error."""

from __future__ import annotations

from pathlib import Path

import pytest

from roomagent.devices import ProfileError, list_profiles, load_profile
from roomagent.devices.base import Driver
from roomagent.devices.device import make_driver
from roomagent.devices.families import families
from roomagent.devices.profiles import Profile, parse_profile
from roomagent.sim.emulator import SerialEmulator
from roomagent.sim.families import EMULATORS, emulator_for

BUILTIN = {name: load_profile(name) for name in list_profiles()}


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
