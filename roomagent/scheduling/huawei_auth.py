"""Huawei Cloud Meeting credentials: the access token and per-conference control tokens.

Access token (spec §2): App ID authentication — `POST /v2/usg/acs/auth/appauth` with
`Authorization: HMAC-SHA256 signature=<hex HMAC-SHA256(appKey, "appId:userId:expireTime:nonce")>,
access=<base64(appId)>`, `X-Token-Type: LongTicket` and body `{appId, userId, expireTime, nonce,
clientType: 72}` — or account authentication (`POST /v1/usg/acs/auth/account`, Basic auth). The
reply's `validPeriod` (s) says how long the token lives; it is renewed before that and on a 401.
Without either, the fixed `token_env` token is used.

Control token (spec §3): `GET /v1/mmc/control/conferences/token?conferenceID=…` with the chair
password in `X-Password` and `X-Login-Type: 1`; it exists only for a started conference, lives
30 minutes and is per conference, so it is fetched when needed and cached per conference.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from collections.abc import Callable, Mapping
from typing import Any

from roomagent.config.model import HuaweiSection
from roomagent.logsetup import register_secret
from roomagent.scheduling.http import (
    CloudAuthError,
    CloudError,
    CloudRefused,
    HttpEdge,
    MissingToken,
    Reply,
    load_token,
)
from roomagent.scheduling.tokens import (
    FixedToken,
    Grant,
    RenewingToken,
    TokenRejected,
    TokenSource,
    secret_source,
)

PROVIDER = "Huawei Cloud Meeting"
APP_AUTH_PATH = "v2/usg/acs/auth/appauth"
ACCOUNT_AUTH_PATH = "v1/usg/acs/auth/account"
CONTROL_TOKEN_PATH = "v1/mmc/control/conferences/token"
CLIENT_TYPE = 72  # the documented client type for a third-party REST caller
SIGNATURE_LIFETIME = 600  # s; the signature's own expireTime (0 would never expire)
DEFAULT_LIFETIME = 12 * 3600  # the documented minimum token life, if validPeriod is absent
CONTROL_TOKEN_LIFETIME = 30 * 60.0

# HTTP status → what it means to a person (seed 004, table 4).
STATUS_MEANING = {
    400: "invalid parameters",
    401: "authentication missing or failed",
    403: "no permission",
    500: "server error",
}
# Error-code families (seed 004: codes starting MMC or USG; see Huawei's API error centre).
CODE_FAMILY = {"MMC": "meeting management/control", "USG": "user/authentication gateway"}


def error_for(reply: Reply) -> CloudError:
    """400/401/403/500 and MMC/USG codes as a readable error; a 401 is `TokenRejected`."""
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
    if reply.status == 401:
        return TokenRejected(PROVIDER, text)
    if reply.status == 403:
        return CloudAuthError(PROVIDER, text)
    return CloudRefused(PROVIDER, text, code=code or None, status=reply.status)


def raise_for_status(reply: Reply) -> None:
    if not 200 <= reply.status < 300:
        raise error_for(reply)


def app_signature(app_key: str, app_id: str, user_id: str, expire_time: int, nonce: str) -> str:
    """hex HMAC-SHA256 over "appId:userId:expireTime:nonce" ("" for a missing userId)."""
    data = f"{app_id}:{user_id}:{expire_time}:{nonce}".encode()
    return hmac.new(app_key.encode(), data, hashlib.sha256).hexdigest()


def _grant(reply: Reply) -> Grant:
    raise_for_status(reply)
    body = reply.body if isinstance(reply.body, Mapping) else {}
    token = body.get("accessToken")
    if not isinstance(token, str) or not token:
        raise CloudRefused(PROVIDER, "the authentication reply carried no accessToken")
    period = body.get("validPeriod")
    lifetime = float(period) if isinstance(period, int | float) and period > 0 else None
    return Grant(token, lifetime or DEFAULT_LIFETIME)


def token_source(section: HuaweiSection) -> TokenSource:
    """App ID auth when `app_id` is set, account auth when `account` is, else the fixed token.
    Each fetch uses its own short-lived connection, so clients can share one source."""

    async def post(path: str, body: dict[str, Any], headers: dict[str, str]) -> Reply:
        async with HttpEdge(PROVIDER, section.base_url, timeout=section.timeout) as edge:
            return await edge.post(path, body, idempotent=True, headers=headers)

    if section.app_id:
        app_id = section.app_id
        where = secret_source(section.app_key_env, section.app_key_file)

        async def by_app_id() -> Grant:
            key = load_token(PROVIDER, section.app_key_env, section.app_key_file, what="App Key")
            user_id = section.user_id or ""
            expire = int(time.time()) + SIGNATURE_LIFETIME
            nonce = secrets.token_hex(24)  # 48 characters: within the documented 32..64
            signature = app_signature(key, app_id, user_id, expire, nonce)
            access = base64.b64encode(app_id.encode()).decode()
            headers = {
                "Authorization": f"HMAC-SHA256 signature={signature},access={access}",
                "X-Token-Type": "LongTicket",
            }
            body: dict[str, Any] = {
                "appId": app_id,
                "expireTime": expire,
                "nonce": nonce,
                "clientType": CLIENT_TYPE,
            }
            if section.user_id:
                body["userId"] = section.user_id
            return _grant(await post(APP_AUTH_PATH, body, headers))

        return RenewingToken(PROVIDER, f"App ID {app_id} with the App Key ({where})", by_app_id)
    if section.account:
        account = section.account
        where = secret_source(section.password_env, section.password_file)

        async def by_account() -> Grant:
            password = load_token(
                PROVIDER, section.password_env, section.password_file, what="account password"
            )
            basic = base64.b64encode(f"{account}:{password}".encode()).decode()
            register_secret(basic)
            headers = {"Authorization": f"Basic {basic}"}
            body = {"account": account, "clientType": CLIENT_TYPE}
            return _grant(await post(ACCOUNT_AUTH_PATH, body, headers))

        return RenewingToken(PROVIDER, f"account {account} with its password ({where})", by_account)
    return FixedToken(PROVIDER, section.token_env, section.token_file)


class ControlTokens:
    """Conference-control tokens, fetched with the chair password and cached per conference."""

    def __init__(
        self, section: HuaweiSection, edge: HttpEdge, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.section = section
        self._edge = edge
        self._clock = clock
        self._cache: dict[str, tuple[str, float]] = {}  # conferenceID → (token, renew at)
        self.fetched = 0

    def _chair_password(self) -> str | None:
        try:
            return load_token(
                PROVIDER,
                self.section.chair_password_env,
                self.section.chair_password_file,
                what="chair password",
            )
        except MissingToken:
            return None

    async def token(self, conference_id: str) -> str:
        held = self._cache.get(conference_id)
        if held is not None and self._clock() < held[1]:
            return held[0]
        password = self._chair_password()
        if password is None:
            # A fixed control token (older configs) still works; else name what is missing.
            where = secret_source(self.section.chair_password_env, self.section.chair_password_file)
            try:
                return load_token(
                    PROVIDER,
                    self.section.conference_token_env,
                    self.section.conference_token_file,
                    what="conference control token",
                )
            except MissingToken:
                raise MissingToken(
                    PROVIDER, f"the chair password is missing; set {where}"
                ) from None
        reply = await self._edge.get(
            CONTROL_TOKEN_PATH,
            params={"conferenceID": conference_id},
            headers={"X-Password": password, "X-Login-Type": "1"},
        )
        if reply.status in (401, 403):
            detail = error_for(reply).message
            raise CloudRefused(
                PROVIDER,
                f"the chair password was refused for conference {conference_id}: {detail}",
                status=reply.status,
            )
        raise_for_status(reply)
        data = reply.body.get("data") if isinstance(reply.body, Mapping) else None
        token = data.get("token") if isinstance(data, Mapping) else None
        if not isinstance(token, str) or not token:
            raise CloudRefused(PROVIDER, "the control-token reply carried no token")
        register_secret(token)
        self._cache[conference_id] = (token, self._clock() + CONTROL_TOKEN_LIFETIME - 60)
        self.fetched += 1
        return token

    def invalidate(self, conference_id: str) -> None:
        self._cache.pop(conference_id, None)
