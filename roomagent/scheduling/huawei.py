"""Huawei Cloud Meeting: book a meeting (bookConf model) and invite participants.

Sources: seeds/000 (the UI SDK's `bookConf`, Chinese) and seeds/004 (REST "invite
participants", Spanish). The SDK has no wire format of its own, so booking goes over the REST
API with the same parameter model — an [assumption] of the spec, kept in `WIRE` below.
The SDK's sample code writes `startTime`, its parameter table `startTimeStamp`; we send the
table's name (the spec's reading) from the one mapping in `WIRE`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from roomagent.config.model import HuaweiSection
from roomagent.logsetup import kv, register_secret
from roomagent.scheduling.http import (
    CloudAuthError,
    CloudError,
    CloudRefused,
    CloudValidationError,
    EdgeClient,
    Reply,
    load_token,
    to_seconds,
    unwrap_result_envelope,
)

log = logging.getLogger("roomagent.scheduling.huawei")

PROVIDER = "Huawei Cloud Meeting"


@dataclass(frozen=True)
class _Wire:
    """[assumption] Everything about the REST mapping that the seeds do not pin down."""

    book_path: str = "v1/mmc/management/conferences"
    book_token_header: str = "X-Access-Token"
    start_field: str = "startTimeStamp"  # the SDK sample says `startTime`; see module docstring
    invite_path: str = "v1/mmc/control/conferences/participants"  # seed 004
    invite_token_header: str = "X-Conference-Authorization"  # seed 004


WIRE = _Wire()

CONF_LEN_MIN, CONF_LEN_MAX, CONF_LEN_DEFAULT = 15, 1440, 30
OPEN_CUSTOM_PARA_MAX = 64

# Invite attendee field limits (seed 004, table 3).
ATTENDEE_LIMITS = {
    "name": 96,
    "phone": 127,
    "phone2": 127,
    "phone3": 127,
    "email": 255,
    "sms": 32,
    "deptUUID": 64,
    "deptName": 128,
}
MAX_INVITEES = 100  # [assumption] a sane cap per request; the seed names none

# HTTP status → what it means to a person (seed 004, table 4).
STATUS_MEANING = {
    400: "invalid parameters",
    401: "authentication missing or failed",
    403: "no permission",
    500: "server error",
}
# Error-code families (seed 004: codes starting MMC or USG; see Huawei's API error centre).
CODE_FAMILY = {
    "MMC": "meeting management/control",
    "USG": "user/authentication gateway",
}


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class BookAttendee(_Model):
    """HWMOpenAttendeeBaseInfoModel (seed 000)."""

    number: str | None = None
    name: str | None = None
    account_id: str | None = Field(default=None, alias="accountId")
    is_self: bool | None = Field(default=None, alias="isSelf")
    third_account: str | None = Field(default=None, alias="thirdAccount")
    user_uuid: str | None = Field(default=None, alias="userUuid")


class ConfCommonParam(_Model):
    subject: str
    conf_media_type: Literal["audio", "video"] = Field(default="video", alias="confMediaType")
    attendees: list[BookAttendee] = Field(default_factory=list)
    record_mode: int | None = Field(default=None, alias="recordMode")
    conf_allow_join_user: int | None = Field(default=None, alias="confAllowJoinUser")
    support_watermark: bool | None = Field(default=None, alias="supportWatermark")
    is_guest_join_conf_without_pwd: bool | None = Field(
        default=None, alias="isGuestJoinConfWithoutPwd"
    )
    guest_pwd: str | None = Field(default=None, alias="guestPwd")
    is_send_email: bool | None = Field(default=None, alias="isSendEmail")
    vmr_id: str | None = Field(default=None, alias="vmrId")


class BookConfParam(_Model):
    """HWMOpenBookConfParamModel (seed 000); `kind` is local: it decides whether vmrId is
    required ("个人会议或者云会议室的时候要传入vmrId")."""

    start: datetime
    conf_len: int = Field(default=CONF_LEN_DEFAULT, alias="confLen")
    conf_common_param: ConfCommonParam = Field(alias="confCommonParam")
    is_send_calendar_notify: bool = Field(default=False, alias="isSendCalendarNotify")
    allow_guest_start_conf: bool = Field(default=False, alias="allowGuestStartConf")
    allow_guest_start_conf_time: int = Field(default=0, alias="allowGuestStartConfTime")
    open_custom_para: str | None = Field(default=None, alias="openCustomPara")
    kind: Literal["normal", "personal", "cloud_room"] = "normal"

    def problems(self, now: datetime | None = None) -> list[str]:
        """Every documented rule this booking breaks, as sentences (empty when valid)."""
        now = now or datetime.now(UTC)
        rules = []
        if self.start.tzinfo is None:
            rules.append("startTimeStamp: the start time needs a timezone")
        elif self.start <= now:
            rules.append("startTimeStamp: the start must be later than now")
        if not CONF_LEN_MIN <= self.conf_len <= CONF_LEN_MAX:
            rules.append(
                f"confLen: length must be {CONF_LEN_MIN}..{CONF_LEN_MAX} minutes "
                f"(got {self.conf_len})"
            )
        if not self.conf_common_param.subject.strip():
            rules.append("confCommonParam.subject: a subject is required")
        if self.kind != "normal" and not self.conf_common_param.vmr_id:
            rules.append(f"vmrId: required for a {self.kind.replace('_', ' ')} meeting")
        if self.open_custom_para is not None and len(self.open_custom_para) > OPEN_CUSTOM_PARA_MAX:
            rules.append(
                f"openCustomPara: at most {OPEN_CUSTOM_PARA_MAX} characters "
                f"(got {len(self.open_custom_para)})"
            )
        if self.allow_guest_start_conf_time < 0:
            rules.append("allowGuestStartConfTime: minutes must be 0 (any time) or more")
        return rules

    def wire(self) -> dict[str, Any]:
        body = self.model_dump(by_alias=True, exclude_none=True, exclude={"start", "kind"})
        return {WIRE.start_field: to_seconds(self.start), **body}


class InviteAttendee(_Model):
    """The attendee of seed 004's invite request."""

    name: str
    phone: str | None = None
    phone2: str | None = None
    phone3: str | None = None
    email: str | None = None
    sms: str | None = None
    user_uuid: str | None = Field(default=None, alias="userUUID")
    account_id: str | None = Field(default=None, alias="accountId")
    role: Literal[0, 1, 2] = 0  # participant, host, reserved
    type: Literal["normal", "telepresence", "terminal", "outside", "mobile", "telephone"] | None = (
        None  # server default when absent
    )
    dept_uuid: str | None = Field(default=None, alias="deptUUID")
    dept_name: str | None = Field(default=None, alias="deptName")

    def problems(self, index: int) -> list[str]:
        where = f"attendees[{index}]"
        wire = self.model_dump(by_alias=True, exclude_none=True)
        rules = []
        if not self.name.strip():
            rules.append(f"{where}.name: a name is required")
        for key, limit in ATTENDEE_LIMITS.items():
            value = wire.get(key)
            if isinstance(value, str) and len(value) > limit:
                rules.append(f"{where}.{key}: at most {limit} characters (got {len(value)})")
        if not (self.phone or self.email or self.sms):
            rules.append(f"{where}: give at least one of phone, email or sms")
        return rules


