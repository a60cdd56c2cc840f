"""The agent's configuration schema (TOML), validated with pydantic.

One class per section; unknown keys are errors so that a typo is reported, not ignored.
Cross-references (a binding naming a device) are checked in `AgentConfig`.
"""

from __future__ import annotations

import enum
import os
import types
import typing
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from roomagent.config.problems import one_of
from roomagent.config.vocab import ButtonPhase, RoomCondition


def _toml_shape(annotation: Any, value: Any) -> Any:
    """TOML has no path, tuple or enum type: a string for a Path field becomes a Path, an
    array for a tuple field a tuple, a string for an enum field its member (or the error
    a Literal field gives: strict validation would only say "must be a ButtonPhase").
    Nothing else is converted (strict types)."""
    options = typing.get_args(annotation) if typing.get_origin(annotation) in _UNIONS else ()
    for option in options or (annotation,):
        if option is Path and isinstance(value, str):
            return Path(value)
        if isinstance(option, type) and issubclass(option, enum.Enum) and value is not None:
            if not isinstance(value, str | int) or value not in option._value2member_map_:
                raise ValueError(f"must be one of {one_of([m.value for m in option])}")
            return option(value)
        origin = typing.get_origin(option)
        if origin is tuple and isinstance(value, list):
            return tuple(value)
        if origin is list and isinstance(value, list) and Path in typing.get_args(option):
            return [Path(v) if isinstance(v, str) else v for v in value]
    return value


_UNIONS = (typing.Union, types.UnionType)


class Section(BaseModel):
    """Every config section: unknown keys are errors, and so are values of the wrong type
    (`port = "8080"`, `enabled = "yes"`): nothing is coerced but what TOML cannot spell."""

    # defer_build: a section is validated inside AgentConfig's validator; its own is built
    # only if something validates it alone (a default section), not at import (issue 10).
    model_config = ConfigDict(defer_build=True, extra="forbid", strict=True)

    @field_validator("*", mode="before")
    @classmethod
    def _from_toml(cls, value: Any, info: ValidationInfo) -> Any:
        field = cls.model_fields.get(info.field_name or "")
        return value if field is None else _toml_shape(field.annotation, value)


class RoomSection(Section):
    name: str = "Room"
    id: str | None = Field(default=None, description="stable id for discovery; default: machine id")


class RoomsSection(Section):
    url: str = Field(default="ws://127.0.0.1:6295", pattern=r"^wss?://")
    password_env: str = "ROOMAGENT_ROOMS_PASSWORD"
    password_file: Path | None = None
    subscribe: list[str] = Field(default_factory=lambda: ["Meeting"])
    call_timeout: float = Field(default=10.0, gt=0, le=300)
    outcome_timeout: float = Field(default=45.0, gt=0, le=600)
    ping_interval: float = Field(default=10.0, gt=0, le=300)
    backoff_cap: float = Field(default=30.0, gt=0, le=3600)


class DeviceSection(Section):
    name: str = Field(pattern=r"^[A-Za-z0-9_.\-]+$")
    port: str
    profile: str
    address: int | None = Field(default=None, ge=0, le=255)


