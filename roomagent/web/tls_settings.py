"""What `[web] tls` asks for, without the certificate machinery (cryptography costs a room
box ~12 MiB): the mode in effect, the configured pair's paths, the LAN address. The
composition root imports roomagent.web.tls (certificates) only when the mode is not "off".
"""

from __future__ import annotations

import ipaddress
import socket
from pathlib import Path
from typing import Literal, Protocol

TlsMode = Literal["auto", "files", "off"]
WILDCARDS = ("", "0.0.0.0", "::")


class TlsConfigError(Exception):
    """A certificate or key the server cannot use; the message names the config key."""


class TlsSettings(Protocol):
    """The config fields TLS needs ([web] has them; the fleet page's section too)."""

    listen: str
    tls: TlsMode | None
    cert_file: Path | None
    key_file: Path | None


def is_loopback(listen: str) -> bool:
    if listen == "localhost":
        return True
    try:
        return ipaddress.ip_address(listen).is_loopback
    except ValueError:
        return False


def tls_mode(settings: TlsSettings) -> TlsMode:
    """The mode in effect: as configured, else auto on a LAN address and off on loopback."""
    if settings.tls is not None:
        return settings.tls
    return "off" if is_loopback(settings.listen) else "auto"


def lan_address() -> str:
    """The address other machines reach us on (no packet is sent by a UDP connect)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))
            return str(probe.getsockname()[0])
        except OSError:
            return ""


def _relative(path: Path, base_dir: Path) -> Path:
    return path if path.is_absolute() else base_dir / path


def files_pair(settings: TlsSettings, base_dir: Path, section: str = "web") -> tuple[Path, Path]:
    if settings.cert_file is None or settings.key_file is None:
        missing = "cert_file" if settings.cert_file is None else "key_file"
        raise TlsConfigError(f'{section}.{missing}: required when {section}.tls = "files"')
    return _relative(settings.cert_file, base_dir), _relative(settings.key_file, base_dir)
