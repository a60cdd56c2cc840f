"""The shared HTTP edge every cloud connector goes through.

One place decides: timeouts on every request, retries with backoff only for idempotent reads
(a write that timed out may have happened, so it is never repeated), vendor envelopes turned
into `CloudError`s with plain sentences, vendor timestamps converted once to aware datetimes,
and no credential in a log line or an error message.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Self, TypeVar

import anyio
import httpx
from pydantic import BaseModel, ValidationError

from roomagent.config.secrets import SecretUnavailable, read_secret
from roomagent.logsetup import kv, redact

log = logging.getLogger("roomagent.scheduling.http")

DEFAULT_TIMEOUT = 10.0
DEFAULT_READ_RETRIES = 2  # a read is tried 1 + 2 times
DEFAULT_BACKOFF = 0.25  # seconds; doubles per attempt
RETRY_STATUSES = frozenset({500, 502, 503, 504})


class CloudError(Exception):
    """A scheduling-cloud failure; `str(err)` is one plain sentence without secrets."""

    def __init__(self, provider: str, message: str) -> None:
        self.provider = provider
        self.message = redact(" ".join(message.split()))
        super().__init__(f"{provider}: {self.message}")


class CloudUnreachable(CloudError):
    pass


class CloudTimeout(CloudError):
    pass


class CloudAuthError(CloudError):
    pass


class CloudRefused(CloudError):
    """The vendor answered with an error (envelope or HTTP status)."""

    def __init__(
        self, provider: str, message: str, code: str | int | None = None, status: int | None = None
    ) -> None:
        self.code = code
        self.status = status
        super().__init__(provider, message)


class CloudValidationError(CloudError):
    """A documented rule was broken; raised before anything is sent."""

    def __init__(self, provider: str, rules: list[str]) -> None:
        self.rules = rules
        super().__init__(provider, "; ".join(rules))


class MissingToken(CloudError):
    pass


def load_token(provider: str, env: str | None, file: Path | None, *, what: str = "token") -> str:
    """The credential from `file` or `env`; the error names where we looked, never a value."""
    try:
        value = read_secret(env, file, what=what)
    except SecretUnavailable as exc:
        # Reworded so no "…token: word" appears: the redactor would mask the reason.
        reason = str(exc).rsplit(": ", 1)[-1]
        raise MissingToken(provider, f"cannot read the {what} file {file} ({reason})") from None
    if not value:
        where = f"file {file}" if file else f"environment variable {env}"
        raise MissingToken(provider, f"the {what} is missing; set {where}")
    return value


# --- timestamps: converted here, once, so nothing past the edge sees epoch numbers ----------


def _epoch_number(value: Any, unit: str) -> float:
    if isinstance(value, bool):
        raise ValueError(f"expected a {unit} timestamp, got a boolean")
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return float(value.strip())  # numbers-as-strings are common in these APIs
    raise ValueError(f"expected a {unit} timestamp, got {value!r}")


def from_millis(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value
    return datetime.fromtimestamp(_epoch_number(value, "millisecond") / 1000, UTC)


def from_seconds(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value
    return datetime.fromtimestamp(_epoch_number(value, "second"), UTC)


def opt_millis(value: Any) -> datetime | None:
    """Optional millisecond fields: null, "" and 0 mean "not set"."""
    return None if value in (None, "", 0, "0") else from_millis(value)


def to_millis(moment: datetime) -> int:
    return int(_aware(moment).timestamp() * 1000)


def to_seconds(moment: datetime) -> int:
    return int(_aware(moment).timestamp())


def _aware(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("a timezone-aware datetime is required")
    return moment


# --- vendor envelopes ------------------------------------------------------------------------


def unwrap_success_envelope(provider: str, body: Any) -> Any:
    """Yunzhijia: `{success, errorCode, error, data}`; failure when success is false or
    errorCode is non-zero."""
    if not isinstance(body, Mapping):
        raise CloudRefused(provider, "the reply was not a JSON object")
    code = body.get("errorCode", 0)
    if body.get("success") is False or code not in (0, "0", None):
        text = body.get("error") or "request failed"
        raise CloudRefused(provider, f"{text} (errorCode {code})", code=code)
    return body.get("data")


def unwrap_status_envelope(provider: str, body: Any) -> Any:
    """Quanshi: `{status, result, …}`; status other than 0 is a failure."""
    if not isinstance(body, Mapping):
        raise CloudRefused(provider, "the reply was not a JSON object")
    status = body.get("status")
    if status not in (0, "0"):
        text = next(
            (body[k] for k in ("msg", "message", "errMsg", "error", "result") if body.get(k)),
            "request failed",
        )
        raise CloudRefused(provider, f"{text} (status {status})", code=status)
    return body.get("result")


@dataclass(frozen=True)
class Reply:
    status: int
    body: Any  # parsed JSON, or None for an empty body
    text: str


class _RedactArgs(logging.Filter):
    """httpx logs full URLs (with ?accessToken=) at INFO; mask them before any handler."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.args:
            args = record.args if isinstance(record.args, tuple) else (record.args,)
            record.args = tuple(redact(a) if isinstance(a, str) else _redact_obj(a) for a in args)
        record.msg = redact(str(record.msg))
        return True