class BindingSection(Section):
    """button → action(s). The action's own parameters sit beside `action` (extra keys)."""

    model_config = ConfigDict(extra="allow")
    device: str
    button: int = Field(ge=0, le=999)
    on: ButtonPhase = ButtonPhase.PRESS
    action: str | list[dict[str, Any]]

    def params(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


class FeedbackSection(Section):
    """room state → a panel LED or text line."""

    device: str
    when: RoomCondition
    led: int | None = Field(default=None, ge=0, le=999)
    mode: Literal["on", "blink"] = "on"
    colour: str | None = None
    text_line: int | None = Field(default=None, ge=0, le=99)
    text: str | None = Field(default=None, description="template, e.g. 'In {meeting_code}'")

    @model_validator(mode="after")
    def _target(self) -> FeedbackSection:
        if self.led is None and self.text_line is None:
            raise ValueError("feedback needs `led` or `text_line`")
        return self


class WebSection(Section):
    enabled: bool = True
    listen: str = "127.0.0.1"
    port: int = Field(default=8080, ge=0, le=65535)
    user: str = "admin"
    password_env: str = "ROOMAGENT_WEB_PASSWORD"
    password_file: Path | None = None
    password_hash: str | None = Field(
        default=None, description="pbkdf2_sha256$ITER$SALT$HASH (see `roomagent hash-password`)"
    )
    allowed_origins: list[str] = Field(default_factory=list)
    tls: Literal["auto", "files", "off"] | None = Field(
        default=None, description="default: auto when listen is not loopback, else off"
    )
    cert_file: Path | None = Field(default=None, description='PEM chain for tls = "files"')
    key_file: Path | None = Field(default=None, description='PEM key for tls = "files"')


class DiscoverySection(Section):
    enabled: bool = True


class YunzhijiaSection(Section):
    base_url: str = Field(pattern=r"^https?://")
    eid: str
    room_name: str | None = None
    room_id: str | None = None
    token_env: str = "ROOMAGENT_YZJ_TOKEN"
    token_file: Path | None = None
    poll_seconds: float = Field(default=30, ge=1, le=3600)
    open_id: str | None = Field(default=None, description="creator openid for bookings made here")
    no_show_release_minutes: int | None = Field(default=None, ge=1, le=240)
    timeout: float = Field(default=10.0, gt=0, le=120)
    # A renewing token (getAccessToken) instead of the fixed token_env one: the secret's source.
    secret_env: str | None = None
    secret_file: Path | None = None
    scope: Literal["resGroupSecret", "app", "team"] = "resGroupSecret"
    app_id: str | None = None
    resync_hours: float = Field(default=3, gt=0, le=48, description="full feed resync period")

    @model_validator(mode="after")
    def _room(self) -> YunzhijiaSection:
        if not self.room_name:
            # The feed's bookings carry roomName but no roomId, so an id alone matches nothing.
            raise ValueError(
                "set `room_name` (as Yunzhijia spells it) so other rooms' bookings are ignored:"
                " the booking feed names rooms but carries no room id (`room_id` may stay; it"
                " books the room)"
                if self.room_id
                else "set `room_name` so other rooms' bookings are ignored"
            )
        if self.scope != "resGroupSecret" and not self.app_id:
            raise ValueError(f"scope {self.scope!r} needs `app_id`")
        return self

    @property
    def renews_token(self) -> bool:
        return bool(self.secret_env or self.secret_file)


class HuaweiSection(Section):
    base_url: str = Field(pattern=r"^https?://")
    token_env: str = "ROOMAGENT_HWM_TOKEN"
    token_file: Path | None = None
    conference_token_env: str = "ROOMAGENT_HWM_CONF_TOKEN"
    conference_token_file: Path | None = None
    vmr_id: str | None = None
    timeout: float = Field(default=10.0, gt=0, le=120)
    # App ID authentication (recommended) or account authentication; else token_env is used.
    app_id: str | None = None
    app_key_env: str = "ROOMAGENT_HWM_APP_KEY"
    app_key_file: Path | None = None
    user_id: str | None = None
    account: str | None = None
    password_env: str = "ROOMAGENT_HWM_PASSWORD"
    password_file: Path | None = None
    # The chair (host) password that fetches a conference-control token for invites.
    chair_password_env: str = "ROOMAGENT_HWM_CHAIR_PASSWORD"
    chair_password_file: Path | None = None


class QuanshiSection(Section):
    url: str = Field(pattern=r"^https?://")
    token_env: str = "ROOMAGENT_QS_TOKEN"
    token_file: Path | None = None
    timeout: float = Field(default=10.0, gt=0, le=120)
    # Hosts whose links in a booking are Quanshi join links (resolved for the page).
    link_hosts: list[str] = Field(default_factory=lambda: ["quanshi.com", "qsh1.cn"])


class CalendarSection(Section):
    yunzhijia: YunzhijiaSection | None = None


class CloudSection(Section):
    huawei: HuaweiSection | None = None
    quanshi: QuanshiSection | None = None


# One MQTT topic level: no wildcards, no separators (ids land in topics and HA node ids).
TOPIC_LEVEL = r"^[A-Za-z0-9_\-]+$"


class MqttSection(Section):
    """The fleet plane (docs/fleet.md): this room on an MQTT broker. Secrets env/file only."""

    url: str = Field(pattern=r"^mqtts?://[^/\s]+/?$", description="mqtt://host[:port] or mqtts://")
    username: str | None = None
    password_env: str = "ROOMAGENT_MQTT_PASSWORD"
    password_file: Path | None = None
    ca_file: Path | None = None
    client_cert: Path | None = None
    client_key: Path | None = None
    site: str = Field(default="default", pattern=TOPIC_LEVEL)
    topic_prefix: str = Field(default="roomagent", pattern=r"^[A-Za-z0-9_\-]+(/[A-Za-z0-9_\-]+)*$")
    keepalive: int = Field(default=30, ge=1, le=3600)
    homeassistant: bool = True
    discovery_prefix: str = Field(default="homeassistant", pattern=TOPIC_LEVEL)
    allow_actions: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _tls_files(self) -> MqttSection:
        if (self.client_cert is None) != (self.client_key is None):
            raise ValueError("set both `client_cert` and `client_key`, or neither")
        return self


class LogSection(Section):
    level: Literal["debug", "info", "warning", "error"] = "info"


def _default_state_dir() -> Path:
    # systemd's StateDirectory= sets $STATE_DIRECTORY; a developer run stays in the home dir.
    env = os.environ.get("STATE_DIRECTORY")
    return Path(env.split(":")[0]) if env else Path.home() / ".local/state/roomagent"


class AgentConfig(Section):
    room: RoomSection = Field(default_factory=RoomSection)
    rooms: RoomsSection = Field(default_factory=RoomsSection)
    devices: list[DeviceSection] = Field(default_factory=list)
    bindings: list[BindingSection] = Field(default_factory=list)
    feedback: list[FeedbackSection] = Field(default_factory=list)
    web: WebSection = Field(default_factory=WebSection)
    discovery: DiscoverySection = Field(default_factory=DiscoverySection)
    calendar: CalendarSection = Field(default_factory=CalendarSection)
    cloud: CloudSection = Field(default_factory=CloudSection)
    log: LogSection = Field(default_factory=LogSection)
    profiles_dirs: list[Path] = Field(default_factory=list)
    state_dir: Path = Field(default_factory=_default_state_dir)
    mqtt: MqttSection | None = None

    @model_validator(mode="after")
    def _references(self) -> AgentConfig:
        names = [d.name for d in self.devices]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"device names must be unique; repeated: {', '.join(dupes)}")
        return self

    def device(self, name: str) -> DeviceSection | None:
        return next((d for d in self.devices if d.name == name), None)
