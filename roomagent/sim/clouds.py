"""Loopback stand-ins for the scheduling clouds (Yunzhijia, Huawei Cloud Meeting, Quanshi).

Real HTTP servers (http.server in a thread) answering as the spec and the seeds describe,
for the tests, the demo (`roomagent sim clouds`) and HIL runs. They record every request
(so a test can assert that nothing was sent) and take injected faults: an error reply, a
slow reply, for the next N requests to a path.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from roomagent.config.model import YunzhijiaSection

Handler = Callable[[str, dict[str, str], dict[str, str], Any], tuple[int, Any]]
WORKSPACE_TZ = timezone(timedelta(hours=8))  # the seeds' clouds are in China


@dataclass
class Recorded:
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any


@dataclass
class Fault:
    path_suffix: str
    times: int
    status: int = 500
    body: Any = None
    delay: float = 0.0
    only_delay: bool = False


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        return  # a client that hung up during a slow reply is expected in the timeout tests


class LoopbackCloud:
    """Base: a ThreadingHTTPServer on 127.0.0.1 that routes POSTs to `handle`."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.requests: list[Recorded] = []
        self._faults: list[Fault] = []
        self._lock = threading.Lock()
        cloud = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body go out as separate writes

            def do_POST(self) -> None:
                cloud._serve(self)

            def log_message(self, format: str, *args: Any) -> None:
                return  # quiet: tests read `requests` instead

        self._server = _QuietServer((host, port), _Handler)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> LoopbackCloud:
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> LoopbackCloud:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def fail_next(
        self, path_suffix: str, status: int = 500, body: Any = None, times: int = 1
    ) -> None:
        with self._lock:
            self._faults.append(Fault(path_suffix, times, status, body))

    def delay_next(self, path_suffix: str, seconds: float, times: int = 1) -> None:
        with self._lock:
            self._faults.append(Fault(path_suffix, times, delay=seconds, only_delay=True))

    def requests_to(self, path_suffix: str) -> list[Recorded]:
        with self._lock:
            return [r for r in self.requests if r.path.endswith(path_suffix)]

    def _take_fault(self, path: str) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if path.endswith(fault.path_suffix) and fault.times > 0:
                    fault.times -= 1
                    return fault
        return None

    def _serve(self, request: BaseHTTPRequestHandler) -> None:
        split = urlsplit(request.path)
        query = {k: v[0] for k, v in parse_qs(split.query).items()}
        length = int(request.headers.get("Content-Length") or 0)
        raw = request.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        headers = {k.lower(): v for k, v in request.headers.items()}
        with self._lock:
            self.requests.append(Recorded(split.path, query, headers, body))
        fault = self._take_fault(split.path)
        if fault is not None:
            time.sleep(fault.delay)
        if fault is not None and not fault.only_delay:
            status, reply = fault.status, fault.body
        else:
            with self._lock:
                status, reply = self.handle(split.path, query, headers, body)
        data = b"" if reply is None else json.dumps(reply, ensure_ascii=False).encode()
        try:
            request.send_response(status)
            request.send_header("Content-Type", "application/json;charset=UTF-8")
            request.send_header("Content-Length", str(len(data)))
            request.end_headers()
            request.wfile.write(data)
        except OSError:
            pass  # the client gave up (timeout test); nothing to tell it

    def handle(
        self, path: str, query: dict[str, str], headers: dict[str, str], body: Any
    ) -> tuple[int, Any]:
        raise NotImplementedError


# --- Yunzhijia ---------------------------------------------------------------------------


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
        self, token: str, eid: str = "10109", rooms: dict[str, str] | None = None, port: int = 0
    ) -> None:
        super().__init__(port=port)
        self.token = token
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
        if query.get("accessToken") != self.token:
            return 200, _err(10001, "accessToken无效或已过期")
        body = body if isinstance(body, dict) else {}
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
        return _ok({"hasNew": bool(self._since(body))})

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
            for rid, name in self.rooms.items()
            if name not in busy
        ]  # fmt: skip
        return _ok(free)

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


# --- Huawei Cloud Meeting ----------------------------------------------------------------


