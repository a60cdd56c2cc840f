"""The pieces of the page's security: hashes, Basic parsing, the limiter, tokens, Origin."""

from __future__ import annotations

import base64

import pytest

from roomagent.web.auth import (
    Credentials,
    LoginLimiter,
    SessionTokens,
    WebAuthError,
    cookie_token,
    hash_password,
    origin_allowed,
    parse_basic,
    verify_password,
)


def test_hash_round_trip_and_format() -> None:
    stored = hash_password("pässword 1", iterations=1_000)
    scheme, iterations, salt, digest = stored.split("$")
    assert (scheme, iterations) == ("pbkdf2_sha256", "1000")
    assert len(salt) == 32 and len(base64.b64decode(digest)) == 32
    assert verify_password("pässword 1", stored)
    assert not verify_password("pässword 2", stored)
    assert hash_password("x" * 8, iterations=1_000) != hash_password("x" * 8, iterations=1_000)


@pytest.mark.parametrize(
    "bad",
    ["plain", "pbkdf2_sha256$10$salt$AAAA", "md5$1000$s$h", "pbkdf2_sha256$many$s$h"],
)
def test_bad_hashes_are_refused_without_echoing_them(bad: str) -> None:
    with pytest.raises(WebAuthError) as refused:
        Credentials("admin", None, bad)
    assert bad not in str(refused.value)


def test_credentials_check_user_and_password_and_hide_them() -> None:
    creds = Credentials("admin", "open sesame")
    assert creds.check("admin", "open sesame") and creds.is_cached("admin", "open sesame")
    assert not creds.check("Admin", "open sesame")
    assert not creds.is_cached("admin", "open sesam")
    assert "open sesame" not in repr(creds)


def test_parse_basic() -> None:
    good = "Basic " + base64.b64encode(b"admin:pa:ss").decode()
    assert parse_basic(good) == ("admin", "pa:ss")
    for bad in (None, "", "Bearer abc", "Basic !!!", "Basic " + base64.b64encode(b"x").decode()):
        assert parse_basic(bad) is None


def test_limiter_blocks_after_five_failures_per_address() -> None:
    limiter = LoginLimiter(max_failures=5, window=60, locked_interval=5)
    for _ in range(5):
        assert limiter.begin("10.0.0.9") is None
        limiter.end("10.0.0.9", accepted=False)
    assert 1 <= (limiter.begin("10.0.0.9") or 0) <= 5  # locked: the next check waits
    assert limiter.begin("10.0.0.10") is None  # per address
    limiter.end("10.0.0.10", accepted=False)
    assert limiter.checks == 6


def test_limiter_counts_an_attempt_before_it_is_checked() -> None:
    limiter = LoginLimiter(max_failures=5, window=60, at_once=2)
    assert limiter.begin("10.0.0.9") is None
    assert limiter.begin("10.0.0.9") is None
    assert limiter.begin("10.0.0.9") == 1  # two checks running: the third is refused now
    limiter.end("10.0.0.9", accepted=False)
    assert limiter.begin("10.0.0.9") is None
    assert limiter.checks == 3


def test_limiter_success_takes_back_only_its_own_attempt() -> None:
    limiter = LoginLimiter(max_failures=2, window=60, locked_interval=60)
    assert limiter.begin("10.0.0.9") is None
    limiter.end("10.0.0.9", accepted=False)
    assert limiter.begin("10.0.0.9") is None
    limiter.end("10.0.0.9", accepted=True)  # staff in: the attacker's failure stays
    assert limiter.begin("10.0.0.9") is None
    limiter.end("10.0.0.9", accepted=False)
    assert limiter.begin("10.0.0.9") is not None


def test_limiter_bounds_checks_over_all_addresses() -> None:
    limiter = LoginLimiter(total=2)
    assert limiter.begin("10.0.0.1") is None
    assert limiter.begin("10.0.0.2") is None
    assert limiter.begin("10.0.0.3") == 1


def test_limiter_forgets_old_failures() -> None:
    limiter = LoginLimiter(max_failures=1, window=0.0)
    assert limiter.begin("10.0.0.9") is None
    limiter.end("10.0.0.9", accepted=False)
    assert limiter.retry_after("10.0.0.9") is None


def test_session_tokens_expire_and_are_random() -> None:
    tokens = SessionTokens(ttl=600)
    first, second = tokens.issue(), tokens.issue()
    assert first != second and len(first) >= 40
    assert tokens.valid(first) and not tokens.valid("guess") and not tokens.valid(None)
    assert cookie_token(f"a=1; roomagent_session={first}; b=2") == first
    assert cookie_token("garbage;;==") is None
    expired = SessionTokens(ttl=0)
    assert not expired.valid(expired.issue())


@pytest.mark.parametrize(
    ("origin", "host", "allowed"),
    [
        (None, "box:8080", True),  # not a browser
        ("http://box:8080", "box:8080", True),
        ("http://BOX:8080/", "box:8080", True),
        ("http://box:8081", "box:8080", False),
        ("http://evil.example", "box:8080", False),
        ("null", "box:8080", False),
        ("http://box:8080", None, False),
        ("https://noc.example.org", "box:8080", True),  # listed
    ],
)
def test_origin(origin: str | None, host: str | None, allowed: bool) -> None:
    assert origin_allowed(origin, host, ["https://noc.example.org"]) is allowed
