"""Yunzhijia (Kingdee Cloud Hub): the room-booking feed and the meeting API.

Source: seeds/001 (Chinese original). Where the spec and the seed's wire examples differ the
examples win:
- `lastTime` is sent as a string of milliseconds ("1538064000000"), as in the feed examples;
- batchModify sends `repeat` as a string ("1"), as in its example (repeatMeeting uses an int);
- `error` may be "" or null on success; both are accepted.
Every call carries the OAuth2 token as `?accessToken=` (the seed: 作为url参数); a call whose
token is rejected renews it once and is sent again (yunzhijia_auth).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Literal, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator

from roomagent.config.model import YunzhijiaSection
from roomagent.logsetup import kv
from roomagent.scheduling.http import (
    CloudRefused,
    CloudValidationError,
    EdgeClient,
    from_millis,
    opt_millis,
    parse_reply,
    to_millis,
)
from roomagent.scheduling.tokens import FixedToken, TokenSource, call_with_token
from roomagent.scheduling.yunzhijia_auth import token_source, unwrap

log = logging.getLogger("roomagent.scheduling.yunzhijia")
M = TypeVar("M", bound=BaseModel)
PROVIDER = "Yunzhijia"
FEED_PATH = "api/roomBook/third"
MEETING_PATH = "gateway/cloudwork/meeting"
TOKEN_PARAM = "accessToken"
DEFAULT_PAGE_SIZE = 50
MAX_PAGES = 200  # a feed that keeps returning full pages is cut off rather than looping forever

Millis = Annotated[datetime, BeforeValidator(from_millis)]
OptMillis = Annotated[datetime | None, BeforeValidator(opt_millis)]


def _none_to_list(value: Any) -> Any:
    return [] if value is None else value


def _to_str(value: Any) -> Any:
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


class _Wire(BaseModel):
    # Vendor replies grow fields; unknown ones are kept, never an error.
    model_config = ConfigDict(extra="allow", populate_by_name=True)


# --- feed --------------------------------------------------------------------------------


class FeedBooking(_Wire):
    order_id: Annotated[str, BeforeValidator(_to_str)] = Field(alias="orderId")
    room_name: str | None = Field(default=None, alias="roomName")
    room_id: str | None = Field(default=None, alias="roomId")  # not in the seed; used if present
    room_detail: str | None = Field(default=None, alias="roomDetail")
    day: str | None = None
    user_name: str | None = Field(default=None, alias="userName")
    eid: Annotated[str | None, BeforeValidator(_to_str)] = None
    start: Millis = Field(alias="startTime")
    end: Millis = Field(alias="endTime")
    created: OptMillis = Field(default=None, alias="createTime")
    update_ms: int = Field(alias="updateTime")  # the feed cursor: kept as the vendor's number
    topic: str | None = Field(default=None, alias="meetingTopic")
    content: str | None = Field(default=None, alias="meetingContent")

    @field_validator("update_ms", mode="before")
    @classmethod
    def _ms(cls, value: Any) -> Any:
        return int(value) if isinstance(value, str) and value.isdigit() else value


class BookInfoPage(_Wire):
    add: Annotated[list[FeedBooking], BeforeValidator(_none_to_list)] = Field(default_factory=list)
    delete: Annotated[list[FeedBooking], BeforeValidator(_none_to_list)] = Field(
        default_factory=list
    )
    skipped: int = 0  # malformed records left out


class FreeRoom(_Wire):
    room_id: Annotated[str, BeforeValidator(_to_str)] = Field(alias="roomId")
    room_name: str | None = Field(default=None, alias="roomName")
    room_detail: str | None = Field(default=None, alias="roomDetail")
    note: str | None = None
    tag_id: Any = Field(default=None, alias="tagId")
    limit_count: int | None = Field(default=None, alias="limitCount")
    approve: bool | None = None


class Actor(_Wire):
    open_id: str = Field(alias="openId")
    header_url: str | None = Field(default=None, alias="headerUrl")
    user_name: str | None = Field(default=None, alias="userName")


# --- meetings ----------------------------------------------------------------------------

NoticeTime = Literal[-1, 0, 15, 60]
MeetingType = Literal["sign", "voice"] | None
Repeat = Literal[0, 1, 2, 3, 4, 5]  # none, every workday, daily, weekly, every two weeks, monthly


class MeetingFields(BaseModel):
    """What create/modify/repeat have in common; datetimes here, milliseconds on the wire."""

    model_config = ConfigDict(extra="forbid")
    openid: str
    title: str
    content: str = ""
    start: datetime
    end: datetime
    notice_time: NoticeTime = 15
    top_state: Literal[0, 1] = 0
    actors: list[str] = Field(default_factory=list)
    type: MeetingType = None
    submit_experience: bool = False

    def problems(self) -> list[str]:
        rules = []
        if not self.openid.strip():
            rules.append("openid (the creator) is required")
        if not self.title.strip():
            rules.append("title must not be empty")
        if self.start.tzinfo is None or self.end.tzinfo is None:
            rules.append("start and end need a timezone")
        elif self.end <= self.start:
            rules.append("end must be after start")
        return rules

    def wire(self) -> dict[str, Any]:
        return {
            "openid": self.openid,
            "title": self.title,
            "content": self.content,
            "startDate": to_millis(self.start),
            "endDate": to_millis(self.end),
            "noticeTime": self.notice_time,
            "topState": self.top_state,
            "actors": list(self.actors),
            "type": self.type,
            "submitExperience": self.submit_experience,
        }


class NewMeeting(MeetingFields):
    room_id: str | None = None
    meeting_place: str | None = None

    def wire(self) -> dict[str, Any]:
        return {**super().wire(), "meetingPlace": self.meeting_place, "roomId": self.room_id}


class MeetingChange(NewMeeting):
    """modify: `actors` is what the meeting will have = old + add − del (the seed's rule)."""

    id: str
    add_actors: list[str] = Field(default_factory=list)
    del_actors: list[str] = Field(default_factory=list)

    def wire(self) -> dict[str, Any]:
        return {
            "id": self.id,
            **super().wire(),
            "addActors": list(self.add_actors),
            "delActors": list(self.del_actors),
        }


def merged_actors(old: list[str], add: list[str], delete: list[str]) -> list[str]:
    """actors = old + add − del, order kept, no duplicates."""
    gone = set(delete)
    out: list[str] = []
    for oid in [*old, *add]:
        if oid not in gone and oid not in out:
            out.append(oid)
    return out


def change_of(old_actors: list[str], **fields: Any) -> MeetingChange:
    """A MeetingChange whose `actors` follows the documented rule from the old list."""
    add = list(fields.get("add_actors", []))
    delete = list(fields.get("del_actors", []))
    return MeetingChange(**{**fields, "actors": merged_actors(old_actors, add, delete)})


class RepeatMeeting(MeetingFields):
    """repeatMeeting has no roomId/meetingPlace (the seed's table)."""

    repeat: Repeat
    repeat_end: datetime

    def problems(self) -> list[str]:
        rules = super().problems()
        if self.repeat_end.tzinfo is not None and self.start.tzinfo is not None:
            if self.repeat_end < self.start:
                rules.append("repeatEndDate must not be before the first meeting's start")
        return rules

    def wire(self) -> dict[str, Any]:
        return {
            **super().wire(),
            "repeat": self.repeat,
            "repeatEndDate": to_millis(self.repeat_end),
        }


@dataclass(frozen=True)
class RepeatSeries:
    parent_id: str  # "the first id is the parent meeting"
    meeting_ids: list[str]


class Meeting(_Wire):
    """A queryByDay entry."""

    openid: str | None = None
    type: str | None = None
    title: str | None = None
    content: str | None = None
    meeting_place: str | None = Field(default=None, alias="meetingPlace")
    meeting_status: int | None = Field(default=None, alias="meetingStatus")  # 0 open 1 done 2 del
    read_status: int | None = Field(default=None, alias="readStatus")
    accept_status: int | None = Field(default=None, alias="acceptStatus")
    person_name: str | None = Field(default=None, alias="personName")
    done_time: OptMillis = Field(default=None, alias="doneTime")
    id: Annotated[str, BeforeValidator(_to_str)]
    notice_time: int | None = Field(default=None, alias="noticeTime")
    start: Millis = Field(alias="startDate")
    end: Millis = Field(alias="endDate")
    created: OptMillis = Field(default=None, alias="createDate")
    room_id: str | None = Field(default=None, alias="roomId")
    room_order_id: str | None = Field(default=None, alias="roomOrderId")


class YunzhijiaClient(EdgeClient):
    """Feed and meeting calls. Reads retry on transient failures; writes never do."""

    def __init__(
        self,
        section: YunzhijiaSection,
        *,
        timeout: float | None = None,
        tokens: TokenSource | None = None,
    ) -> None:
        self.section = section
        self.tokens = tokens or token_source(section)
        if isinstance(self.tokens, FixedToken):
            self.tokens.load()  # a missing fixed token is a setup error: say so at once
        super().__init__(PROVIDER, section.base_url, timeout or section.timeout)
        # Creators we know (from create/queryByDay): lets "only the creator cancels" be
        # checked before sending.
        self._creators: dict[str, str] = {}

    async def _call(self, path: str, body: dict[str, Any], *, read: bool) -> Any:
        async def send(token: str) -> Any:
            reply = await self._edge.post(path, body, idempotent=read, params={TOKEN_PARAM: token})
            return unwrap(reply)

        return await call_with_token(self.tokens, send)

    # feed -------------------------------------------------------------------------------

    async def has_new(self, last_ms: int | None) -> bool:
        body: dict[str, Any] = {"eid": self.section.eid}
        if last_ms is not None:
            body["lastTime"] = str(last_ms)  # a string in the seed's example
        data = await self._call(f"{FEED_PATH}/hasNew", body, read=True)
        return bool(isinstance(data, dict) and data.get("hasNew"))

    async def book_info(
        self, last_ms: int | None, page_index: int = 1, page_size: int = DEFAULT_PAGE_SIZE
    ) -> BookInfoPage:
        body: dict[str, Any] = {
            "eid": self.section.eid,
            "pageIndex": page_index,
            "pageSize": page_size,
        }
        if last_ms is not None:
            body["lastTime"] = str(last_ms)
        data = await self._call(f"{FEED_PATH}/bookInfo", body, read=True)
        if not isinstance(data, dict):
            data = {}
        page = BookInfoPage()
        # One malformed booking must not block the room's calendar forever: it is skipped
        # (and counted) while the rest of the page applies.
        for key, target in (("add", page.add), ("delete", page.delete)):
            for item in data.get(key) or []:
                try:
                    target.append(FeedBooking.model_validate(item))
                except ValueError as exc:
                    page.skipped += 1
                    order = item.get("orderId") if isinstance(item, dict) else None
                    log.warning(
                        "skipped a malformed booking",
                        extra=kv(order_id=order, problem=str(exc).splitlines()[0]),
                    )
        return page

    async def free_rooms(
        self,
        open_id: str,
        start: datetime,
        end: datetime,
        page_index: int = 1,
        page_size: int = DEFAULT_PAGE_SIZE,
    ) -> list[FreeRoom]:
        """One page of free rooms (`all_free_rooms` pages on)."""
        _check([*([] if end > start else ["endTime must be after startTime"])])
        body = {
            "openId": open_id,
            "startTime": to_millis(start),
            "endTime": to_millis(end),
            "pageIndex": page_index,
            "pageSize": page_size,
        }
        data = await self._call(f"{FEED_PATH}/freeRooms", body, read=True)
        return [_parse(FreeRoom, item) for item in data or []]

    async def all_free_rooms(
        self, open_id: str, start: datetime, end: datetime, page_size: int = DEFAULT_PAGE_SIZE
    ) -> AsyncIterator[FreeRoom]:
        """Every free room, page by page until a short page (a workspace can have more than
        one page of them); the caller may stop early once it found its room."""
        for page_index in range(1, MAX_PAGES + 1):
            page = await self.free_rooms(open_id, start, end, page_index, page_size)
            for room in page:
                yield room
            if len(page) < page_size:
                return

    async def get_actors(self, order_id: str) -> list[Actor]:
        _check([] if order_id else ["orderId is required"])
        data = await self._call(f"{FEED_PATH}/getActors", {"orderId": order_id}, read=True)
        return [_parse(Actor, item) for item in data or []]

    # meetings ---------------------------------------------------------------------------

    async def create(self, meeting: NewMeeting) -> str:
        _check(meeting.problems())
        data = await self._call(f"{MEETING_PATH}/create", meeting.wire(), read=False)
        meeting_id = str((data or {}).get("meetingId") or "")
        if not meeting_id:
            raise CloudRefused(PROVIDER, "create succeeded but returned no meetingId")
        self._creators[meeting_id] = meeting.openid
        return meeting_id

    async def modify(self, change: MeetingChange) -> None:
        _check(change.problems() + self._creator_problem(change.id, change.openid, "modify"))
        await self._call(f"{MEETING_PATH}/modify", change.wire(), read=False)

    async def cancel(self, meeting_id: str, openid: str) -> None:
        _check(self._creator_problem(meeting_id, openid, "cancel"))
        body = {"id": meeting_id, "openid": openid}
        await self._call(f"{MEETING_PATH}/cancel", body, read=False)

    async def repeat_meeting(self, meeting: RepeatMeeting) -> RepeatSeries:
        _check(meeting.problems())
        data = await self._call(f"{MEETING_PATH}/repeatMeeting", meeting.wire(), read=False)
        ids = [str(i) for i in (data or {}).get("meetingIds") or []]
        if not ids:
            raise CloudRefused(PROVIDER, "repeatMeeting succeeded but returned no meetingIds")
        for meeting_id in ids:
            self._creators[meeting_id] = meeting.openid
        return RepeatSeries(parent_id=ids[0], meeting_ids=ids)

    async def batch_modify(
        self,
        change: MeetingChange,
        repeat: Repeat,
        repeat_end: datetime,
        batch_id: str | None = None,
    ) -> None:
        """`batch_id` None addresses the parent (the first id repeatMeeting returned)."""
        rules = change.problems() + self._creator_problem(change.id, change.openid, "modify")
        if repeat_end < change.start:
            rules.append("repeatEndDate must not be before the meeting's start")
        _check(rules)
        body = {**change.wire(), "repeat": str(repeat), "repeatEndDate": to_millis(repeat_end)}
        body.pop("roomId", None)
        body.pop("meetingPlace", None)
        if batch_id:
            body["batchId"] = batch_id
        await self._call(f"{MEETING_PATH}/batchModify", body, read=False)

    async def batch_cancel(self, meeting_id: str, openid: str, batch_id: str | None = None) -> None:
        _check(self._creator_problem(meeting_id, openid, "cancel"))
        body = {"id": meeting_id, "openid": openid}
        if batch_id:
            body["batchId"] = batch_id
        await self._call(f"{MEETING_PATH}/batchCancel", body, read=False)

    async def query_by_day(self, day: datetime) -> list[Meeting]:
        data = await self._call(f"{MEETING_PATH}/queryByDay", {"day": to_millis(day)}, read=True)
        meetings = [_parse(Meeting, item) for item in data or []]
        for m in meetings:
            if m.openid:
                self._creators[m.id] = m.openid
        return meetings

    def _creator_problem(self, meeting_id: str, openid: str, verb: str) -> list[str]:
        rules = [] if meeting_id else ["id is required"]
        creator = self._creators.get(meeting_id)
        if creator is not None and creator != openid:
            rules.append(f"only the meeting's creator may {verb} it (openid differs)")
        return rules


def _check(rules: list[str]) -> None:
    if rules:
        raise CloudValidationError(PROVIDER, rules)


def _parse(model: type[M], data: Any) -> M:
    return parse_reply(PROVIDER, model, data)
