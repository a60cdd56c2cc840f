"""Loopback Yunzhijia: the OAuth2 token endpoint, the room-booking feed and the meeting API.

As the spec (§1) and seed 001 describe: `getAccessToken` checks the workspace secret and
issues tokens that expire (and can be revoked mid-run by a test); every other call checks
`?accessToken=` and answers an invalid/expired token with the vendor's envelope; `hasNew`
reports new bookings only (as the seed words it), so a cancellation needs a resync;
`freeRooms` and `bookInfo` are paged.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from roomagent.config.model import YunzhijiaSection
from roomagent.sim.loopback import LoopbackCloud

WORKSPACE_TZ = timezone(timedelta(hours=8))  # the seeds' clouds are in China
TIMESTAMP_SKEW_MS = 5 * 60 * 1000  # getAccessToken's timestamp must be about now
STALE_TOKEN = (10001, "accessToken无效或已过期")


def _ok(data: Any) -> dict[str, Any]:
    return {"success": True, "errorCode": 0, "error": "", "data": data}


def _err(code: int, message: str) -> dict[str, Any]:
    return {"success": False, "errorCode": code, "error": message, "data": None}


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


@dataclass
class _FeedRecord:
    kind: str  # "add" | "delete"
    booking: dict[str, Any]


@dataclass
class _YzjMeeting:
    data: dict[str, Any]
    order_id: str | None = None
    actors: list[str] = field(default_factory=list)


class YunzhijiaCloud(LoopbackCloud):
    """Feed (`/api/roomBook/third/*`) and meetings (`/gateway/cloudwork/meeting/*`)."""

    def __init__(
        self,
        token: str | None,
        eid: str = "10109",
        rooms: dict[str, str] | None = None,
        port: int = 0,
        secret: str | None = None,
        token_lifetime: int = 7200,
    ) -> None:
        super().__init__(port=port)
        self.token = token  # a fixed token, valid until revoked (None: only issued ones)
        self.secret = secret  # what getAccessToken accepts
        self.token_lifetime = token_lifetime
        self.issued: dict[str, float] = {}  # token → monotonic expiry
        self._revoke_after: tuple[str, int] | None = None
        self.eid = eid
        self.rooms = rooms or {"room-23f": "23F会议室", "room-a304": "A304"}  # roomId → name
        self.feed: list[_FeedRecord] = []
        self.meetings: dict[str, _YzjMeeting] = {}
        self.actors: dict[str, list[dict[str, str]]] = {}
        self.record_order = "oldest_first"  # "newest_first": pages out of updateTime order
        self.overlap = 0  # repeat the previous page's last N records (duplicates)
        self._clock = 1_538_201_890_395
        self._seq = 0

    # The organiser that bookings made from the room's panel are created for.
    ROOM_OPEN_ID = "5a67e08d00b0e8dfe4aab4fa"

    def section(self, token_file: Path | None = None, **overrides: Any) -> YunzhijiaSection:
        """The `[calendar.yunzhijia]` config that points an agent at this stand-in's 23F room
        (without `token_file` the token comes from the environment, as the section's default)."""
        settings: dict[str, Any] = {
            "base_url": self.url,
            "eid": self.eid,
            "room_name": "23F会议室",
            "open_id": self.ROOM_OPEN_ID,
            "token_file": token_file,
            "poll_seconds": 30,
        }
        return YunzhijiaSection(**(settings | overrides))

    # test helpers ------------------------------------------------------------------------

    def revoke_tokens(self) -> None:
        """Every token issued so far (and the fixed one) stops working: an expiry mid-run."""
        with self._lock:
            self.issued.clear()
            self.token = None

    def revoke_tokens_after(self, path_suffix: str, count: int = 1) -> None:
        """Revoke the tokens once `count` more requests to `path_suffix` were answered."""
        with self._lock:
            self._revoke_after = (path_suffix, count)

    def add_rooms(self, count: int) -> None:
        """More rooms in the workspace (for freeRooms paging)."""
        with self._lock:
            for i in range(count):
                self.rooms[f"room-x{i:04d}"] = f"X{i:04d}"

    def _tick(self) -> int:
        self._clock = max(self._clock + 1, _ms(datetime.now(UTC)))
        return self._clock

    def add_booking(
        self,
        room_name: str,
        start: datetime,
        end: datetime,
        topic: str = "Weekly sync",
        content: str = "",
        user: str = "何****",
        order_id: str | None = None,
    ) -> dict[str, Any]:
        with self._lock:
            self._seq += 1
            booking = self._feed_add(
                order_id or f"order-{self._seq:04d}",
                room_name,
                _ms(start),
                _ms(end),
                topic,
                content,
                user,
            )
            return dict(booking)

    def _feed_add(
        self,
        order_id: str,
        room_name: str,
        start_ms: int,
        end_ms: int,
        topic: str | None,
        content: str | None,
        user: str,
    ) -> dict[str, Any]:
        """A new booking's `add` record on the feed (the caller holds the lock)."""
        now = self._tick()
        start = datetime.fromtimestamp(start_ms / 1000, UTC)
        booking = {
            "orderId": order_id,
            "roomName": room_name,
            "roomDetail": None,
            "day": start.astimezone(WORKSPACE_TZ).strftime("%Y-%m-%d"),
            "userName": user,
            "eid": self.eid,
            "startTime": start_ms,
            "endTime": end_ms,
            "createTime": now,
            "updateTime": now,
            "meetingTopic": topic,
            "meetingContent": content,
        }
        self.feed.append(_FeedRecord("add", booking))
        return booking

    def update_booking(self, order_id: str, **changes: Any) -> None:
        with self._lock:
            current = self._live(order_id)
            if current is None:
                raise KeyError(order_id)
            self.feed.append(_FeedRecord("add", {**current, **changes, "updateTime": self._tick()}))

    def delete_booking(self, order_id: str) -> None:
        with self._lock:
            current = self._live(order_id)
            if current is None:
                raise KeyError(order_id)
            self.feed.append(_FeedRecord("delete", {**current, "updateTime": self._tick()}))

    def _live(self, order_id: str) -> dict[str, Any] | None:
        latest = None
        for record in self.feed:
            if record.booking["orderId"] == order_id:
                latest = record
        return dict(latest.booking) if latest and latest.kind == "add" else None

    # protocol ----------------------------------------------------------------------------

    def handle(
        self, path: str, query: dict[str, str], headers: dict[str, str], body: Any
    ) -> tuple[int, Any]:
        body = body if isinstance(body, dict) else {}
        if path.endswith("/gateway/oauth2/token/getAccessToken"):
            return 200, self._get_access_token(body)
        if not self._valid(query.get("accessToken")):
            return 200, _err(*STALE_TOKEN)
        status, reply = self._route(path, body)
        if self._revoke_after is not None and path.endswith(self._revoke_after[0]):
            left = self._revoke_after[1] - 1
            self._revoke_after = (self._revoke_after[0], left) if left > 0 else None
            if left <= 0:
                self.issued.clear()
                self.token = None
        return status, reply

    def _valid(self, token: str | None) -> bool:
        if not token:
            return False
        if self.token is not None and secrets.compare_digest(token, self.token):
            return True
        expiry = self.issued.get(token)
        return expiry is not None and time.monotonic() < expiry

    def _get_access_token(self, body: dict[str, Any]) -> dict[str, Any]:
        if str(body.get("eid")) != self.eid:
            return _err(20001, "eid不存在")
        scope = body.get("scope")
        if scope not in ("resGroupSecret", "app", "team"):
            return _err(40002, "scope错误")
        if scope != "resGroupSecret" and not body.get("appId"):
            return _err(40003, "appId不能为空")
        stamp = body.get("timestamp")
        if not isinstance(stamp, int) or abs(stamp - time.time() * 1000) > TIMESTAMP_SKEW_MS:
            return _err(40004, "timestamp已过期")
        given = body.get("secret")
        if self.secret is None or not isinstance(given, str) or given != self.secret:
            return _err(40001, "secret错误")
        token = secrets.token_hex(16)
        self.issued[token] = time.monotonic() + self.token_lifetime
        return _ok(
            {"accessToken": token, "expireIn": self.token_lifetime, "refreshToken": "r" + token}
        )

    def _route(self, path: str, body: dict[str, Any]) -> tuple[int, Any]:
        name = path.rsplit("/", 1)[-1]
        if "/api/roomBook/third/" in path:
            route = {
                "hasNew": self._has_new,
                "bookInfo": self._book_info,
                "freeRooms": self._free_rooms,
                "getActors": self._get_actors,
            }
        elif "/gateway/cloudwork/meeting/" in path:
            route = {
                "create": self._create,
                "modify": self._modify,
                "cancel": self._cancel,
                "repeatMeeting": self._repeat,
                "batchModify": self._batch_modify,
                "batchCancel": self._cancel,
                "queryByDay": self._query_by_day,
            }
        else:
            return 404, None
        if name not in route:
            return 404, None
        return 200, route[name](body)

    def _since(self, body: dict[str, Any]) -> list[_FeedRecord]:
        last = body.get("lastTime")
        cutoff = int(last) if last not in (None, "") else -1
        return sorted(
            (r for r in self.feed if r.booking["updateTime"] > cutoff),
            key=lambda r: r.booking["updateTime"],
        )

    def _has_new(self, body: dict[str, Any]) -> dict[str, Any]:
        if str(body.get("eid")) != self.eid:
            return _err(20001, "eid不存在")
        # "是否有新增预定信息": new bookings only; a cancellation alone is not reported.
        return _ok({"hasNew": any(r.kind == "add" for r in self._since(body))})

    def _book_info(self, body: dict[str, Any]) -> dict[str, Any]:
        if str(body.get("eid")) != self.eid:
            return _err(20001, "eid不存在")
        records = self._since(body)
        if self.record_order == "newest_first":
            records.reverse()  # a newer version of a booking arrives before its older one
        size = int(body.get("pageSize") or 50)
        index = int(body.get("pageIndex") or 1)
        start = (index - 1) * size
        chosen = records[max(0, start - self.overlap) : start + size] if index >= 1 else []
        return _ok(
            {
                "add": [r.booking for r in chosen if r.kind == "add"],
                "delete": [r.booking for r in chosen if r.kind == "delete"],
            }
        )

    def _free_rooms(self, body: dict[str, Any]) -> dict[str, Any]:
        start, end = int(body["startTime"]), int(body["endTime"])
        busy = set()
        for record in self.feed:
            live = self._live(record.booking["orderId"])
            if live and live["startTime"] < end and live["endTime"] > start:
                busy.add(live["roomName"])
        free = [
            {"roomId": rid, "roomName": name, "roomDetail": None, "note": "", "tagId": None,
             "limitCount": 12, "approve": False}
            for rid, name in sorted(self.rooms.items(), key=lambda r: r[1])
            if name not in busy
        ]  # fmt: skip
        size = int(body.get("pageSize") or 50)
        index = int(body.get("pageIndex") or 1)
        return _ok(free[(index - 1) * size : index * size])

    def _get_actors(self, body: dict[str, Any]) -> dict[str, Any]:
        return _ok(self.actors.get(str(body.get("orderId")), []))

    def _create(self, body: dict[str, Any]) -> dict[str, Any]:
        if body.get("endDate", 0) <= body.get("startDate", 0):
            return _err(30001, "结束时间必须晚于开始时间")
        self._seq += 1
        meeting_id = f"mtg{self._seq:05d}"
        meeting = _YzjMeeting(dict(body), actors=list(body.get("actors") or []))
        room_name = self.rooms.get(str(body.get("roomId")))
        if room_name:
            order_id = f"order-{self._seq:04d}"
            self._feed_add(
                order_id,
                room_name,
                body["startDate"],
                body["endDate"],
                body.get("title"),
                body.get("content"),
                "机****",
            )
            meeting.order_id = order_id
            self.actors[order_id] = [
                {"openId": a, "headerUrl": "", "userName": "陈*波"} for a in meeting.actors
            ]
        self.meetings[meeting_id] = meeting
        return _ok({"meetingId": meeting_id})

    def _modify(self, body: dict[str, Any]) -> dict[str, Any]:
        meeting = self.meetings.get(str(body.get("id")))
        if meeting is None:
            return _err(30004, "会议不存在")
        if meeting.data.get("openid") != body.get("openid"):
            return _err(30003, "只有创建人才能修改会议")
        meeting.data.update({k: v for k, v in body.items() if k not in ("addActors", "delActors")})
        if meeting.order_id and (live := self._live(meeting.order_id)):
            self.feed.append(
                _FeedRecord(
                    "add",
                    {
                        **live,
                        "startTime": body["startDate"],
                        "endTime": body["endDate"],
                        "updateTime": self._tick(),
                    },
                )
            )
        return _ok(None)

    def _cancel(self, body: dict[str, Any]) -> dict[str, Any]:
        meeting = self.meetings.get(str(body.get("id")))
        if meeting is None:
            return _err(30004, "会议不存在")
        if meeting.data.get("openid") != body.get("openid"):
            return _err(30002, "必须是创建人创建的会议,才可以取消")
        del self.meetings[str(body["id"])]
        if meeting.order_id and (live := self._live(meeting.order_id)):
            self.feed.append(_FeedRecord("delete", {**live, "updateTime": self._tick()}))
        return _ok(None)

    def _repeat(self, body: dict[str, Any]) -> dict[str, Any]:
        if body.get("repeat") not in (0, 1, 2, 3, 4, 5):
            return _err(30005, "repeat取值错误")
        ids = []
        for _ in range(3):
            self._seq += 1
            ids.append(f"mtg{self._seq:05d}")
            self.meetings[ids[-1]] = _YzjMeeting(dict(body))
        return _ok({"meetingIds": ids})

    def _batch_modify(self, body: dict[str, Any]) -> dict[str, Any]:
        if str(body.get("repeat")) not in {"0", "1", "2", "3", "4", "5"}:
            return _err(30005, "repeat取值错误")
        return self._modify(body)

    def _query_by_day(self, body: dict[str, Any]) -> dict[str, Any]:
        day = datetime.fromtimestamp(int(body["day"]) / 1000, WORKSPACE_TZ).date()
        out = []
        for meeting_id, meeting in self.meetings.items():
            data = meeting.data
            start = datetime.fromtimestamp(data["startDate"] / 1000, WORKSPACE_TZ)
            if start.date() != day:
                continue
            out.append(
                {
                    "openid": data.get("openid"), "type": data.get("type"),
                    "title": data.get("title"), "content": data.get("content"),
                    "meetingPlace": data.get("meetingPlace"), "meetingStatus": 0,
                    "readStatus": 1, "acceptStatus": 2, "personName": "张三", "doneTime": None,
                    "id": meeting_id, "noticeTime": data.get("noticeTime"),
                    "startDate": data["startDate"], "endDate": data["endDate"],
                    "createDate": data["startDate"], "roomId": data.get("roomId"),
                    "roomOrderId": meeting.order_id or "",
                }
            )  # fmt: skip
        return _ok(out)
