"""Quanshi (G-Net): resolve an attendee join link to its meeting (seed 002, Chinese).

The models are tolerant, as the seed's own example demands: `result` is an array in the
example but a JSON string in the table (both parsed); ids arrive as numbers or strings
(`eventId` 566390 though the table says string); times as unix seconds, digit strings or
formatted date-time strings (the table types them as string; naive ones are in `timezone`);
lists as `[]` or `null` (`detailHouseList: null`), and the detail list's approval field is
`ApplyStatus` in the table but `ApprovalStatus` in the example — both are read.
Passcodes (pcode1/pcode2, livePullPwd, the watchword) are kept as SecretStr and masked.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import httpx
from pydantic import (
    AliasChoices,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    model_validator,
)

from roomagent.config.model import QuanshiSection
from roomagent.logsetup import register_secret
from roomagent.scheduling.http import (
    CloudRefused,
    CloudValidationError,
    EdgeClient,
    from_seconds,
    http_status_error,
    load_token,
    parse_reply,
    unwrap_status_envelope,
)

PROVIDER = "Quanshi"
# [assumption] The seed does not say how the call is authorised. Quanshi's other open-API
# pages pass the credential in an HTTP header named `token`; we do the same.
TOKEN_HEADER = "token"

DEFAULT_ZONE = "Asia/Shanghai"  # [assumption] for a naive formatted time without `timezone`
STATUS_NAMES = {0: "cancelled", 1: "created", 4: "ended"}
APPROVAL_NAMES = {0: "pending", 1: "rejected", 2: "approved", 3: "room cancelled"}
ATTENDEE_STATUS = {"W": "confirmed", "A": "accepted", "R": "declined"}


def _text(value: Any) -> Any:
    """Numbers-as-strings in both directions: ids become text."""
    if value is None:
        return None
    return str(value) if isinstance(value, int | float) and not isinstance(value, bool) else value


def _int(value: Any) -> Any:
    if isinstance(value, str):
        stripped = value.strip()
        if stripped.lstrip("-").isdigit():
            return int(stripped)
        return None if stripped == "" else value
    return value


def _list(value: Any) -> Any:
    return [] if value is None else value


def _seconds(value: Any) -> Any:
    return None if value in (None, "", 0, "0") else from_seconds(value)


def _formatted_time(value: Any, zone: str | None) -> Any:
    """A formatted date-time string ("2022-06-07 21:30:00", ISO 8601) as an aware datetime;
    a naive one is in the meeting's `timezone` (the seed's example: Asia/Shanghai)."""
    if not isinstance(value, str) or not value.strip() or value.strip().lstrip("-").isdigit():
        return value
    text = value.strip().replace("/", "-")
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return value  # left for the field's validator to reject with its own words
    if moment.tzinfo is None:
        try:
            moment = moment.replace(tzinfo=ZoneInfo(zone or DEFAULT_ZONE))
        except (ZoneInfoNotFoundError, ValueError):
            moment = moment.replace(tzinfo=ZoneInfo(DEFAULT_ZONE))
    return moment


def parse_result(result: Any) -> list[Any]:
    """`result` as the list of conferences: the seed's table types it as a JSON string, its
    example shows an array; a single object is taken as a list of one."""
    if isinstance(result, str):
        text = result.strip()
        if not text:
            return []
        try:
            result = json.loads(text)
        except ValueError:
            raise CloudRefused(PROVIDER, "the result string is not JSON") from None
    if isinstance(result, list):
        return result
    return [result] if result else []


Text = Annotated[str | None, BeforeValidator(_text)]
Int = Annotated[int | None, BeforeValidator(_int)]
Secret = Annotated[SecretStr | None, BeforeValidator(_text)]
Moment = Annotated[datetime | None, BeforeValidator(_seconds)]


class _Tolerant(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)


class SubDevice(_Tolerant):
    device_id: Text = Field(default=None, alias="DeviceId")
    device_name: Text = Field(default=None, alias="DeviceName")
    device_type: Int = Field(default=None, alias="DeviceType")


class House(_Tolerant):
    """houseList / equipList / detailHouseList entry."""

    device_id: Text = Field(default=None, alias="DeviceId")
    device_type: Int = Field(default=None, alias="DeviceType")  # 2 room, 3 room device
    device_name: Text = Field(default=None, alias="DeviceName")
    city: Text = Field(default=None, alias="City")
    location: Text = Field(default=None, alias="Location")
    floor: Text = Field(default=None, alias="Floor")
    is_main_room: Int = Field(default=None, alias="IsMainRoom")
    parent_device_id: Text = Field(default=None, alias="ParentDeviceId")
    apply_user_id: Text = Field(default=None, alias="ApplyUserId")
    approval_status: Int = Field(
        default=None, validation_alias=AliasChoices("ApprovalStatus", "ApplyStatus")
    )
    sub_devices: Annotated[list[SubDevice], BeforeValidator(_list)] = Field(
        default_factory=list, alias="SubDevices"
    )

    @property
    def approval(self) -> str:
        status = self.approval_status
        return (
            APPROVAL_NAMES.get(status, f"unknown ({status})") if status is not None else "unknown"
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "device_id": self.device_id,
            "name": self.device_name,
            "type": {2: "room", 3: "room device"}.get(self.device_type or -1, self.device_type),
            "city": self.city,
            "location": self.location,
            "floor": self.floor,
            "approval": self.approval,
        }


class Attendee(_Tolerant):
    user: Text = None
    user_type: Int = Field(default=None, alias="userType")  # 1 internal, 2 external, 3 phone
    status: Text = None
    display_name: Text = Field(default=None, alias="displayName")
    phone_name: Text = Field(default=None, alias="phoneName")
    phone_email: Text = Field(default=None, alias="phoneEmail")
    mobile_number: Text = Field(default=None, alias="mobileNumber")


class ExtraInfo(_Tolerant):
    allow_h323: Int = Field(default=None, alias="allowH323")
    open_watchword: Int = Field(default=None, alias="openWatchword")
    event_watchword: Secret = Field(default=None, alias="eventWatchword")
    labels: Any = None


class QuanshiMeeting(_Tolerant):
    conference_id: Text = Field(default=None, alias="conferenceId")
    event_id: Text = Field(default=None, alias="eventId")
    host_passcode: Secret = Field(default=None, alias="pcode1")
    attendee_passcode: Secret = Field(default=None, alias="pcode2")
    billing_code: Text = Field(
        default=None, validation_alias=AliasChoices("billingcode", "billingCode")
    )
    host_id: Text = Field(default=None, alias="hostId")
    host_name: Text = Field(default=None, alias="hostName")
    title: Text = None
    start: Moment = Field(default=None, alias="startTime")
    end: Moment = Field(default=None, alias="endTime")
    length: Int = None
    status: Int = None
    conf_mode: Int = Field(default=None, alias="confMode")
    cal_type: Text = Field(default=None, alias="calType")
    room_id: Text = Field(default=None, alias="roomId")
    attendees: Annotated[list[Attendee], BeforeValidator(_list)] = Field(
        default_factory=list, alias="attendList"
    )
    host_join_url: Text = Field(default=None, alias="hostJoinUrl")
    attendee_join_url: Text = Field(default=None, alias="attendeeJoinUrl")
    webrtc_url: Text = Field(default=None, alias="webRTCUrl")
    live_pull_password: Secret = Field(default=None, alias="livePullPwd")
    timezone: Text = None
    join_login: Int = Field(default=None, alias="joinLogin")
    extra: Annotated[ExtraInfo, BeforeValidator(lambda v: v or {})] = Field(
        default_factory=ExtraInfo, alias="calExtraInfo"
    )
    houses: Annotated[list[House], BeforeValidator(_list)] = Field(
        default_factory=list, alias="houseList"
    )
    equipment: Annotated[list[House], BeforeValidator(_list)] = Field(
        default_factory=list, alias="equipList"
    )
    detail_houses: Annotated[list[House], BeforeValidator(_list)] = Field(
        default_factory=list, alias="detailHouseList"
    )

    @model_validator(mode="before")
    @classmethod
    def _times(cls, data: Any) -> Any:
        if isinstance(data, dict):
            zone = data.get("timezone") if isinstance(data.get("timezone"), str) else None
            data = dict(data)
            for key in ("startTime", "endTime"):
                if key in data:
                    data[key] = _formatted_time(data[key], zone)
        return data

    def register_secrets(self) -> None:
        for secret in (
            self.host_passcode,
            self.attendee_passcode,
            self.live_pull_password,
            self.extra.event_watchword,
        ):
            if secret is not None:
                register_secret(secret.get_secret_value())

    @property
    def status_name(self) -> str:
        if self.status is None:
            return "unknown"
        return STATUS_NAMES.get(self.status, f"unknown ({self.status})")

    def rooms(self) -> list[House]:
        """Rooms with their approval, the detailed list first (it has sub-devices)."""
        seen: dict[str, House] = {}
        for house in [*self.detail_houses, *self.houses]:
            key = house.device_id or house.device_name or str(len(seen))
            seen.setdefault(key, house)
        return list(seen.values())

    def room_booking(self, name_or_id: str) -> House | None:
        """This room's entry (matched by DeviceId or DeviceName), if the meeting booked it."""
        wanted = name_or_id.strip()
        return next(
            (h for h in self.rooms() if wanted in (h.device_id, (h.device_name or "").strip())),
            None,
        )

    def as_dict(self) -> dict[str, Any]:
        """For people and pages: passcodes masked as "***"."""

        def masked(secret: SecretStr | None) -> str | None:
            return "***" if secret is not None and secret.get_secret_value() else None

        return {
            "conference_id": self.conference_id,
            "event_id": self.event_id,
            "title": self.title,
            "start": self.start.isoformat() if self.start else None,
            "end": self.end.isoformat() if self.end else None,
            "length_minutes": self.length,
            "status": self.status_name,
            "mode": {0: "video", 1: "data"}.get(self.conf_mode or 0, self.conf_mode),
            "recurring": self.cal_type == "M",
            "host": self.host_name,
            "host_passcode": masked(self.host_passcode),
            "attendee_passcode": masked(self.attendee_passcode),
            "attendee_join_url": self.attendee_join_url,
            "webrtc_url": self.webrtc_url,
            "timezone": self.timezone,
            "attendees": [
                {
                    "name": a.display_name or a.phone_name or a.user,
                    "status": ATTENDEE_STATUS.get(a.status or "", a.status),
                }
                for a in self.attendees
            ],
            "rooms": [h.as_dict() for h in self.rooms()],
        }


