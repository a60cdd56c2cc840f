"""Loopback Quanshi: meeting detail by attendee join link (seed 002), token in a header.

It can answer as the seed's table types the reply (`result` a JSON string, times formatted
strings) as well as its example does (an array, unix seconds).
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from roomagent.sim.loopback import LoopbackCloud

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
        self.result_as_string = False  # the seed's table: result is a JSON string
        self.times_as_text = False  # "2022-06-07 21:30:00" in the meeting's timezone
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
        if self.times_as_text:
            zone = ZoneInfo(meeting.get("timezone") or "Asia/Shanghai")
            meeting = dict(meeting)
            for key in ("startTime", "endTime"):
                moment = datetime.fromtimestamp(int(meeting[key]), UTC).astimezone(zone)
                meeting[key] = moment.strftime("%Y-%m-%d %H:%M:%S")
        result: Any = [meeting]
        if self.result_as_string:
            result = json.dumps(result, ensure_ascii=False)
        return 200, {"status": 0, "result": result, **envelope}
