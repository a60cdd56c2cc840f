"""Yunzhijia's OAuth2 access token: fetched with the workspace secret and renewed.

`POST {base}/gateway/oauth2/token/getAccessToken`, JSON `{eid, secret, timestamp (ms), scope}`
(scope "resGroupSecret" with the resource secret, or "app"/"team" with `appId` as well); the
reply's envelope carries `data: {accessToken, expireIn (s), refreshToken}`. We fetch a new
token rather than use refreshToken: the secret stays configured anyway, and one path is
easier to trust than two.
"""

from __future__ import annotations

import time
from typing import Any

from roomagent.config.model import YunzhijiaSection
from roomagent.scheduling.http import (
    CloudRefused,
    HttpEdge,
    Reply,
    http_status_error,
    load_token,
    unwrap_success_envelope,
)
from roomagent.scheduling.tokens import (
    FixedToken,
    Grant,
    RenewingToken,
    TokenRejected,
    TokenSource,
    secret_source,
)

PROVIDER = "Yunzhijia"
TOKEN_PATH = "gateway/oauth2/token/getAccessToken"
DEFAULT_LIFETIME = 7200  # seconds, when the reply gives no expireIn
# [assumption] The seeds give no error code for a stale token; the vendor's envelopes word it
# as "accessToken无效/已过期/失效" or "token invalid/expired", so the words are matched.
_TOKEN_WORDS = ("token",)
_STALE_WORDS = ("无效", "过期", "失效", "invalid", "expired", "expire")


def is_token_rejection(reply: Reply) -> bool:
    """HTTP 401, or an envelope whose error says the token is invalid or expired."""
    if reply.status == 401:
        return True
    body = reply.body
    if not isinstance(body, dict) or body.get("success") is not False:
        return False
    text = str(body.get("error") or "").lower()
    return any(w in text for w in _TOKEN_WORDS) and any(w in text for w in _STALE_WORDS)


def unwrap(reply: Reply) -> Any:
    """The envelope's data; a token rejection is `TokenRejected` so the caller renews once."""
    if is_token_rejection(reply):
        said = (reply.body or {}).get("error") if isinstance(reply.body, dict) else None
        raise TokenRejected(PROVIDER, f"the access token was rejected ({said or 'HTTP 401'})")
    if isinstance(reply.body, dict) and ("success" in reply.body or "errorCode" in reply.body):
        return unwrap_success_envelope(PROVIDER, reply.body)
    error = http_status_error(PROVIDER, reply)
    if error is not None:
        raise error
    raise CloudRefused(PROVIDER, f"unexpected reply (HTTP {reply.status}, no envelope)")


def token_source(section: YunzhijiaSection) -> TokenSource:
    """Renewing when a secret is configured (`secret_env`/`secret_file`), else the fixed
    token of `token_env`/`token_file`. Shared by a provider's clients (one cache, one
    back-off); each fetch uses its own short-lived connection."""
    if not section.renews_token:
        return FixedToken(PROVIDER, section.token_env, section.token_file)
    where = secret_source(section.secret_env, section.secret_file)
    what = "resource secret" if section.scope == "resGroupSecret" else "app secret"

    async def fetch() -> Grant:
        secret = load_token(PROVIDER, section.secret_env, section.secret_file, what=what)
        body: dict[str, Any] = {
            "eid": section.eid,
            "secret": secret,
            "timestamp": int(time.time() * 1000),
            "scope": section.scope,
        }
        if section.app_id:
            body["appId"] = section.app_id
        # Asking for a token twice is harmless, so transient failures are retried.
        async with HttpEdge(PROVIDER, section.base_url, timeout=section.timeout) as edge:
            reply = await edge.post(TOKEN_PATH, body, idempotent=True)
        if reply.status == 401:
            raise CloudRefused(PROVIDER, "the secret was refused (HTTP 401)", status=401)
        data = unwrap(reply)
        token = data.get("accessToken") if isinstance(data, dict) else None
        if not isinstance(token, str) or not token:
            raise CloudRefused(PROVIDER, "getAccessToken returned no accessToken")
        expire = data.get("expireIn")
        lifetime = float(expire) if isinstance(expire, int | float) and expire > 0 else None
        return Grant(token, lifetime or DEFAULT_LIFETIME)

    return RenewingToken(PROVIDER, f"Yunzhijia {what} ({where})", fetch)