class HuaweiCloud(LoopbackCloud):
    """bookConf over REST (the spec's assumption) and seed 004's invite participants."""

    def __init__(self, token: str, conference_token: str, port: int = 0) -> None:
        super().__init__(port=port)
        self.token = token
        self.conference_token = conference_token
        self.conferences: dict[str, dict[str, Any]] = {"914083136": {"attendees": []}}
        self._next_id = 914083200

    def handle(
        self, path: str, query: dict[str, str], headers: dict[str, str], body: Any
    ) -> tuple[int, Any]:
        body = body if isinstance(body, dict) else {}
        if path.endswith("/v1/mmc/management/conferences"):
            if headers.get("x-access-token") != self.token:
                return 401, {"error_code": "USG.000000004", "error_msg": "The token is invalid."}
            return self._book(body)
        if path.endswith("/v1/mmc/control/conferences/participants"):
            if headers.get("x-conference-authorization") != self.conference_token:
                return 401, {"error_code": "MMC.111070001", "error_msg": "Conference token invalid"}
            conference = self.conferences.get(query.get("conferenceID", ""))
            if conference is None:
                return 400, {"error_code": "MMC.111070005", "error_msg": "Conference not exist"}
            attendees = body.get("attendees")
            if not isinstance(attendees, list) or not attendees:
                return 400, {"error_code": "MMC.111070002", "error_msg": "attendees is empty"}
            conference["attendees"].extend(attendees)
            return 200, None
        return 404, None

    def _book(self, body: dict[str, Any]) -> tuple[int, Any]:
        start = body.get("startTimeStamp")
        length = body.get("confLen", 30)
        if not isinstance(start, int) or start <= time.time():
            return 200, {"result": 90000001, "reasonDesc": "start time earlier than now"}
        if not 15 <= length <= 1440:
            return 200, {"result": 90000002, "reasonDesc": "conference length out of range"}
        self._next_id += 1
        conf_id = str(self._next_id)
        self.conferences[conf_id] = {"attendees": [], "booking": body}
        subject = (body.get("confCommonParam") or {}).get("subject")
        return 200, {
            "result": 0,
            "reasonDesc": "",
            "bookConfResult": {
                "conferenceID": conf_id,
                "subject": subject,
                "confLen": length,
                "chairPasswd": "834201",
                "guestPasswd": "551072",
            },
        }


# --- Quanshi ------------------------------------------------------------------------------

QUANSHI_SEED_MEETING: dict[str, Any] = {
    # seed 002's example reply, verbatim apart from layout
    "conferenceId": "239719428", "pcode1": "201501000037434973",
    "pcode2": "201501000037434974", "billingcode": "95397103", "eventId": 566390,
    "attendeeJoinUrl": "https://mtest.qsh1.cn/k/mkIW3Txa0Uk",
    "hostJoinUrl": "https://mtest.qsh1.cn/k/mkIW3H0GXqq",
    "hostId": 88610849, "hostName": "pxytest24", "hostMobile": "",
    "startTime": 1654608600, "endTime": 1654610400, "length": 30, "status": 1, "title": "哦",
    "confMode": 0, "calType": "E", "roomId": "",
    "attendList": [{
        "cityCode": "", "companyName": "", "contactId": "", "countryCode": "",
        "displayName": "", "mobileNumber": "", "officePhone": "", "orgName": "",
        "phoneEmail": "", "phoneName": "", "productStatus": 1, "status": "W",
        "user": "88610849", "userProfile": None, "userType": 1,
    }],
    "livePullUrl": "", "livePullPwd": "", "CreateTime": 1654567956, "modifyTime": 1654568076,
    "timezone": "Asia/Shanghai", "joinLogin": 0, "joinConfSelTag": 0, "joinConfTags": "",
    "webRTCUrl": "https://mtest.qsh1.cn/k/mkIW3Txa0Uk?priority=web", "calExtraInfo": {},
    "confNodeType": 1, "houseList": [], "equipList": [], "detailHouseList": None,
}  # fmt: skip


class QuanshiCloud(LoopbackCloud):
    """Meeting detail by attendee join link (seed 002), token in the `token` header."""

    PATH = "/confopenapi/conference/detail/byJoinUrl"

    def __init__(self, token: str, port: int = 0) -> None:
        super().__init__(port=port)
        self.token = token
        self.meetings: dict[str, dict[str, Any]] = {
            QUANSHI_SEED_MEETING["attendeeJoinUrl"]: dict(QUANSHI_SEED_MEETING)
        }

    @property
    def endpoint(self) -> str:
        return self.url + self.PATH

    def handle(
        self, path: str, query: dict[str, str], headers: dict[str, str], body: Any
    ) -> tuple[int, Any]:
        if path != self.PATH:
            return 404, None
        envelope = {"request_id": "loopback", "timestamp": int(time.time() * 1000)}
        if headers.get("token") != self.token:
            return 200, {"status": 10002, "msg": "token invalid", **envelope}
        link = (body or {}).get("attendeeJoinUrl") if isinstance(body, dict) else None
        if not link:
            return 200, {"status": 10001, "msg": "attendeeJoinUrl is required", **envelope}
        meeting = self.meetings.get(link)
        if meeting is None:
            return 200, {"status": 50004, "msg": "conference not found", **envelope}
        return 200, {"status": 0, "result": [meeting], **envelope}