def _redact_obj(value: object) -> object:
    return redact(str(value)) if isinstance(value, httpx.URL) else value


# Logger filters do not apply to child loggers, so each one that logs requests is listed.
for _name in ("httpx", "httpcore", "httpcore.http11", "httpcore.http2", "httpcore.connection"):
    _logger = logging.getLogger(_name)
    if not any(isinstance(f, _RedactArgs) for f in _logger.filters):
        _logger.addFilter(_RedactArgs())


class HttpEdge:
    """An httpx.AsyncClient for one provider with the project's request policy."""

    def __init__(
        self,
        provider: str,
        base_url: str,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        read_retries: int = DEFAULT_READ_RETRIES,
        backoff: float = DEFAULT_BACKOFF,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.provider = provider
        self.base_url = base_url.rstrip("/")
        self.read_retries = read_retries
        self.backoff = backoff
        self._client = httpx.AsyncClient(
            timeout=httpx.Timeout(timeout),
            headers={"Accept": "application/json", **(headers or {})},
            follow_redirects=False,
        )

    async def __aenter__(self) -> HttpEdge:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._client.aclose()

    async def post(
        self,
        path: str,
        body: Any,
        *,
        idempotent: bool,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Reply:
        """POST JSON; retried (with backoff) only when `idempotent` and the failure is transient."""
        return await self.request("POST", path, body, idempotent, params, headers)

    async def get(
        self,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Reply:
        """GET (a read: retried on transient failures)."""
        return await self.request("GET", path, None, True, params, headers)

    async def request(
        self,
        method: str,
        path: str,
        body: Any,
        idempotent: bool,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Reply:
        url = f"{self.base_url}/{path.lstrip('/')}" if path else self.base_url
        content = {} if body is None else {"json": body}
        attempts = 1 + (self.read_retries if idempotent else 0)
        for attempt in range(1, attempts + 1):
            last = attempt == attempts
            started = time.perf_counter()
            try:
                response = await self._client.request(
                    method, url, params=dict(params or {}), headers=dict(headers or {}), **content
                )
            except httpx.TimeoutException:
                self._log(path, attempt, "timeout", started)
                if last:
                    what = "did not answer in time"
                    if not idempotent:
                        what += "; the change may or may not have been made, check before retrying"
                    raise CloudTimeout(self.provider, f"{path or 'request'}: {what}") from None
            except httpx.HTTPError as exc:
                self._log(path, attempt, "unreachable", started)
                if last:
                    reason = type(exc).__name__
                    raise CloudUnreachable(
                        self.provider, f"cannot reach {self._host()}: {reason}"
                    ) from None
            else:
                self._log(path, attempt, str(response.status_code), started)
                if response.status_code in RETRY_STATUSES and not last:
                    pass  # transient server error on a read: try again
                else:
                    return Reply(response.status_code, _json(response), response.text)
            await anyio.sleep(self.backoff * 2 ** (attempt - 1))
        raise AssertionError("unreachable")  # the loop always returns or raises

    def _host(self) -> str:
        return httpx.URL(self.base_url).host or self.base_url

    def _log(self, path: str, attempt: int, outcome: str, started: float) -> None:
        # The path only: query strings can carry tokens.
        elapsed_ms = round((time.perf_counter() - started) * 1000, 1)
        log.debug(
            "cloud request",
            extra=kv(
                provider=self.provider, path=path, attempt=attempt, outcome=outcome, ms=elapsed_ms
            ),
        )


class EdgeClient:
    """A provider's client: owns one HttpEdge for its requests and closes it on exit."""

    def __init__(self, provider: str, base_url: str, timeout: float) -> None:
        self._edge = HttpEdge(provider, base_url, timeout=timeout)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._edge.aclose()


def _json(response: httpx.Response) -> Any:
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        return None


def http_status_error(provider: str, reply: Reply) -> CloudError | None:
    """A CloudError for a non-2xx reply whose body is not a vendor envelope, else None."""
    if 200 <= reply.status < 300:
        return None
    detail = _snippet(reply)
    if reply.status in (401, 403):
        meaning = "authentication failed" if reply.status == 401 else "permission denied"
        return CloudAuthError(provider, f"{meaning} (HTTP {reply.status}){detail}")
    return CloudRefused(provider, f"HTTP {reply.status}{detail}", status=reply.status)


def _snippet(reply: Reply) -> str:
    body = reply.body
    if isinstance(body, Mapping):
        for key in ("error", "error_msg", "message", "msg", "reasonDesc"):
            if body.get(key):
                return f": {str(body[key])[:200]}"
        return ""
    text = reply.text.strip()
    return f": {text[:200]}" if text and "<" not in text[:1] else ""


ModelT = TypeVar("ModelT", bound=BaseModel)


def parse_reply(provider: str, model: type[ModelT], data: Any) -> ModelT:
    """Validate a vendor payload; a mismatch is a CloudError naming the field, not a traceback."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "top level"
        raise CloudError(provider, f"unexpected reply at {where}: {first['msg']}") from None
