"""Huawei Cloud Meeting: book through REST CreateMeeting, invite into a running conference.

Sources: seeds/000 (the UI SDK's `bookConf`: its rules are kept as local validation, so an
invalid booking never reaches the server) and seeds/004 (REST "invite participants"). The
SDK's field names are not the REST API's: the body is built in `MeetingRequest.wire()` from
the spec's CreateMeeting table (startTime "yyyy-MM-dd HH:mm" UTC, length, subject,
mediaTypes, attendees, vmrID, confConfigInfo). The reply is a JSON array of ConferenceInfo.
Credentials: huawei_auth.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from roomagent.config.model import HuaweiSection
from roomagent.logsetup import kv, register_secret
from roomagent.scheduling.http import CloudRefused, CloudValidationError, EdgeClient
from roomagent.scheduling.huawei_auth import (
    PROVIDER,
    ControlTokens,
    raise_for_status,
    token_source,
)
from roomagent.scheduling.tokens import TokenRejected, TokenSource, call_with_token

log = logging.getLogger("roomagent.scheduling.huawei")

CREATE_PATH = "v1/mmc/management/conferences"
INVITE_PATH = "v1/mmc/control/conferences/participants"
ACCESS_HEADER = "X-Access-Token"
CONTROL_HEADER = "X-Conference-Authorization"
WIRE_TIME = "%Y-%m-%d %H:%M"  # CreateMeeting's startTime, in UTC

LENGTH_MIN, LENGTH_MAX, LENGTH_DEFAULT = 15, 1440, 30
SUBJECT_MAX = 128
MEDIA_TYPES = ("HDVideo", "Voice", "Data")  # one of the first two is required

# Attendee field limits (seed 004, table 3).
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
NO_NOTIFY_NOTE = (
    "only email/sms was given for {name}: Huawei sends no notification to people invited "
    "during a meeting, so they are not called or told"
)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class Attendee(_Model):
    """Seed 004's attendee (also CreateMeeting's attendees)."""

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

    @classmethod
    def invitee(
        cls, name: str, phone: str | None, email: str | None, sms: str | None, host: bool
    ) -> Attendee:
        """Someone invited by a person (CLI, page): reached one of three ways."""
        return cls(name=name, phone=phone, email=email, sms=sms, role=1 if host else 0)

    def wire(self) -> dict[str, Any]:
        return self.model_dump(by_alias=True, exclude_none=True)

    def problems(self, where: str) -> list[str]:
        wire = self.wire()
        rules = [] if self.name.strip() else [f"{where}.name: a name is required"]
        for key, limit in ATTENDEE_LIMITS.items():
            value = wire.get(key)
            if isinstance(value, str) and len(value) > limit:
                rules.append(f"{where}.{key}: at most {limit} characters (got {len(value)})")
        if not (self.phone or self.email or self.sms):
            rules.append(f"{where}: give at least one of phone, email or sms")
        return rules

    @property
    def notified_only(self) -> bool:
        """No phone: the invite only reaches email/sms, which are not sent mid-meeting."""
        return not self.phone and bool(self.email or self.sms)


class MeetingRequest(_Model):
    """What the agent books; `kind` decides whether vmrID is required (seed 000:
    个人会议或者云会议室的时候要传入vmrId)."""

    start: datetime
    length: int = LENGTH_DEFAULT
    subject: str
    media_types: str = "HDVideo"
    attendees: list[Attendee] = Field(default_factory=list)
    kind: Literal["normal", "personal", "cloud_room"] = "normal"
    vmr_id: str | None = None
    send_notify: bool = False
    send_sms: bool = False
    send_calendar: bool = False  # the seed's isSendCalendarNotify
    guest_free_password: bool | None = None
    allow_guest_start: bool | None = None  # the seed's allowGuestStartConf

    def problems(self, now: datetime | None = None) -> list[str]:
        """Every documented rule this booking breaks, as sentences (empty when valid)."""
        now = now or datetime.now(UTC)
        rules = []
        if self.start.tzinfo is None:
            rules.append("startTime: the start time needs a timezone")
        elif self.start.replace(second=0, microsecond=0) <= now:
            # Sent to the minute; without a future start the meeting would begin at once.
            rules.append("startTime: the start must be later than now")
        if not LENGTH_MIN <= self.length <= LENGTH_MAX:
            rules.append(f"length: must be {LENGTH_MIN}..{LENGTH_MAX} minutes (got {self.length})")
        if not self.subject.strip():
            rules.append("subject: a subject is required")
        elif len(self.subject) > SUBJECT_MAX:
            rules.append(f"subject: at most {SUBJECT_MAX} characters (got {len(self.subject)})")
        media = [m.strip() for m in self.media_types.split(",")]
        unknown = [m for m in media if m not in MEDIA_TYPES]
        if unknown or not {"HDVideo", "Voice"} & set(media):
            rules.append('mediaTypes: "HDVideo" or "Voice", optionally with ",Data"')
        if self.kind != "normal" and not (self.vmr_id or "").strip():
            rules.append(f"vmrID: required for a {self.kind.replace('_', ' ')} meeting")
        for index, attendee in enumerate(self.attendees):
            rules.extend(attendee.problems(f"attendees[{index}]"))
        return rules

    def wire(self) -> dict[str, Any]:
        config: dict[str, Any] = {
            "isSendNotify": self.send_notify,
            "isSendSms": self.send_sms,
            "isSendCalendar": self.send_calendar,
        }
        if self.guest_free_password is not None:
            config["isGuestFreePwd"] = self.guest_free_password
        if self.allow_guest_start is not None:
            config["allowGuestStartConf"] = self.allow_guest_start
        body: dict[str, Any] = {
            "startTime": self.start.astimezone(UTC).strftime(WIRE_TIME),
            "length": self.length,
            "subject": self.subject,
            "mediaTypes": self.media_types,
            "attendees": [a.wire() for a in self.attendees],
            "confConfigInfo": config,
        }
        if self.kind != "normal":
            body["vmrFlag"] = 1
            body["vmrID"] = self.vmr_id
        return body


def _wire_time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.strptime(value.strip(), WIRE_TIME).replace(tzinfo=UTC)
    except ValueError:
        return None


@dataclass(frozen=True)
class Conference:
    """A booked conference as people may see it: no password, no chair link."""

    conference_id: str
    subject: str | None
    start: datetime | None
    end: datetime | None
    state: str | None
    guest_join_link: str | None

    @classmethod
    def from_info(cls, info: Mapping[str, Any]) -> Conference:
        for entry in info.get("passwordEntry") or []:
            if isinstance(entry, Mapping) and isinstance(entry.get("password"), str):
                register_secret(entry["password"])
        if isinstance(info.get("chairJoinUri"), str):
            register_secret(info["chairJoinUri"])
        conf_id = info.get("conferenceID")
        if not conf_id:
            raise CloudRefused(PROVIDER, "CreateMeeting returned no conferenceID")
        return cls(
            conference_id=str(conf_id),
            subject=info.get("subject"),
            start=_wire_time(info.get("startTime")),
            end=_wire_time(info.get("endTime")),
            state=info.get("conferenceState"),
            guest_join_link=info.get("guestJoinUri"),
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "conference_id": self.conference_id,
            "subject": self.subject,
            "start": self.start.isoformat() if self.start else None,
            "end": self.end.isoformat() if self.end else None,
            "state": self.state,
            "guest_join_link": self.guest_join_link,
        }


@dataclass
class InviteResult:
    conference_id: str
    invited: list[str]
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"conference_id": self.conference_id, "invited": self.invited, "notes": self.notes}


class HuaweiClient(EdgeClient):
    def __init__(
        self,
        section: HuaweiSection,
        *,
        timeout: float | None = None,
        tokens: TokenSource | None = None,
    ) -> None:
        self.section = section
        super().__init__(PROVIDER, section.base_url, timeout or section.timeout)
        self.tokens = tokens or token_source(section)
        self.control = ControlTokens(section, self._edge)

    async def book(self, request: MeetingRequest, now: datetime | None = None) -> Conference:
        """Validate, then CreateMeeting; CloudValidationError (nothing sent) names the rules."""
        rules = request.problems(now)
        if rules:
            raise CloudValidationError(PROVIDER, rules)
        body = request.wire()

        async def create(token: str) -> Any:
            reply = await self._edge.post(
                CREATE_PATH, body, idempotent=False, headers={ACCESS_HEADER: token}
            )
            raise_for_status(reply)
            return reply.body

        result = await call_with_token(self.tokens, create)
        infos = result if isinstance(result, list) else [result]  # documented: an array
        first = infos[0] if infos and isinstance(infos[0], Mapping) else None
        if first is None:
            raise CloudRefused(PROVIDER, "CreateMeeting returned no ConferenceInfo")
        conference = Conference.from_info(first)
        log.info("meeting booked", extra=kv(conference_id=conference.conference_id))
        return conference

    async def invite(self, conference_id: str, attendees: list[Attendee]) -> InviteResult:
        """Bring people/rooms into a running conference (seed 004) with a control token."""
        rules = [] if conference_id.strip() else ["conferenceID: required"]
        if not attendees:
            rules.append("attendees: invite at least one")
        if len(attendees) > MAX_INVITEES:
            rules.append(f"attendees: at most {MAX_INVITEES} per request")
        for index, attendee in enumerate(attendees):
            rules.extend(attendee.problems(f"attendees[{index}]"))
        if rules:
            raise CloudValidationError(PROVIDER, rules)
        body = {"attendees": [a.wire() for a in attendees]}
        for attempt in (1, 2):
            token = await self.control.token(conference_id)
            reply = await self._edge.post(
                INVITE_PATH,
                body,
                idempotent=False,
                params={"conferenceID": conference_id},
                headers={CONTROL_HEADER: token},
            )
            try:
                raise_for_status(reply)
            except TokenRejected:
                self.control.invalidate(conference_id)  # expired (30 min): fetch a new one
                if attempt == 2:
                    raise
                continue
            break
        notes = [NO_NOTIFY_NOTE.format(name=a.name) for a in attendees if a.notified_only]
        log.info("invited", extra=kv(conference_id=conference_id, count=len(attendees)))
        return InviteResult(conference_id, [a.name for a in attendees], notes)
