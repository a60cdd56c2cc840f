"""The agent's one small web server, on websockets' own HTTP handling (no web framework).

    GET /          the diagnostics page (static files shipped in the package; works offline)
    GET /static/…  its script and style sheet
    GET /session   a short-lived token cookie that lets the page open the API socket
    GET /api       WebSocket upgrade: JSON-RPC 2.0 (roomagent.web.api)
    GET /metrics   Prometheus text
    GET /healthz   "ok" — the only path without credentials
    GET /tls       the certificate's fingerprint and expiry (the page footer shows them)

Every other path needs HTTP Basic credentials; failed logins are rate limited per address;
a request carrying a foreign Origin is refused with 403. With TLS (roomagent.web.tls) every
path is HTTPS only: plain HTTP to the port is redirected, the cookie is Secure and HSTS sent.
"""

from __future__ import annotations

import http
import importlib
import ipaddress
import json
import logging
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial
from importlib import resources
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import anyio
import anyio.abc
from websockets.asyncio.server import ServerConnection, serve
from websockets.datastructures import Headers, MultipleValuesError
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from roomagent import __version__
from roomagent.config.model import WebSection
from roomagent.control.model import RoomStatus
from roomagent.logsetup import kv, redact, scrub
from roomagent.web import metrics
from roomagent.web.auth import (
    Credentials,
    LoginLimiter,
    SessionTokens,
    cookie_token,
    origin_allowed,
    parse_basic,
)
from roomagent.web.facade import AgentFacade
from roomagent.web.https import SniffingConnection, Waiting
from roomagent.web.tls_settings import TlsConfigError, lan_address
from roomagent.web.updates import UpdateHub

if TYPE_CHECKING:  # the certificate machinery is imported only when TLS is on
    from roomagent.web.tls import ServerTls

log = logging.getLogger(__name__)

API_PATH = "/api"
MAX_FRAME = 256 * 1024  # a JSON-RPC request is small; anything bigger is not for us
# Concurrent calls per socket (a join can take seconds); a batch's count. At least
# api.MAX_BATCH, so that a batch within the cap always fits (tests/web/test_server.py).
MAX_IN_FLIGHT = 16
STATIC_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
}
_SAFE_HOST = re.compile(r"^[A-Za-z0-9.\-\[\]:]{1,255}$")
# [assumption] half a year: long enough to matter, short enough that a box moved back to
# plain HTTP (tls = "off") is reachable again within a season.
HSTS = "max-age=15552000"
# Headers that decide who a request is: more than one of each is a malformed request, never
# a guess at which one counts.
_SINGLE_HEADERS = ("Authorization", "Cookie", "Origin", "Host", "Upgrade")


# The API (jsonrpcserver with jsonschema, and the methods' pydantic validators: ~5 MiB) and
# the metrics families (prometheus_client with http.server: ~1 MiB) are imported by their
# first use, not at start: a room box nobody looks at never carries them. Imported in a
# worker thread, so the event loop keeps serving presses while they load (~0.1 s).
_LOADED: set[str] = set()


async def load_on_first_use(module: str) -> None:
    if module not in _LOADED:
        await anyio.to_thread.run_sync(importlib.import_module, module)
        _LOADED.add(module)


class BadRequest(Exception):
    """A request malformed in a way that is the client's fault: 400, not 500."""


def _single(request: Request, name: str) -> str | None:
    try:
        return request.headers.get(name)
    except MultipleValuesError:
        raise BadRequest(f"more than one {name} header") from None


def load_assets(package: str = "roomagent.web") -> dict[str, tuple[bytes, str]]:
    """Every static file shipped in `package`/static by URL path; nothing else on disk is
    ever served. (The fleet page serves its own package's files through this too.)"""
    assets: dict[str, tuple[bytes, str]] = {}
    folder = resources.files(package) / "static"
    for entry in folder.iterdir():
        suffix = "." + entry.name.rsplit(".", 1)[-1] if "." in entry.name else ""
        if entry.is_file() and suffix in STATIC_TYPES:
            assets[f"/static/{entry.name}"] = (entry.read_bytes(), STATIC_TYPES[suffix])
    if "/static/index.html" in assets:
        assets["/"] = assets["/index.html"] = assets.pop("/static/index.html")
    return assets


