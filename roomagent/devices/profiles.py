"""Firmware profiles: the pydantic schema and the loader.

A profile is one TOML file naming a protocol family implemented in code (the registry in
`families.py`: `visca`, `pelco-d`, `pelco-p`, `line`) plus everything that differs between
models. A new model of a known family is a new file; an error names the file, the key and what
is allowed.
"""

from __future__ import annotations

import re
import string
import tomllib
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from roomagent.config.problems import describe, key_name
from roomagent.config.vocab import ButtonPhase
from roomagent.devices.errors import ProfileError
from roomagent.devices.families import Kind, families, get_family, sections

BUILTIN_DIR = Path(__file__).resolve().parent.parent / "firmware_profiles"

LedMode = Literal["on", "off", "blink"]
ViscaStartupStep = Literal[
    "address_set", "if_clear", "inquire_power", "inquire_pan_tilt", "inquire_zoom",
    "inquire_focus_mode", "inquire_version",
]  # fmt: skip

# Placeholders each outbound template may use (checked when the profile loads).
LED_FIELDS = {"address", "n", "led", "mode", "colour"}
TEXT_FIELDS = {"address", "line", "text"}
BUTTON_FIELDS = {"address", "n", "action"}
ACK_FIELDS = {"address", "line", "body"}
ERROR_FIELDS = ACK_FIELDS | {"code"}


class _Strict(BaseModel):
    # defer_build: the parts are validated inside Profile's validator; their own validators
    # would be built at import and never used (issue 10).
    model_config = ConfigDict(defer_build=True, extra="forbid", frozen=True)


class Range(_Strict):
    min: int = Field(ge=0, le=0xFFFF)
    max: int = Field(ge=0, le=0xFFFF)
    default: int | None = None

    @model_validator(mode="after")
    def _ordered(self) -> Range:
        if self.min > self.max:
            raise ValueError(f"min ({self.min}) must not exceed max ({self.max})")
        if self.default is not None and not self.min <= self.default <= self.max:
            raise ValueError(f"default must lie within {self.min}–{self.max}")
        return self

    def contains(self, value: int) -> bool:
        return self.min <= value <= self.max

    @property
    def fallback(self) -> int:
        return self.default if self.default is not None else self.max


class SerialSettings(_Strict):
    baud: Literal[2400, 4800, 9600, 19200, 38400, 57600, 115200] = 9600
    data_bits: Literal[7, 8] = 8
    parity: Literal["none", "even", "odd"] = "none"
    stop_bits: Literal[1, 2] = 1
    flow_control: Literal["none", "rtscts", "xonxoff"] = "none"


class Timeouts(_Strict):
    ack: float = Field(default=1.0, gt=0, le=60, description="VISCA ACK / line reply")
    completion: float = Field(default=15.0, gt=0, le=600, description="VISCA completion")
    inquiry: float = Field(default=1.0, gt=0, le=60)
    offline_after: int = Field(
        default=3, ge=1, le=100, description="consecutive timeouts before the device is offline"
    )


class ViscaSection(_Strict):
    pan_speed: Range = Range(min=0x01, max=0x18, default=0x0C)
    tilt_speed: Range = Range(min=0x01, max=0x17, default=0x0A)
    zoom_speed: Range = Range(min=0, max=7, default=4)
    focus_speed: Range = Range(min=0, max=7, default=3)
    presets: Range = Range(min=0, max=127)
    sockets: int = Field(default=2, ge=1, le=2)
    # Quirk: some vendors always answer from one address whatever the camera's own address.
    reply_address: int | None = Field(default=None, ge=1, le=7)
    startup: tuple[ViscaStartupStep, ...] = ("if_clear", "inquire_power", "inquire_pan_tilt")


class PelcoSection(_Strict):
    pan_speed: Range = Range(min=0x00, max=0x3F, default=0x20)
    tilt_speed: Range = Range(min=0x00, max=0x3F, default=0x20)
    presets: Range = Range(min=1, max=255)
    min_interval_ms: int = Field(default=60, ge=0, le=2000, description="pacing between frames")
    # Pelco-D "go to zero pan" is a call of preset 34 on most receivers; None: no home.
    home_preset: int | None = Field(default=34, ge=1, le=255)