_SECRET_KEY_PARTS = ("pwd", "passwd", "password", "pcode", "token")


@dataclass(frozen=True)
class BookedConference:
    conference_id: str | None
    detail: dict[str, Any]  # bookConfResult as sent; may hold chair/guest passwords

    def as_dict(self) -> dict[str, Any]:
        """For people: password-like fields masked as "***"."""
        shown = {
            k: "***" if any(p in k.lower() for p in _SECRET_KEY_PARTS) and v else v
            for k, v in self.detail.items()
        }
        return {"conference_id": self.conference_id, **shown}


class HuaweiClient(EdgeClient):
    def __init__(self, section: HuaweiSection, *, timeout: float | None = None) -> None:
        self.section = section
        super().__init__(PROVIDER, section.base_url, timeout or section.timeout)

    async def book(self, param: BookConfParam, now: datetime | None = None) -> BookedConference:
        """Validate, then book; CloudValidationError (nothing sent) names the broken rules."""
        rules = param.problems(now)
        if rules:
            raise CloudValidationError(PROVIDER, rules)
        if param.conf_common_param.guest_pwd:
            register_secret(param.conf_common_param.guest_pwd)
        token = load_token(PROVIDER, self.section.token_env, self.section.token_file)
        reply = await self._edge.post(
            WIRE.book_path,
            param.wire(),
            idempotent=False,
            headers={WIRE.book_token_header: token},
        )
        _raise_for_status(reply)
        result = unwrap_result_envelope(PROVIDER, reply.body)
        detail = dict(result) if isinstance(result, Mapping) else {}
        for key, value in detail.items():
            if any(p in key.lower() for p in _SECRET_KEY_PARTS) and isinstance(value, str):
                register_secret(value)
        conf_id = detail.get("conferenceID") or detail.get("confId") or detail.get("conferenceId")
        log.info("meeting booked", extra=kv(conference_id=conf_id))
        return BookedConference(str(conf_id) if conf_id else None, detail)

    async def invite(self, conference_id: str, attendees: list[InviteAttendee]) -> None:
        """Bring people/rooms into a running conference (seed 004)."""
        rules = [] if conference_id.strip() else ["conferenceID: required"]
        if not attendees:
            rules.append("attendees: invite at least one")
        if len(attendees) > MAX_INVITEES:
            rules.append(f"attendees: at most {MAX_INVITEES} per request")
        for index, attendee in enumerate(attendees):
            rules.extend(attendee.problems(index))
        if rules:
            raise CloudValidationError(PROVIDER, rules)
        token = load_token(
            PROVIDER,
            self.section.conference_token_env,
            self.section.conference_token_file,
            what="conference control token",
        )
        body = {"attendees": [a.model_dump(by_alias=True, exclude_none=True) for a in attendees]}
        reply = await self._edge.post(
            WIRE.invite_path,
            body,
            idempotent=False,
            params={"conferenceID": conference_id},
            headers={WIRE.invite_token_header: token},
        )
        _raise_for_status(reply)


def _raise_for_status(reply: Reply) -> None:
    if 200 <= reply.status < 300:
        return
    raise error_for(reply)


def error_for(reply: Reply) -> CloudError:
    """400/401/403/500 and MMC/USG codes as a readable error."""
    body = reply.body if isinstance(reply.body, Mapping) else {}
    code = str(body.get("error_code") or body.get("errorCode") or body.get("code") or "")
    message = str(body.get("error_msg") or body.get("errorMsg") or body.get("message") or "")
    meaning = STATUS_MEANING.get(reply.status, f"HTTP {reply.status}")
    text = f"{meaning} (HTTP {reply.status})"
    if code:
        family = CODE_FAMILY.get(code.split(".")[0].upper()[:3])
        text += f", {family + ' ' if family else ''}error {code}"
    if message:
        text += f": {message[:200]}"
    if reply.status in (401, 403):
        return CloudAuthError(PROVIDER, text)
    return CloudRefused(PROVIDER, text, code=code or None, status=reply.status)