class WebServer:
    """Page + API + metrics for one agent. `await tg.start(server.run)` returns the port."""

    def __init__(
        self,
        agent: AgentFacade,
        web_config: WebSection,
        password: str | None,
        password_hash: str | None,
        *,
        limiter: LoginLimiter | None = None,
        tokens: SessionTokens | None = None,
        tls: ServerTls | None = None,
    ) -> None:
        self.agent = agent
        self.config = web_config
        # Raises WebAuthError with a clear message when no password is configured.
        self.credentials = Credentials(web_config.user, password, password_hash)
        self.limiter = limiter or LoginLimiter()
        self.tokens = tokens or SessionTokens(secure=tls is not None)
        self.tls = tls
        self._waiting = Waiting()  # TLS: connections whose first byte has not come yet
        self._checking = anyio.CapacityLimiter(1)  # PBKDF2 runs one at a time: a CPU stays free
        self.counters = metrics.ServerCounters()
        self.hub = UpdateHub(self.agent)
        self.assets = load_assets()
        self.port: int | None = None
        self._sockets: set[anyio.CancelScope] = set()  # one per open API socket

    @property
    def host(self) -> str:
        listen = self.config.listen
        if listen in ("", "0.0.0.0", "::"):
            return lan_address() or "127.0.0.1"
        try:
            if ipaddress.ip_address(listen).version == 6:
                return f"[{listen}]"
        except ValueError:
            pass
        return listen

    @property
    def url(self) -> str:
        if self.port is None:
            raise RuntimeError("the web server is not listening yet")
        return f"{self.scheme}://{self.host}:{self.port}/"

    @property
    def scheme(self) -> str:
        return "https" if self.tls is not None else "http"

    def reload_tls(self) -> str:
        """SIGHUP: read the certificate files again; a bad pair keeps the current one."""
        if self.tls is None or self.tls.mode != "files":
            return "no certificate files to reload"
        try:
            changed = self.tls.reload()
        except TlsConfigError as exc:
            log.error("certificate reload refused; keeping the current one: %s", exc)
            return f"certificate kept: {exc}"
        return "certificate reloaded" if changed else "certificate unchanged"

    def tls_summary(self) -> dict[str, Any]:
        """Scheme, fingerprint, expiry, warning — for the page footer and for mDNS."""
        return self.tls.summary() if self.tls is not None else {"scheme": "http"}

    async def run(
        self, *, task_status: anyio.abc.TaskStatus[int] = anyio.TASK_STATUS_IGNORED
    ) -> None:
        """Serve until cancelled; reports the bound port to `task_status` (port 0 works)."""
        extra: dict[str, Any] = {}
        if self.tls is not None:
            extra["create_connection"] = partial(
                SniffingConnection, tls=self.tls, waiting=self._waiting
            )
        async with serve(
            self._connection,
            self.config.listen or None,
            self.config.port,
            process_request=self._process_request,
            process_response=self._process_response,
            server_header=f"roomagent/{__version__}",
            max_size=MAX_FRAME,
            ping_interval=20,
            ping_timeout=20,
            close_timeout=2,  # shutdown must not wait long for a silent client
            **extra,
        ) as server:
            self.port = int(next(iter(server.sockets)).getsockname()[1])
            unwatch = self.hub.start()
            log.info("diagnostics page listening", extra=kv(url=self.url))
            if self.tls is not None:
                self.tls.log_start()
            task_status.started(self.port)
            try:
                await anyio.sleep_forever()
            finally:
                unwatch()
                # Requests still running (a join waits for its outcome) end with the agent.
                for scope in list(self._sockets):
                    scope.cancel()
                self._waiting.drop_all()
                server.close(close_connections=True)

    @asynccontextmanager
    async def running(self) -> AsyncIterator[WebServer]:
        """`async with server.running():` — listening inside the block, stopped after it."""
        async with anyio.create_task_group() as tg:
            await tg.start(self.run)
            try:
                yield self
            finally:
                tg.cancel_scope.cancel()

    # -- HTTP ------------------------------------------------------------------------------

    def _respond(
        self,
        status: int,
        body: bytes | str,
        content_type: str = "text/plain; charset=utf-8",
        extra: dict[str, str] | None = None,
    ) -> Response:
        data = body.encode() if isinstance(body, str) else body
        headers = Headers(
            [
                ("Content-Type", content_type),
                ("Content-Length", str(len(data))),
                ("Connection", "close"),
            ]
        )
        for key, value in (extra or {}).items():
            headers[key] = value
        return Response(status, http.HTTPStatus(status).phrase, headers, data)

    def _security_headers(self, response: Response, host: str | None) -> None:
        ws_scheme = "wss" if self.tls is not None else "ws"
        ws_origin = f" {ws_scheme}://{host}" if host and _SAFE_HOST.match(host) else ""
        response.headers["Content-Security-Policy"] = (
            f"default-src 'self'; connect-src 'self'{ws_origin}; img-src 'self' data:; "
            "frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
        )
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        if "Cache-Control" not in response.headers:
            response.headers["Cache-Control"] = "no-store"
        if self.tls is not None and "Location" not in response.headers:
            response.headers["Strict-Transport-Security"] = HSTS

    def _process_response(
        self, connection: ServerConnection, request: Request, response: Response
    ) -> None:
        # Also covers websockets' own refusals (426, 400): every response gets the headers.
        if response.status_code != 101:
            host = None if len(request.headers.get_all("Host")) != 1 else request.headers["Host"]
            self._security_headers(response, host)

    async def _process_request(
        self, connection: ServerConnection, request: Request
    ) -> Response | None:
        self.counters.http_requests += 1
        try:
            for name in _SINGLE_HEADERS:
                _single(request, name)
            return await self._route(connection, request)
        except BadRequest as exc:
            # Anyone can send these: answered and counted, at debug (no log flood).
            self.counters.bad_requests += 1
            log.debug("bad web request", extra=kv(reason=str(exc)))
            return self._respond(400, f"Bad request: {exc}.\n")
        except Exception:
            log.error("web request failed", exc_info=True)
            return self._respond(500, "Internal error; see the agent's log.\n")

    async def _route(self, connection: ServerConnection, request: Request) -> Response | None:
        path = urlsplit(request.path).path
        if getattr(connection, "plain_http", False):
            return self._to_https(request)
        if request.method != "GET":  # everything here is read-only; actions go over /api
            return self._respond(405, "Only GET is served here.\n", extra={"Allow": "GET"})
        if path == "/healthz":
            return self._respond(200, "ok\n")
        address = str(connection.remote_address[0]) if connection.remote_address else "?"
        origin = request.headers.get("Origin")
        host = request.headers.get("Host")
        # Plain HTTP may sit behind a TLS proxy (an https Origin); TLS here means https only.
        scheme = "https" if self.tls is not None else None
        try:
            allowed = origin_allowed(origin, host, self.config.allowed_origins, scheme)
        except ValueError:  # urlsplit: "http://[" and other broken URLs
            raise BadRequest("the Origin header is not a URL") from None
        if not allowed:
            self.counters.origin_refused += 1
            log.warning("foreign origin refused", extra=kv(client=address, origin=origin))
            return self._respond(403, "Forbidden: pages from this origin may not use the agent.\n")
        refusal = await self._authenticate(request, address, path == API_PATH)
        if refusal is not None:
            return refusal
        if path == API_PATH:
            return None  # the WebSocket handshake proceeds
        if path == "/session":
            token = self.tokens.issue()
            body = json.dumps({"expires_in": int(self.tokens.ttl), "user": self.config.user})
            return self._respond(
                200, body, "application/json", {"Set-Cookie": self.tokens.cookie(token)}
            )
        if path == "/tls":
            return self._respond(200, json.dumps(self.tls_summary()), "application/json")
        if path == "/metrics":
            await load_on_first_use("roomagent.web.metrics_families")
            text = metrics.render(self._status_for_metrics(), self._counters())
            return self._respond(200, text, metrics.CONTENT_TYPE)
        asset = self.assets.get(path)
        if asset is not None:
            return self._respond(200, asset[0], asset[1])
        return self._respond(404, "Not found.\n")

    def _to_https(self, request: Request) -> Response:
        """Plain HTTP on the TLS port: a redirect for a browser's GET, a refusal otherwise;
        never the page, and nothing that needs (or checks) the credentials."""
        extra = self.counters.extra
        extra["plain_http_refused"] = extra.get("plain_http_refused", 0) + 1
        host = request.headers.get("Host") or ""
        if not _SAFE_HOST.match(host):
            host = f"{self.host}:{self.port}"
        target = f"https://{host}{request.path if request.path.startswith('/') else '/'}"
        text = f"This port speaks HTTPS only; open {target}\n"
        if request.method != "GET" or request.headers.get("Upgrade"):
            return self._respond(400, text)
        return self._respond(301, text, extra={"Location": target})

    async def _authenticate(self, request: Request, address: str, api: bool) -> Response | None:
        # Who is already in never waits: a valid page token, or a login accepted before.
        if api and self.tokens.valid(cookie_token(request.headers.get("Cookie"))):
            return None
        basic = parse_basic(request.headers.get("Authorization"))
        if basic is not None and self.credentials.is_cached(*basic):
            return None
        if basic is not None:
            retry_after = self.limiter.begin(address)
            if retry_after is not None:
                self.counters.rate_limited += 1
                return self._respond(
                    429,
                    f"Too many failed logins; try again in {retry_after} s.\n",
                    extra={"Retry-After": str(retry_after)},
                )
            accepted = False
            try:
                accepted = await anyio.to_thread.run_sync(
                    self.credentials.check, *basic, limiter=self._checking
                )
            finally:
                self.limiter.end(address, accepted)
            if accepted:
                return None
            self.counters.auth_failures += 1
            log.warning("diagnostics login failed", extra=kv(client=address))
        return self._respond(
            401,
            "Credentials needed: the user and password of the room's diagnostics page.\n",
            extra={"WWW-Authenticate": 'Basic realm="roomagent", charset="UTF-8"'},
        )

    def _status_for_metrics(self) -> RoomStatus | None:
        try:
            return self.agent.status_model()
        except Exception as exc:  # metrics must still answer when the agent is unwell
            log.warning("status for metrics failed: %s", redact(str(exc)))
            return None

    def _counters(self) -> metrics.ServerCounters:
        self.counters.updates_dropped = self.hub.dropped()
        return self.counters

    # -- WebSocket -------------------------------------------------------------------------

    async def _connection(self, connection: ServerConnection) -> None:
        await load_on_first_use("roomagent.web.api")
        from roomagent.web.api import (
            MAX_BATCH,
            ApiContext,
            binary_frame_error,
            handle_text,
            parse_frame,
        )

        self.counters.api_connections += 1
        address = connection.remote_address[0] if connection.remote_address else "?"
        log.info("api client connected", extra=kv(client=address))
        in_flight = anyio.Semaphore(MAX_IN_FLIGHT)

        async def notify(method: str, params: dict[str, Any]) -> None:
            frame = {"jsonrpc": "2.0", "method": method, "params": params}
            text = json.dumps(scrub(frame), ensure_ascii=False)
            await connection.send(text)

        async def answer(message: str | bytes, ctx: ApiContext, parsed: Any, slots: int) -> None:
            try:
                self.counters.api_requests += 1
                if isinstance(message, bytes):
                    reply: tuple[str, int] | None = (binary_frame_error(), 1)
                else:
                    reply = await handle_text(message, ctx, parsed)
                if reply is None:
                    return
                text, errors = reply
                self.counters.api_errors += errors
                await connection.send(text)
            except ConnectionClosed:
                pass  # the answer to a client that left goes nowhere
            finally:
                for _ in range(slots):
                    in_flight.release()

        # Cancelled only when the server stops: then requests still running end with it.
        scope = anyio.CancelScope()
        self._sockets.add(scope)
        try:
            with scope:
                async with anyio.create_task_group() as tg:
                    ctx = ApiContext(self.agent, self.hub, tg, notify)
                    try:
                        async for message in connection:
                            parsed, calls = (
                                (None, 1) if isinstance(message, bytes) else (parse_frame(message))
                            )
                            # Each call of a batch holds a slot (backpressure: stop reading
                            # when busy); a batch over the cap is refused, never run.
                            slots = calls if calls <= MAX_BATCH else 1
                            for _ in range(slots):
                                await in_flight.acquire()
                            tg.start_soon(answer, message, ctx, parsed, slots)
                    except ConnectionClosed:
                        pass
                    # Stop the updates; requests already running (a join) finish on their
                    # own rather than being cut off half-way because a page closed.
                    ctx.unsubscribe()
                    await ctx.release_held()  # a page gone mid-hold leaves no camera moving
        finally:
            self._sockets.discard(scope)
            self.counters.api_connections -= 1
            log.info("api client disconnected", extra=kv(client=address))
