"""TLS on the page's port over real loopback sockets: the kept self-signed certificate, the
site's files, plain HTTP on the TLS port, wss, cookies and headers."""

from __future__ import annotations

import base64
import datetime as dt
import json
import logging
import stat
from pathlib import Path

import httpx
import pytest
import websockets.asyncio.client as ws_client

from roomagent.config.model import WebSection
from roomagent.web.server import WebServer
from roomagent.web.tls import (
    AUTO_CERT,
    AUTO_FOLDER,
    AUTO_KEY,
    TlsConfigError,
    config_problems,
    server_tls,
    tls_mode,
)

from .conftest import PASSWORD, USER, basic
from .small_agent import SmallAgent
from .tls_helpers import no_verify, plain_request, served_fingerprint, write_pair

pytestmark = pytest.mark.anyio
MDNS = "roomagent-room-3a.local."


def auto_web(**fields: object) -> WebSection:
    return WebSection.model_validate({"listen": "127.0.0.1", "port": 0, "tls": "auto", **fields})


def test_default_mode_follows_the_listen_address() -> None:
    assert tls_mode(WebSection(listen="127.0.0.1")) == "off"  # `roomagent demo` stays plain
    assert tls_mode(WebSection(listen="::1")) == "off"
    assert tls_mode(WebSection(listen="localhost")) == "off"
    assert tls_mode(WebSection(listen="0.0.0.0")) == "auto"
    assert tls_mode(WebSection(listen="192.168.10.5")) == "auto"
    assert tls_mode(WebSection(listen="0.0.0.0", tls="off")) == "off"


def test_auto_certificate_is_made_once_kept_private_and_reused(tmp_path: Path) -> None:
    first = server_tls(auto_web(), state_dir=tmp_path, base_dir=tmp_path, mdns_name=MDNS)
    assert first is not None
    key = tmp_path / AUTO_FOLDER / AUTO_KEY
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / AUTO_FOLDER).stat().st_mode) == 0o700
    assert "roomagent-room-3a.local" in first.info.names
    assert "127.0.0.1" in first.info.names
    assert len(first.info.fingerprint.split(":")) == 32
    again = server_tls(auto_web(), state_dir=tmp_path, base_dir=tmp_path, mdns_name=MDNS)
    assert again is not None and again.info.fingerprint == first.info.fingerprint


