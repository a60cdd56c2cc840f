"""What the TLS tests share: certificate files made as a site CA would, and a real TLS
client that reads the certificate a port serves (no verification: we compare fingerprints,
as staff pinning a fingerprint do)."""

from __future__ import annotations

import datetime as dt
import hashlib
import socket
import ssl
from pathlib import Path

import anyio

from roomagent.web.tls import make_self_signed


def write_pair(folder: Path, stem: str = "site", **validity: dt.datetime) -> tuple[Path, Path]:
    """A certificate and key under `folder`; `not_before` / `not_after` override validity."""
    folder.mkdir(parents=True, exist_ok=True)
    cert_pem, key_pem = make_self_signed(["room.example", "127.0.0.1"], **validity)
    cert_path, key_path = folder / f"{stem}.crt", folder / f"{stem}.key"
    cert_path.write_bytes(cert_pem)
    key_path.write_bytes(key_pem)
    key_path.chmod(0o600)
    return cert_path, key_path


def no_verify() -> ssl.SSLContext:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


def _served_fingerprint(port: int) -> str:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
        with no_verify().wrap_socket(raw) as tls:
            der = tls.getpeercert(binary_form=True)
    assert der is not None
    return ":".join(f"{b:02X}" for b in hashlib.sha256(der).digest())


async def served_fingerprint(port: int) -> str:
    """SHA-256 of the certificate the server on 127.0.0.1:`port` presents."""
    return await anyio.to_thread.run_sync(_served_fingerprint, port)


def _plain_request(port: int, request: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
        raw.sendall(request)
        chunks = []
        while chunk := raw.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


async def plain_request(port: int, request: bytes) -> bytes:
    """Bytes on a plain TCP connection and everything the server answers."""
    return await anyio.to_thread.run_sync(_plain_request, port, request)
