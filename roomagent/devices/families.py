"""The device family registry: one entry per protocol family implemented in code.

Each family module registers itself at import (`camera.py`: visca, pelco-d, pelco-p;
`panel.py`: line): its kind, its profile section, its address range and its driver factory.
Profile validation and `make_driver` look a family up here instead of branching on names; the
emulators live in `roomagent.sim.families` (devices never imports sim). Adding a family is a
new module that calls `register`, an emulator entry in sim, and at least one profile.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from roomagent.devices.base import Driver
    from roomagent.devices.profiles import Profile

Kind = Literal["camera", "panel"]


@dataclass(frozen=True)
class Family:
    name: str  # the profile's `family = "…"`
    kind: Kind
    section: str  # the profile table holding this family's settings, e.g. [pelco]
    section_required: bool  # False: an empty section is filled with its defaults
    addresses: tuple[int, int, int]  # (min, max, default) when the profile gives no [address]
    driver: Callable[[Profile, int, Any], Driver]  # (profile, address, link) → driver


_FAMILIES: dict[str, Family] = {}


def register(family: Family) -> Family:
    if family.name in _FAMILIES:
        raise ValueError(f"device family {family.name!r} is registered twice")
    _FAMILIES[family.name] = family
    return family


def families() -> dict[str, Family]:
    """Every registered family by name, in registration order."""
    return dict(_FAMILIES)


def sections() -> set[str]:
    return {f.section for f in _FAMILIES.values()}


def get_family(name: str) -> Family:
    try:
        return _FAMILIES[name]
    except KeyError:
        raise ValueError(f"must be one of {known_words()}") from None


def known_words() -> str:
    """`"visca", "pelco-d" or "line"`: the registered names as an error message lists them."""
    names = [f'"{n}"' for n in _FAMILIES]
    if len(names) < 2:
        return "".join(names)
    return ", ".join(names[:-1]) + " or " + names[-1]