def test_auto_certificate_is_remade_when_the_room_name_changes(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    first = server_tls(auto_web(), state_dir=tmp_path, base_dir=tmp_path, mdns_name=MDNS)
    other = "roomagent-board-room.local."
    second = server_tls(auto_web(), state_dir=tmp_path, base_dir=tmp_path, mdns_name=other)
    assert first is not None and second is not None
    assert second.info.fingerprint != first.info.fingerprint
    assert "roomagent-board-room.local" in second.info.names
    assert any("pinned fingerprints must be updated" in r.getMessage() for r in caplog.records)


def test_files_problems_are_one_line_naming_the_key(tmp_path: Path) -> None:
    cert, key = write_pair(tmp_path / "a", "a")
    other_cert, other_key = write_pair(tmp_path / "b", "b")
    now = dt.datetime.now(dt.UTC)
    old_cert, old_key = write_pair(
        tmp_path / "old", "old", not_before=now - dt.timedelta(days=400),
        not_after=now - dt.timedelta(days=2),
    )  # fmt: skip

    def problems(**fields: object) -> list[tuple[tuple[str | int, ...], str]]:
        web = WebSection.model_validate({"listen": "0.0.0.0", "tls": "files", **fields})
        return config_problems(web, tmp_path)

    assert problems(cert_file=cert, key_file=key) == []
    [(where, message)] = problems(cert_file=cert, key_file=other_key)
    assert where == ("web", "key_file")
    assert message.startswith("the key does not belong to the certificate in web.cert_file")
    [(where, message)] = problems(cert_file=tmp_path / "nope.crt", key_file=key)
    assert where == ("web", "cert_file") and message.startswith("file not found:")
    [(where, message)] = problems(cert_file=old_cert, key_file=old_key)
    assert where == ("web", "cert_file") and "expired on" in message
    [(where, message)] = problems(cert_file=key, key_file=key)
    assert where == ("web", "cert_file") and message.startswith("not a PEM certificate")
    [(where, message)] = problems(key_file=key)
    assert where == ("web", "cert_file") and "required when web.tls" in message
    assert other_cert.exists()
    web = WebSection(listen="0.0.0.0", tls="files", cert_file=cert, key_file=other_key)
    with pytest.raises(TlsConfigError, match=r"^web\.key_file: the key does not belong"):
        server_tls(web, state_dir=tmp_path, base_dir=tmp_path)


async def test_https_page_api_cookie_and_headers(tmp_path: Path) -> None:
    web = auto_web()
    tls = server_tls(web, state_dir=tmp_path, base_dir=tmp_path, mdns_name=MDNS)
    server = WebServer(SmallAgent(), web, PASSWORD, None, tls=tls)
    async with server.running():
        assert server.port is not None and tls is not None
        assert server.url.startswith("https://")
        assert await served_fingerprint(server.port) == tls.info.fingerprint
        base = f"https://127.0.0.1:{server.port}"
        async with httpx.AsyncClient(verify=no_verify(), base_url=base) as http:
            page = await http.get("/", auth=(USER, PASSWORD))
            assert page.status_code == 200 and "<html" in page.text
            assert page.headers["strict-transport-security"].startswith("max-age=")
            assert "connect-src 'self' wss://" in page.headers["content-security-policy"]
            assert (await http.get("/")).status_code == 401  # Basic still needed
            assert (await http.get("/healthz")).text == "ok\n"
            metrics = await http.get("/metrics", auth=(USER, PASSWORD))
            assert metrics.status_code == 200 and "roomagent_" in metrics.text
            info = (await http.get("/tls", auth=(USER, PASSWORD))).json()
            assert info["fingerprint"] == tls.info.fingerprint and info["warning"] is None
            session = await http.get("/session", auth=(USER, PASSWORD))
            cookie = session.headers["set-cookie"]
            assert "; Secure" in cookie and "HttpOnly" in cookie
            # The Origin check wants the https origin of this page.
            host = f"127.0.0.1:{server.port}"
            plain_origin = {"Origin": f"http://{host}"}
            refused = await http.get("/", auth=(USER, PASSWORD), headers=plain_origin)
            assert refused.status_code == 403
            same = await http.get("/", auth=(USER, PASSWORD), headers={"Origin": base})
            assert same.status_code == 200

        token = cookie.split(";")[0]
        async with ws_client.connect(
            f"wss://127.0.0.1:{server.port}/api",
            ssl=no_verify(),
            additional_headers={"Cookie": token, "Origin": base},
        ) as api:
            await api.send(json.dumps({"jsonrpc": "2.0", "id": 1, "method": "status"}))
            reply = json.loads(await api.recv())
            assert reply["result"]["room"]["name"] == "Huddle 3A"
        auth = {"Authorization": basic()}
        async with ws_client.connect(
            f"wss://127.0.0.1:{server.port}/api", ssl=no_verify(), additional_headers=auth
        ) as api:
            await api.send(json.dumps({"jsonrpc": "2.0", "id": 2, "method": "status"}))
            assert json.loads(await api.recv())["id"] == 2


async def test_plain_http_on_the_tls_port_gets_a_pointer_never_the_page(tmp_path: Path) -> None:
    web = auto_web()
    tls = server_tls(web, state_dir=tmp_path, base_dir=tmp_path)
    server = WebServer(SmallAgent(), web, PASSWORD, None, tls=tls)
    async with server.running():
        port = server.port
        assert port is not None
        credentials = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
        request = (
            f"GET /?x=1 HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            f"Authorization: Basic {credentials}\r\n\r\n"
        ).encode()
        answer = (await plain_request(port, request)).decode()
        assert answer.startswith("HTTP/1.1 301 ")
        assert f"Location: https://127.0.0.1:{port}/?x=1" in answer
        assert "This port speaks HTTPS only" in answer
        assert "<html" not in answer and "Room diagnostics" not in answer
        upgrade = (
            f"GET /api HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
            "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
            "Sec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
        answer = (await plain_request(port, upgrade)).decode()
        assert answer.startswith("HTTP/1.1 400 ") and "HTTPS only" in answer
        # TLS still works after plain clients came and went.
        assert tls is not None and await served_fingerprint(port) == tls.info.fingerprint
        async with httpx.AsyncClient(verify=no_verify()) as http:
            metrics = await http.get(f"https://127.0.0.1:{port}/metrics", auth=(USER, PASSWORD))
        assert 'counter="plain_http_refused"} 2' in metrics.text


async def test_files_reload_swaps_the_certificate_and_keeps_it_on_a_bad_pair(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    cert, key = write_pair(tmp_path, "site")
    web = WebSection(listen="127.0.0.1", port=0, tls="files", cert_file=cert, key_file=key)
    tls = server_tls(web, state_dir=tmp_path, base_dir=tmp_path)
    assert tls is not None
    server = WebServer(SmallAgent(), web, PASSWORD, None, tls=tls)
    async with server.running():
        assert server.port is not None
        before = await served_fingerprint(server.port)
        assert before == tls.info.fingerprint
        assert server.reload_tls() == "certificate unchanged"
        write_pair(tmp_path, "site")  # the renewed certificate, same file names
        assert server.reload_tls() == "certificate reloaded"
        after = await served_fingerprint(server.port)
        assert after == tls.info.fingerprint != before
        _, stray_key = write_pair(tmp_path / "other", "other")
        key.write_bytes(stray_key.read_bytes())  # a half-finished renewal
        with caplog.at_level(logging.ERROR):
            note = server.reload_tls()
        assert note.startswith("certificate kept: web.key_file: the key does not belong")
        assert await served_fingerprint(server.port) == after


async def test_expiring_certificate_is_a_warning_in_the_log_and_for_the_page(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    soon = dt.datetime.now(dt.UTC) + dt.timedelta(days=12, hours=1)
    cert, key = write_pair(tmp_path, "site", not_after=soon)
    web = WebSection(listen="127.0.0.1", port=0, tls="files", cert_file=cert, key_file=key)
    tls = server_tls(web, state_dir=tmp_path, base_dir=tmp_path)
    server = WebServer(SmallAgent(), web, PASSWORD, None, tls=tls)
    with caplog.at_level(logging.INFO):
        async with server.running():
            assert server.port is not None
            async with httpx.AsyncClient(verify=no_verify()) as http:
                url = f"https://127.0.0.1:{server.port}/tls"
                info = (await http.get(url, auth=(USER, PASSWORD))).json()
    assert info["warning"].startswith("the page's certificate expires in 12 days")
    assert "replace web.cert_file and send SIGHUP" in info["warning"]
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert any("expires in 12 days" in r.getMessage() for r in warnings)


def test_auto_files_are_where_the_docs_say(tmp_path: Path) -> None:
    server_tls(auto_web(), state_dir=tmp_path, base_dir=tmp_path)
    assert (tmp_path / AUTO_FOLDER / AUTO_CERT).read_bytes().startswith(b"-----BEGIN CERT")