def _check_template(template: str, allowed: set[str]) -> str:
    try:
        names = {f.split(".")[0] for _, f, _, _ in string.Formatter().parse(template) if f}
    except ValueError as exc:
        raise ValueError(f"bad template: {exc}") from None
    unknown = names - allowed
    if unknown:
        raise ValueError(
            f"unknown placeholder {{{sorted(unknown)[0]}}}; allowed: "
            + ", ".join(f"{{{a}}}" for a in sorted(allowed))
        )
    return template


def _check_regex(pattern: str) -> str:
    try:
        re.compile(pattern)
    except re.error as exc:
        raise ValueError(f"not a valid regular expression: {exc}") from None
    return pattern


class Exchange(_Strict):
    send: str = Field(description="line the agent sends (no terminator)")
    expect: str = Field(description="regular expression the device's answer must match")
    reply: str = Field(description="what the device answers (used by the emulator and docs)")
    timeout: float = Field(default=1.0, gt=0, le=60)

    _pattern = field_validator("expect")(_check_regex)


class Keepalive(Exchange):
    interval: float = Field(default=10.0, gt=0, le=3600)
    misses: int = Field(default=2, ge=1, le=20, description="missed answers before offline")


class InboundRule(_Strict):
    pattern: str
    event: Literal["button", "ack", "error"]

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, value: str) -> str:
        return _check_regex(value)

    @model_validator(mode="after")
    def _groups(self) -> InboundRule:
        needed = {"button": {"button", "action"}, "ack": set(), "error": set()}[self.event]
        missing = needed - set(re.compile(self.pattern).groupindex)
        if missing:
            raise ValueError(
                f"a {self.event} pattern needs named groups "
                + ", ".join(f"(?P<{g}>…)" for g in sorted(missing))
            )
        return self


class LedTemplate(_Strict):
    template: str
    modes: dict[LedMode, str]
    colours: dict[str, str] = Field(default_factory=dict)
    default_colour: str | None = None
    led_offset: int = Field(default=0, ge=0, le=999, description="{led} = n + led_offset")
    expect_reply: bool = True

    _template = field_validator("template")(lambda v: _check_template(v, LED_FIELDS))

    @model_validator(mode="after")
    def _complete(self) -> LedTemplate:
        missing = {"on", "off", "blink"} - set(self.modes)
        if missing:
            raise ValueError(f"modes must give on, off and blink; missing: {', '.join(missing)}")
        if self.default_colour is not None and self.default_colour not in self.colours:
            raise ValueError(f"default_colour must be one of: {', '.join(self.colours)}")
        return self


class TextTemplate(_Strict):
    template: str
    max_length: int = Field(default=32, ge=1, le=1000)
    expect_reply: bool = True

    _template = field_validator("template")(lambda v: _check_template(v, TEXT_FIELDS))


class LineSection(_Strict):
    encoding: Literal["ascii", "latin-1", "utf-8"] = "ascii"
    terminators_in: list[str] = Field(default_factory=lambda: ["\r\n", "\r", "\n"], min_length=1)
    terminator_out: str = Field(default="\r\n", min_length=1)
    max_line: int = Field(default=256, ge=16, le=4096)
    buttons: Range = Range(min=1, max=99)
    reports_hold: bool = Field(default=True, description="false: hold synthesised after hold_ms")
    hold_ms: int = Field(default=800, ge=50, le=10000)
    inbound: list[InboundRule] = Field(min_length=1)
    button_actions: dict[str, ButtonPhase] = Field(
        description="value of the (?P<action>) group → press/hold/release"
    )
    button_template: str = Field(description="how the panel reports a button (emulator, docs)")
    ack_template: str | None = Field(default=None, description="panel's OK answer (emulator)")
    error_template: str | None = Field(default=None, description="panel's error answer (emulator)")
    error_codes: dict[str, str] = Field(default_factory=dict)
    handshake: Exchange | None = None
    keepalive: Keepalive | None = None
    led: LedTemplate | None = None
    text: TextTemplate | None = None

    _button = field_validator("button_template")(lambda v: _check_template(v, BUTTON_FIELDS))

    @field_validator("ack_template")
    @classmethod
    def _ack(cls, value: str | None) -> str | None:
        return None if value is None else _check_template(value, ACK_FIELDS)

    @field_validator("error_template")
    @classmethod
    def _error(cls, value: str | None) -> str | None:
        return None if value is None else _check_template(value, ERROR_FIELDS)

    @field_validator("terminators_in")
    @classmethod
    def _no_empty(cls, value: list[str]) -> list[str]:
        if any(not t for t in value):
            raise ValueError("a terminator must not be empty")
        return value


