"""Loopback Huawei Cloud Meeting: authentication, REST CreateMeeting, conference control.

As the corrected spec (§2, §3) describes: App ID authentication checks the HMAC-SHA256
signature over "appId:userId:expireTime:nonce", the `access` part, `X-Token-Type: LongTicket`
and the body; account authentication checks Basic credentials. Issued tokens can be revoked
mid-run. CreateMeeting checks the REST field formats (and refuses the SDK's `bookConf` names)
and answers a JSON array of ConferenceInfo. The control token needs the chair password and a
started conference; participants need that token.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from roomagent.sim.loopback import LoopbackCloud

WIRE_TIME = "%Y-%m-%d %H:%M"
SDK_NAMES = ("startTimeStamp", "confLen", "confCommonParam", "vmrId")  # not REST fields
_AUTH = re.compile(r"^HMAC-SHA256 signature=([0-9a-f]{64}),access=(\S+)$")


def _error(status: int, code: str, message: str) -> tuple[int, Any]:
    return status, {"error_code": code, "error_msg": message}


class HuaweiCloud(LoopbackCloud):
    """Token endpoints, CreateMeeting, control token and participants on loopback."""

    RUNNING_CONFERENCE = "914083136"  # seed 004's example conference, in progress

    def __init__(
        self,
        token: str | None = None,
        conference_token: str | None = None,
        port: int = 0,
        *,
        app_id: str = "hwm-app-0001",
        app_key: str = "hwm-app-key-demo",
        account: str = "room23f",
        password: str = "hwm-password-demo",
        chair_password: str = "834201",
        token_lifetime: int = 43200,
    ) -> None:
        super().__init__(port=port)
        self.token = token  # a fixed token, valid until revoked
        self.conference_token = conference_token  # a fixed control token (older configs)
        self.app_id, self.app_key = app_id, app_key
        self.account, self.password = account, password
        self.chair_password = chair_password
        self.token_lifetime = token_lifetime
        self.issued: set[str] = set()
        self.control_tokens: dict[str, str] = {}  # token → conference id
        now = datetime.now(UTC)
        self.conferences: dict[str, dict[str, Any]] = {
            self.RUNNING_CONFERENCE: {
                "attendees": [],
                "start": now - timedelta(minutes=10),
                "end": now + timedelta(minutes=50),
            }
        }
        self._next_id = 914083200

    # test helpers ------------------------------------------------------------------------

    def revoke_tokens(self) -> None:
        with self._lock:
            self.issued.clear()
            self.token = None

    def expire_control_tokens(self) -> None:
        with self._lock:
            self.control_tokens.clear()
            self.conference_token = None

    def start_conference(self, conference_id: str) -> None:
        with self._lock:
            self.conferences[conference_id]["start"] = datetime.now(UTC) - timedelta(minutes=1)

    # protocol ----------------------------------------------------------------------------

    def handle(
        self, path: str, query: dict[str, str], headers: dict[str, str], body: Any
    ) -> tuple[int, Any]:
        body = body if isinstance(body, dict) else {}
        if path.endswith("/v2/usg/acs/auth/appauth"):
            return self._app_auth(headers, body)
        if path.endswith("/v1/usg/acs/auth/account"):
            return self._account_auth(headers, body)
        if path.endswith("/v1/mmc/management/conferences"):
            token = headers.get("x-access-token")
            if not token or not (token == self.token or token in self.issued):
                return _error(401, "USG.000000004", "The token is invalid.")
            return self._create(body)
        if path.endswith("/v1/mmc/control/conferences/token"):
            return self._control_token(query, headers)
        if path.endswith("/v1/mmc/control/conferences/participants"):
            return self._invite(query, headers, body)
        return 404, None

    def _grant(self) -> tuple[int, Any]:
        token = "stb" + secrets.token_hex(24)
        self.issued.add(token)
        return 200, {
            "accessToken": token,
            "validPeriod": self.token_lifetime,
            "refreshToken": "r" + token,
            "tokenType": 0,
            "clientType": 72,
        }

    def _app_auth(self, headers: dict[str, str], body: dict[str, Any]) -> tuple[int, Any]:
        if headers.get("x-token-type") != "LongTicket":
            return _error(400, "USG.000000001", "X-Token-Type must be LongTicket")
        match = _AUTH.match(headers.get("authorization", ""))
        if match is None:
            return _error(401, "USG.000000002", "Authorization header malformed")
        signature, access = match.groups()
        app_id, user_id = body.get("appId"), body.get("userId") or ""
        expire, nonce = body.get("expireTime"), body.get("nonce")
        if app_id != self.app_id or access != base64.b64encode(self.app_id.encode()).decode():
            return _error(401, "USG.000000003", "appId unknown")
        if not isinstance(nonce, str) or not 32 <= len(nonce) <= 64:
            return _error(400, "USG.000000006", "nonce must be 32-64 characters")
        if not isinstance(expire, int) or (expire != 0 and expire < time.time()):
            return _error(401, "USG.000000007", "signature expired")
        if body.get("clientType") != 72:
            return _error(400, "USG.000000008", "clientType invalid")
        data = f"{app_id}:{user_id}:{expire}:{nonce}".encode()
        expected = hmac.new(self.app_key.encode(), data, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, signature):
            return _error(401, "USG.000000005", "signature verification failed")
        return self._grant()

    def _account_auth(self, headers: dict[str, str], body: dict[str, Any]) -> tuple[int, Any]:
        expected = base64.b64encode(f"{self.account}:{self.password}".encode()).decode()
        if headers.get("authorization") != f"Basic {expected}" or body.get("account") != (
            self.account
        ):
            return _error(401, "USG.000000009", "account or password incorrect")
        return self._grant()

    def _create(self, body: dict[str, Any]) -> tuple[int, Any]:
        sdk = [k for k in SDK_NAMES if k in body]
        if sdk:
            return _error(400, "MMC.111070001", f"unknown parameter {sdk[0]}")
        start_text = body.get("startTime")
        try:
            start = datetime.strptime(str(start_text), WIRE_TIME).replace(tzinfo=UTC)
        except ValueError:
            return _error(400, "MMC.111070002", "startTime must be yyyy-MM-dd HH:mm")
        if start <= datetime.now(UTC):
            return _error(400, "MMC.111070003", "startTime is earlier than now")
        length = body.get("length", 30)
        if not isinstance(length, int) or not 15 <= length <= 1440:
            return _error(400, "MMC.111070004", "length must be 15..1440")
        subject = body.get("subject")
        if not isinstance(subject, str) or not subject or len(subject) > 128:
            return _error(400, "MMC.111070005", "subject invalid")
        media = str(body.get("mediaTypes") or "").split(",")
        if not {"HDVideo", "Voice"} & set(media) or set(media) - {"HDVideo", "Voice", "Data"}:
            return _error(400, "MMC.111070006", "mediaTypes invalid")
        if body.get("vmrFlag") == 1 and not body.get("vmrID"):
            return _error(400, "MMC.111070007", "vmrID is required")
        if not isinstance(body.get("attendees", []), list):
            return _error(400, "MMC.111070008", "attendees must be a list")
        self._next_id += 1
        conf_id = str(self._next_id)
        end = start + timedelta(minutes=length)
        self.conferences[conf_id] = {"attendees": [], "booking": body, "start": start, "end": end}
        return 200, [
            {
                "conferenceID": conf_id,
                "subject": subject,
                "startTime": start.strftime(WIRE_TIME),
                "endTime": end.strftime(WIRE_TIME),
                "conferenceState": "Schedule",
                "mediaTypes": body["mediaTypes"],
                "passwordEntry": [
                    {"conferenceRole": "chair", "password": self.chair_password},
                    {"conferenceRole": "general", "password": "551072"},
                ],
                "chairJoinUri": f"https://meeting.example/chair/{conf_id}?pwd=chair-secret",
                "guestJoinUri": f"https://meeting.example/j/{conf_id}",
                "vmrID": body.get("vmrID"),
            }
        ]

    def _control_token(self, query: dict[str, str], headers: dict[str, str]) -> tuple[int, Any]:
        conf_id = query.get("conferenceID", "")
        conference = self.conferences.get(conf_id)
        if conference is None:
            return _error(400, "MMC.111071001", "Conference not exist")
        if headers.get("x-login-type") != "1":
            return _error(400, "MMC.111071002", "X-Login-Type invalid")
        if headers.get("x-password") != self.chair_password:
            return _error(401, "MMC.111071003", "Password is incorrect")
        if conference["start"] > datetime.now(UTC):
            return _error(400, "MMC.111071004", "The conference has not started")
        token = "stb" + secrets.token_hex(20)
        self.control_tokens[token] = conf_id
        expire = int((time.time() + 1800) * 1000)
        return 200, {
            "httpCode": 200,
            "data": {"token": token, "tmpToken": "tmp" + token, "role": 1, "expireTime": expire},
        }

    def _invite(
        self, query: dict[str, str], headers: dict[str, str], body: dict[str, Any]
    ) -> tuple[int, Any]:
        conf_id = query.get("conferenceID", "")
        token = headers.get("x-conference-authorization")
        fixed = self.conference_token is not None and token == self.conference_token
        if not fixed and self.control_tokens.get(token or "") != conf_id:
            return _error(401, "MMC.111070001", "Conference token invalid")
        conference = self.conferences.get(conf_id)
        if conference is None:
            return _error(400, "MMC.111070005", "Conference not exist")
        attendees = body.get("attendees")
        if not isinstance(attendees, list) or not attendees:
            return _error(400, "MMC.111070002", "attendees is empty")
        for attendee in attendees:
            if not isinstance(attendee, dict) or not attendee.get("name"):
                return _error(400, "MMC.111070009", "attendee name is required")
            if not any(attendee.get(k) for k in ("phone", "email", "sms")):
                return _error(400, "MMC.111070010", "phone, email or sms is required")
        conference["attendees"].extend(attendees)
        return 200, None
