"""Where the broker is and how to log in: `mqtt://` / `mqtts://` URLs, TLS, credentials.

Shared by the agent's bridge and the fleet tools, so both connect the same way.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiomqtt

DEFAULT_PORTS = {"mqtt": 1883, "mqtts": 8883}


class BrokerConfigError(ValueError):
    """A broker URL or TLS file that cannot be used; the message says which."""


@dataclass(frozen=True)
class Broker:
    host: str
    port: int
    tls: bool
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    ca_file: Path | None = None
    client_cert: Path | None = None
    client_key: Path | None = None

    @property
    def url(self) -> str:
        """The URL for people and logs (never the password)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{'mqtts' if self.tls else 'mqtt'}://{host}:{self.port}"

    def tls_context(self) -> ssl.SSLContext | None:
        if not self.tls:
            return None
        try:
            context = ssl.create_default_context(cafile=str(self.ca_file) if self.ca_file else None)
            if self.client_cert is not None:
                key = str(self.client_key) if self.client_key else None
                context.load_cert_chain(str(self.client_cert), key)
        except (OSError, ssl.SSLError) as exc:
            reason = getattr(exc, "strerror", None) or str(exc)
            raise BrokerConfigError(f"MQTT TLS files cannot be used: {reason}") from None
        return context

    def client(self, identifier: str | None = None, **options: Any) -> aiomqtt.Client:
        """An MQTT 5 client for this broker (connects on `async with`)."""
        return aiomqtt.Client(
            self.host,
            self.port,
            username=self.username,
            password=self.password,
            identifier=identifier,
            protocol=aiomqtt.ProtocolVersion.V5,
            tls_context=self.tls_context(),
            timeout=10,
            **options,
        )


def parse_broker(url: str, **settings: Any) -> Broker:
    """`mqtt://host[:port]` or `mqtts://host[:port]` plus credentials/TLS files."""
    parts = urlsplit(url.strip())
    if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
        raise BrokerConfigError(f"broker URL must be mqtt://HOST[:PORT] or mqtts://…, not {url!r}")
    if parts.username or parts.password:
        raise BrokerConfigError(
            "put no credentials in the broker URL; use ROOMAGENT_MQTT_USERNAME/_PASSWORD "
            "or the [mqtt] section"
        )
    try:
        port = parts.port or DEFAULT_PORTS[parts.scheme]
    except ValueError:
        raise BrokerConfigError(f"broker URL has a bad port: {url!r}") from None
    return Broker(parts.hostname, port, parts.scheme == "mqtts", **settings)


def mqtt_error_words(exc: BaseException) -> str:
    """An aiomqtt/paho error as a short sentence (paho's codes are cryptic)."""
    text = str(exc).strip() or type(exc).__name__
    if "Not authorized" in text or "code:135" in text or "code:5" in text:
        return "the broker refused the login (user or password wrong, or not allowed)"
    if "Connection refused" in text or "[Errno 111]" in text:
        return "the broker refused the connection (is it running on that port?)"
    return text
