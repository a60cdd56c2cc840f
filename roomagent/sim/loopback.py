"""The loopback HTTP server the cloud stand-ins share (sim/clouds.py lists them).

A real HTTP server (http.server in a thread) on 127.0.0.1 that records every request (so a
test can assert that nothing was sent) and takes injected faults: an error reply, a slow
reply, for the next N requests to a path.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class Recorded:
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any
    method: str = "POST"


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
                cloud._serve(self, "POST")

            def do_GET(self) -> None:
                cloud._serve(self, "GET")

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

    def _serve(self, request: BaseHTTPRequestHandler, method: str) -> None:
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
            self.requests.append(Recorded(split.path, query, headers, body, method))
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
