"""Who may use the diagnostics page and the API: Basic credentials, session tokens, Origin.

- Passwords are checked against a plain value (from env/file) or a
  `pbkdf2_sha256$ITER$SALT$HASH` hash from the config (`roomagent hash-password`).
- Password checks are limited per client address (LoginLimiter) so the password cannot be
  guessed and a race of guesses cannot pin the CPUs; staff already in are never locked out.
- Browsers do not reliably send Basic credentials on a WebSocket handshake, so the
  authenticated page asks `GET /session` for a short-lived token set as an HttpOnly cookie.
- A WebSocket from a page of another site is refused by its Origin header.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import math
import secrets
import time
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from roomagent.logsetup import register_secret

HASH_SCHEME = "pbkdf2_sha256"
# OWASP's 2023 figure for PBKDF2-HMAC-SHA256; verification runs once per client thanks to
# the success cache below, so the cost only hits guessers.
DEFAULT_ITERATIONS = 600_000
MIN_ITERATIONS = 1_000

# [assumption] 5 wrong passwords per minute per address; after that one check per 5 s (a
# guesser gets ~12 a minute against a 600k-iteration hash; staff wait at most 5 s).
MAX_FAILURES = 5
FAILURE_WINDOW_S = 60.0
LOCKED_CHECK_INTERVAL_S = 5.0
MAX_CHECKS_AT_ONCE = 2  # per address: a race of 100 guesses costs 2 PBKDF2 runs, not 100
MAX_CHECKS_TOTAL = 3  # over all addresses (the server runs one at a time: a CPU stays free)
# A login once accepted is remembered (a keyed digest) while it is in use, so staff already
# logged in never wait for PBKDF2 or the limiter.
REMEMBER_LOGIN_S = 8 * 3600.0
# A page token lets the browser open (or re-open) the API socket; the socket, once open,
# lives on. The page fetches a fresh token before each reconnect.
SESSION_TTL_S = 600.0
SESSION_COOKIE = "roomagent_session"
_MAX_TRACKED = 10_000  # bound memory under a flood of addresses / tokens


class WebAuthError(Exception):
    """The server cannot start with this authentication configuration."""


def hash_password(password: str, *, iterations: int = DEFAULT_ITERATIONS, salt: str = "") -> str:
    """`pbkdf2_sha256$ITER$SALT$HASH` with a random salt and the hash in base64."""
    salt = salt or secrets.token_hex(16)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt.encode(), iterations)
    return f"{HASH_SCHEME}${iterations}${salt}${base64.b64encode(digest).decode()}"


def check_hash_format(encoded: str) -> tuple[int, str, bytes]:
    """Split a stored hash; raise WebAuthError saying what is wrong (never echoing it)."""
    parts = encoded.split("$")
    if len(parts) != 4 or parts[0] != HASH_SCHEME:
        raise WebAuthError(
            f"web.password_hash must look like {HASH_SCHEME}$ITERATIONS$SALT$HASH "
            "(make one with `roomagent hash-password`)"
        )
    _, iterations, salt, digest = parts
    try:
        count = int(iterations)
        raw = base64.b64decode(digest, validate=True)
    except (ValueError, binascii.Error):
        raise WebAuthError(
            "web.password_hash: iterations must be a number and the hash base64"
        ) from None
    if count < MIN_ITERATIONS or not salt or len(raw) != 32:
        raise WebAuthError(
            f"web.password_hash: needs at least {MIN_ITERATIONS} iterations, a salt and a "
            "32-byte hash"
        )
    return count, salt, raw


def verify_password(password: str, encoded: str) -> bool:
    iterations, salt, expected = check_hash_format(encoded)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt.encode(), iterations)
    return hmac.compare_digest(digest, expected)


@dataclass
class Credentials:
    """The one user allowed in, with a plain password or a stored hash."""

    user: str
    password: str | None = field(default=None, repr=False)
    password_hash: str | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if not self.password and not self.password_hash:
            raise WebAuthError(
                "no password for the diagnostics page: set web.password_hash (see "
                "`roomagent hash-password`), web.password_file, or the environment variable "
                "named by web.password_env; or set web.enabled = false"
            )
        if self.password_hash:
            check_hash_format(self.password_hash)
        register_secret(self.password)
        # Successful checks are remembered under a keyed digest so each page asset does not
        # pay for PBKDF2 again, and no plain password sits in memory longer than needed.
        self._cache_key = secrets.token_bytes(32)
        self._accepted: dict[bytes, float] = {}

    def _cache_id(self, user: str, password: str) -> bytes:
        return hmac.new(self._cache_key, f"{user}\0{password}".encode(), "sha256").digest()

    def is_cached(self, user: str, password: str) -> bool:
        key = self._cache_id(user, password)
        expiry = self._accepted.get(key)
        now = time.monotonic()
        if expiry is None or expiry <= now:
            return False
        self._accepted[key] = now + REMEMBER_LOGIN_S  # kept while in use
        return True

    def check(self, user: str, password: str) -> bool:
        """Slow for hashes (PBKDF2): call it off the event loop."""
        user_ok = hmac.compare_digest(user.encode(), self.user.encode())
        if self.password_hash:
            pw_ok = verify_password(password, self.password_hash)
        else:
            pw_ok = hmac.compare_digest(password.encode(), (self.password or "").encode())
        if user_ok and pw_ok:
            if len(self._accepted) >= _MAX_TRACKED:
                self._accepted.clear()
            self._accepted[self._cache_id(user, password)] = time.monotonic() + REMEMBER_LOGIN_S
        return user_ok and pw_ok


def parse_basic(header: str | None) -> tuple[str, str] | None:
    """`Authorization: Basic …` → (user, password), or None when absent or malformed."""
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    user, sep, password = decoded.partition(":")
    return (user, password) if sep else None


class LoginLimiter:
    """Password checks per client address: counted before they run, a few at once, a
    handful per window, then one now and then.

    An attempt counts as a failure from the moment it starts (a race of 100 guesses cannot
    slip past the count while PBKDF2 runs); at most `at_once` run together per address and
    `total` overall, the rest get 429 at once. After `max_failures` in `window`, the address
    still gets one check every `locked_interval` seconds: a guesser stays slow, and the
    right password gets in within that time even while an attacker shares the address (a
    valid cookie or a remembered login does not wait at all, see WebServer).
    """

    def __init__(
        self,
        max_failures: int = MAX_FAILURES,
        window: float = FAILURE_WINDOW_S,
        *,
        at_once: int = MAX_CHECKS_AT_ONCE,
        total: int = MAX_CHECKS_TOTAL,
        locked_interval: float = LOCKED_CHECK_INTERVAL_S,
    ) -> None:
        self.max_failures = max_failures
        self.window = window
        self.at_once = at_once
        self.total = total
        self.locked_interval = locked_interval
        self._failures: dict[str, deque[float]] = {}
        self._checking: dict[str, int] = {}
        self.checks = 0  # password checks started, ever (for tests and metrics)

    def _recent(self, address: str, now: float) -> deque[float]:
        times = self._failures.get(address, deque())
        while times and times[0] <= now - self.window:
            times.popleft()
        return times

    def retry_after(self, address: str) -> int | None:
        """Seconds until this address may have a password checked, or None if now."""
        now = time.monotonic()
        if self._checking.get(address, 0) >= self.at_once:
            return 1
        if sum(self._checking.values()) >= self.total:
            return 1
        times = self._recent(address, now)
        if len(times) < self.max_failures:
            return None
        wait = times[-1] + self.locked_interval - now
        return None if wait <= 0 else max(1, math.ceil(wait))

    def begin(self, address: str) -> int | None:
        """Reserve a check: None (check now, then call `end`) or seconds to wait (429)."""
        wait = self.retry_after(address)
        if wait is not None:
            return wait
        now = time.monotonic()
        if address not in self._failures and len(self._failures) >= _MAX_TRACKED:
            self._prune(now)
        times = self._recent(address, now)
        times.append(now)  # a failure until it proves otherwise
        self._failures[address] = times
        self._checking[address] = self._checking.get(address, 0) + 1
        self.checks += 1
        return None

    def end(self, address: str, accepted: bool) -> None:
        left = self._checking.get(address, 1) - 1
        if left > 0:
            self._checking[address] = left
        else:
            self._checking.pop(address, None)
        times = self._failures.get(address)
        if accepted and times:
            # Only this attempt is taken back: staff logging in from a shared address does
            # not wipe the attacker's failures (which would give them a fresh budget).
            times.pop()

    def _prune(self, now: float) -> None:
        for address in list(self._failures):
            if not self._recent(address, now) and address not in self._checking:
                del self._failures[address]


class SessionTokens:
    """Random short-lived tokens that let the authenticated page open the API socket."""

    def __init__(self, ttl: float = SESSION_TTL_S, *, secure: bool = False) -> None:
        self.ttl = ttl
        self.secure = secure  # served over TLS: the cookie never travels in plain HTTP
        self._expiry: dict[str, float] = {}

    def issue(self) -> str:
        now = time.monotonic()
        if len(self._expiry) >= _MAX_TRACKED:
            self._expiry = {t: e for t, e in self._expiry.items() if e > now}
        token = secrets.token_urlsafe(32)
        self._expiry[token] = now + self.ttl
        return token

    def valid(self, token: str | None) -> bool:
        if not token:
            return False
        expiry = self._expiry.get(token)
        if expiry is None:
            return False
        if expiry <= time.monotonic():
            del self._expiry[token]
            return False
        return True

    def cookie(self, token: str) -> str:
        # Path=/api: only the socket handshake carries it; Strict: never sent cross-site.
        return (
            f"{SESSION_COOKIE}={token}; Path=/api; HttpOnly; SameSite=Strict; "
            f"Max-Age={int(self.ttl)}" + ("; Secure" if self.secure else "")
        )


def cookie_token(header: str | None) -> str | None:
    if not header:
        return None
    # Imported by the first request with a cookie: an idle box serves none (~0.2 MiB).
    from http.cookies import CookieError, SimpleCookie

    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(header)
    except CookieError:
        return None
    morsel = jar.get(SESSION_COOKIE)
    return morsel.value if morsel else None


def origin_allowed(
    origin: str | None, host: str | None, allowed: Iterable[str], scheme: str | None = None
) -> bool:
    """No Origin (a script, curl) is fine; a browser's Origin must be this page or listed.
    `scheme` ("https" behind TLS) is the one this page is served with."""
    if origin is None:
        return True
    normalised = origin.rstrip("/").lower()
    if any(normalised == entry.rstrip("/").lower() for entry in allowed):
        return True
    parts = urlsplit(normalised)
    schemes = (scheme,) if scheme else ("http", "https")
    return parts.scheme in schemes and parts.netloc == (host or "").lower() != ""