class QuanshiClient(EdgeClient):
    def __init__(self, section: QuanshiSection, *, timeout: float | None = None) -> None:
        self.section = section
        super().__init__(PROVIDER, section.url, timeout or section.timeout)

    async def meeting_by_join_link(self, join_url: str) -> QuanshiMeeting:
        url = join_url.strip()
        try:
            parsed = httpx.URL(url)
        except httpx.InvalidURL:
            parsed = None
        if parsed is None or parsed.scheme not in ("http", "https") or not parsed.host:
            raise CloudValidationError(PROVIDER, ["attendeeJoinUrl: give an http(s) join link"])
        token = load_token(PROVIDER, self.section.token_env, self.section.token_file)
        reply = await self._edge.post(
            "", {"attendeeJoinUrl": url}, idempotent=True, headers={TOKEN_HEADER: token}
        )
        if not (isinstance(reply.body, dict) and "status" in reply.body):
            error = http_status_error(PROVIDER, reply)
            raise error or CloudRefused(PROVIDER, "unexpected reply (no status field)")
        items = parse_result(unwrap_status_envelope(PROVIDER, reply.body))
        if not items:
            raise CloudRefused(PROVIDER, "no meeting found for this join link")
        meeting = parse_reply(PROVIDER, QuanshiMeeting, items[0])
        meeting.register_secrets()
        return meeting