def family_addresses(name: str) -> Range:
    """The address range a family's profile gets when it gives no [address]."""
    low, high, default = get_family(name).addresses
    return Range(min=low, max=high, default=default)


class Profile(_Strict):
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_.\-]*$")
    family: str = Field(description="a registered device family (devices/families.py)")
    model: str = Field(default="", description="the models this profile describes")
    serial: SerialSettings = SerialSettings()
    address: Range | None = None
    timeouts: Timeouts = Timeouts()
    visca: ViscaSection | None = None
    pelco: PelcoSection | None = None
    line: LineSection | None = None
    source: str = Field(default="", exclude=True)

    @field_validator("family")
    @classmethod
    def _registered(cls, value: str) -> str:
        get_family(value)  # an unknown name: "must be one of …" the registered families
        return value

    @model_validator(mode="before")
    @classmethod
    def _family_defaults(cls, data: Any) -> Any:
        if not isinstance(data, dict) or data.get("family") not in families():
            return data
        data = dict(data)
        family = get_family(data["family"])
        own = family.section
        for other in sorted(sections() - {own}):
            if other in data:
                raise ValueError(
                    f"[{other}] does not belong to a {family.name} profile; use [{own}]"
                )
        if not family.section_required:
            data.setdefault(own, {})
        data.setdefault("address", family_addresses(family.name).model_dump())
        return data

    @model_validator(mode="after")
    def _needs_section(self) -> Profile:
        family = get_family(self.family)
        if family.section_required and getattr(self, family.section) is None:
            raise ValueError(f"a {family.name} profile needs a [{family.section}] section")
        return self

    @property
    def kind(self) -> Kind:
        return get_family(self.family).kind

    @property
    def addresses(self) -> Range:
        return self.address or family_addresses(self.family)

    @property
    def default_address(self) -> int:
        rng = self.addresses
        return rng.default if rng.default is not None else rng.min


def _search_dirs(extra_dirs: Iterable[Path | str]) -> list[Path]:
    return [*(Path(d) for d in extra_dirs), BUILTIN_DIR]


def list_profiles(extra_dirs: Iterable[Path | str] = ()) -> list[str]:
    """Names of every profile found (extra dirs first; a name there shadows a built-in one)."""
    names: set[str] = set()
    for folder in _search_dirs(extra_dirs):
        if folder.is_dir():
            names.update(p.stem for p in folder.glob("*.toml"))
    return sorted(names)


def _problem(err: Any) -> tuple[str, str]:
    loc = [p for p in err["loc"] if p not in ("function-after[_ordered(), Range]",)]
    # `source` is filled in by the loader, never written in a profile: don't offer it.
    return key_name(loc), describe({**err, "loc": loc}, Profile, hidden_keys=("source",))


def parse_profile(text: str, file: str, name: str) -> Profile:
    """Validate one profile's TOML; ProfileError names the file, the key and what is allowed."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ProfileError(file, "", f"not valid TOML: {exc}") from None
    data.setdefault("name", name)
    try:
        return Profile.model_validate({**data, "source": file})
    except ValidationError as exc:
        errors = exc.errors()
        key, message = _problem(errors[0])
        if len(errors) > 1:
            message += f" (and {len(errors) - 1} more problem(s))"
        raise ProfileError(file, key, message) from None


def find_profile(name_or_path: str | Path, extra_dirs: Iterable[Path | str] = ()) -> Path:
    text = str(name_or_path)
    if "/" in text or text.endswith(".toml"):
        path = Path(text)
        if not path.is_file():
            raise ProfileError(text, "", "profile file not found")
        return path
    for folder in _search_dirs(extra_dirs):
        candidate = folder / f"{text}.toml"
        if candidate.is_file():
            return candidate
    known = ", ".join(list_profiles(extra_dirs)) or "none"
    raise ProfileError("", "", f"unknown profile '{text}'; known: {known}")


def load_profile(name_or_path: str | Path, extra_dirs: Iterable[Path | str] = ()) -> Profile:
    """A profile by name (searched in extra_dirs, then the built-in folder) or by file path."""
    extra = list(extra_dirs)
    path = find_profile(name_or_path, extra)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ProfileError(str(path), "", f"cannot read: {exc.strerror}") from None
    return parse_profile(text, str(path), path.stem)
