"""Access tokens for the clouds: a fixed one from the environment, or one that renews itself.

A box runs for months, vendor tokens for hours. A `RenewingToken` fetches its token on first
use, renews it before its validity ends, and once more when the vendor rejects it mid-run
(`call_with_token`). A failed renewal is remembered as a plain sentence (which credential,
what the vendor said) for the status page and the log, and is not retried in a tight loop:
the next attempt waits, doubling up to five minutes. Tokens are registered with the log
redactor the moment they arrive, so no log line can carry one.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol, TypeVar

import anyio

from roomagent.logsetup import kv, register_secret
from roomagent.scheduling.http import CloudAuthError, CloudError, load_token

log = logging.getLogger("roomagent.scheduling.tokens")
T = TypeVar("T")

RENEW_MARGIN_MAX = 300.0  # seconds before the end of validity a token is renewed
RETRY_FIRST, RETRY_MAX = 10.0, 300.0  # back-off after a failed renewal


class TokenRejected(CloudAuthError):
    """The vendor said the token is invalid or expired (HTTP 401 or its envelope)."""


@dataclass(frozen=True)
class Grant:
    token: str
    lifetime: float  # seconds from when it was obtained


class TokenSource(Protocol):
    async def token(self) -> str: ...

    def invalidate(self, token: str) -> bool:
        """Forget a rejected token; True when a new one can be fetched."""
        ...

    def status(self) -> dict[str, Any]: ...


class FixedToken:
    """A token from `env`/`file`, read once; it cannot be renewed (it expires within hours)."""

    def __init__(self, provider: str, env: str | None, file: Path | None, what: str = "token"):
        self.provider, self.env, self.file, self.what = provider, env, file, what
        self._value: str | None = None

    def load(self) -> str:
        """Read it now (a missing token is a setup error best reported at once)."""
        if self._value is None:
            self._value = load_token(self.provider, self.env, self.file, what=self.what)
        return self._value

    async def token(self) -> str:
        return self.load()

    def invalidate(self, token: str) -> bool:
        return False

    def status(self) -> dict[str, Any]:
        where = secret_source(self.env, self.file)
        return {"credential": f"fixed {self.what} ({where})", "renews": False, "last_error": None}


class RenewingToken:
    """A token fetched with `fetch`, cached, renewed before it runs out and on rejection."""

    def __init__(
        self,
        provider: str,
        credential: str,
        fetch: Callable[[], Awaitable[Grant]],
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.provider = provider
        self.credential = credential  # e.g. "Yunzhijia resource secret ($ROOMAGENT_YZJ_SECRET)"
        self._fetch = fetch
        self._clock = clock
        self._lock = anyio.Lock()
        self._token: str | None = None
        self._renew_at = 0.0
        self._valid_until: datetime | None = None
        self._retry_at = 0.0
        self._retry_wait = RETRY_FIRST
        self.renewals = 0
        self.last_error: str | None = None

    async def token(self) -> str:
        async with self._lock:
            now = self._clock()
            if self._token is not None and now < self._renew_at:
                return self._token
            if self.last_error is not None and now < self._retry_at:
                raise CloudAuthError(self.provider, self.last_error)
            try:
                grant = await self._fetch()
            except CloudError as exc:
                self._failed(exc.message)
                raise CloudAuthError(self.provider, self.last_error or exc.message) from None
            register_secret(grant.token)
            margin = min(RENEW_MARGIN_MAX, grant.lifetime / 5)
            self._token = grant.token
            self._renew_at = now + grant.lifetime - margin
            self._valid_until = datetime.now(UTC) + timedelta(seconds=grant.lifetime)
            self.renewals += 1
            if self.last_error is not None:
                log.info("token renewal recovered", extra=kv(credential=self.credential))
            self.last_error, self._retry_wait = None, RETRY_FIRST
            return grant.token

    def _failed(self, vendor_said: str) -> None:
        self.last_error = (
            f"renewing the access token with the {self.credential} failed: {vendor_said}"
        )
        log.warning("token renewal failed", extra=kv(credential=self.credential, error=vendor_said))
        self._token = None
        self._retry_at = self._clock() + self._retry_wait
        self._retry_wait = min(RETRY_MAX, self._retry_wait * 2)

    def invalidate(self, token: str) -> bool:
        if self._token == token:
            self._token = None
            log.info("access token rejected; renewing", extra=kv(credential=self.credential))
        return True

    def status(self) -> dict[str, Any]:
        until = self._valid_until.isoformat() if self._valid_until and self._token else None
        return {
            "credential": self.credential,
            "renews": True,
            "valid_until": until,
            "renewals": self.renewals,
            "last_error": self.last_error,
        }


async def call_with_token(source: TokenSource, call: Callable[[str], Awaitable[T]]) -> T:
    """`call(token)`; when the vendor rejects the token, renew it once and call again.
    (A rejected call did nothing on the vendor's side, so repeating a write is safe.)"""
    token = await source.token()
    try:
        return await call(token)
    except TokenRejected:
        if not source.invalidate(token):
            raise
    return await call(await source.token())


def secret_source(env: str | None, file: Path | None) -> str:
    """How a credential is named in messages: its file or variable, never its value."""
    return f"file {file}" if file else f"${env}"
