"""TLS for a page served on the LAN (the agent's page and API; the fleet page reuses it).

`[web] tls`: "auto" makes a self-signed certificate once and keeps it under the state
directory; "files" loads the site's certificate and key (again on SIGHUP); "off" is plain
HTTP. Left unset, it is "auto" on a LAN address and "off" on loopback. Every problem with a
configured pair is one line naming the config key. The SHA-256 fingerprint (what staff pin)
is logged, shown on the page and announced over mDNS.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import logging
import os
import socket
import ssl
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from roomagent.logsetup import kv
from roomagent.web.tls_settings import (
    WILDCARDS,
    TlsConfigError,
    TlsMode,
    TlsSettings,
    files_pair,
    lan_address,
    tls_mode,
)

__all__ = ["ServerTls", "TlsConfigError", "TlsMode", "TlsSettings", "lan_address", "tls_mode"]

log = logging.getLogger(__name__)

# [assumption] 825 days: the longest validity Apple platforms accept for a TLS server
# certificate, trusted or not; "auto" makes a new one when fewer than 30 days are left.
AUTO_VALID_DAYS = 825
WARN_DAYS = 30
AUTO_FOLDER = "tls"
AUTO_CERT = "page-cert.pem"
AUTO_KEY = "page-key.pem"


def fingerprint(cert: x509.Certificate) -> str:
    """SHA-256 of the DER certificate as browsers show it: `AB:CD:…` (32 pairs)."""
    return ":".join(f"{b:02X}" for b in cert.fingerprint(hashes.SHA256()))


@dataclass(frozen=True)
class CertInfo:
    fingerprint: str
    not_after: dt.datetime
    names: tuple[str, ...]  # DNS names and IP addresses it covers


def _cert_info(cert: x509.Certificate) -> CertInfo:
    names: list[str] = []
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        names += san.get_values_for_type(x509.DNSName)
        names += [str(ip) for ip in san.get_values_for_type(x509.IPAddress)]
    except x509.ExtensionNotFound:
        pass
    return CertInfo(fingerprint(cert), cert.not_valid_after_utc, tuple(names))


def _read(path: Path, key: str) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise TlsConfigError(f"{key}: file not found: {path}") from None
    except OSError as exc:
        raise TlsConfigError(f"{key}: cannot read {path}: {exc.strerror}") from None


def check_pair(
    cert_path: Path, key_path: Path, cert_key: str, key_key: str, *, now: dt.datetime | None = None
) -> CertInfo:
    """Read and check a certificate (chain) and its key; TlsConfigError says what is wrong."""
    cert_pem, key_pem = _read(cert_path, cert_key), _read(key_path, key_key)
    try:
        chain = x509.load_pem_x509_certificates(cert_pem)
    except ValueError:
        raise TlsConfigError(f"{cert_key}: not a PEM certificate: {cert_path}") from None
    try:
        private = serialization.load_pem_private_key(key_pem, password=None)
    except TypeError:
        raise TlsConfigError(
            f"{key_key}: the key is encrypted; give the server an unencrypted key file "
            f"readable only by the agent: {key_path}"
        ) from None
    except (ValueError, UnsupportedAlgorithm):
        raise TlsConfigError(f"{key_key}: not a PEM private key: {key_path}") from None
    leaf = chain[0]
    spki = serialization.PublicFormat.SubjectPublicKeyInfo
    der = serialization.Encoding.DER
    if leaf.public_key().public_bytes(der, spki) != private.public_key().public_bytes(der, spki):
        raise TlsConfigError(
            f"{key_key}: the key does not belong to the certificate in {cert_key} ({key_path})"
        )
    now = now or dt.datetime.now(dt.UTC)
    if leaf.not_valid_after_utc <= now:
        day = leaf.not_valid_after_utc.date().isoformat()
        raise TlsConfigError(f"{cert_key}: the certificate expired on {day}: {cert_path}")
    if leaf.not_valid_before_utc > now:
        day = leaf.not_valid_before_utc.date().isoformat()
        raise TlsConfigError(f"{cert_key}: the certificate is not valid before {day}: {cert_path}")
    return _cert_info(leaf)


def _context(cert_path: Path, key_path: Path, cert_key: str) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_cert_chain(cert_path, key_path)
    except (ssl.SSLError, OSError) as exc:  # checked already; a race with an editor
        raise TlsConfigError(f"{cert_key}: cannot be used: {exc}") from None
    return context


# -- auto: the self-signed certificate kept under the state directory ---------------------


@dataclass(frozen=True)
class SanNames:
    """What an auto certificate must cover (`required`) and what it also lists."""

    required: tuple[str, ...]
    extra: tuple[str, ...] = ()


def san_names(listen: str, mdns_name: str | None) -> SanNames:
    """The host name, the room's `.local` mDNS name and the listen address. On a wildcard the
    current LAN addresses are listed too, but a DHCP change alone does not make a new cert."""
    required = [socket.gethostname()]
    if mdns_name:
        required.append(mdns_name.rstrip("."))
    extra: list[str] = []
    if listen in WILDCARDS:
        extra.append(lan_address())
    else:
        required.append(listen)
    unique = list(dict.fromkeys(n for n in required if n))
    return SanNames(tuple(unique), tuple(a for a in extra if a not in unique))


def _general_name(name: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(name))
    except ValueError:
        return x509.DNSName(name)


def make_self_signed(
    names: Sequence[str],
    *,
    not_before: dt.datetime | None = None,
    not_after: dt.datetime | None = None,
) -> tuple[bytes, bytes]:
    """(certificate PEM, key PEM): an ECDSA P-256 key and a server certificate for `names`,
    valid AUTO_VALID_DAYS unless told otherwise."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0][:64])])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        # Five minutes back: a client whose clock lags a little still accepts it.
        .not_valid_before(not_before or now - dt.timedelta(minutes=5))
        .not_valid_after(not_after or now + dt.timedelta(days=AUTO_VALID_DAYS))
        .add_extension(x509.SubjectAlternativeName([_general_name(n) for n in names]), False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return cert.public_bytes(serialization.Encoding.PEM), key_pem


def _write_private(path: Path, data: bytes, mode: int) -> None:
    """Write beside the target and rename: a crash never leaves half a key behind."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, mode)  # the umask may have narrowed it; never widened
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _reuse_problem(cert: Path, key: Path, names: SanNames) -> str | None:
    """Why the kept certificate cannot be used again, or None when it can."""
    try:
        info = check_pair(cert, key, "cert", "key")
    except TlsConfigError as exc:
        return str(exc).split(": ", 1)[1]
    missing = [n for n in names.required if n not in info.names]
    if missing:
        return f"it does not cover {', '.join(missing)}"
    left = info.not_after - dt.datetime.now(dt.UTC)
    if left < dt.timedelta(days=WARN_DAYS):
        return f"it expires in {max(0, left.days)} days"
    return None


def auto_pair(state_dir: Path, names: SanNames) -> tuple[Path, Path]:
    """The kept self-signed pair under `state_dir/tls/`, made on first use (or when it no
    longer covers the names or is about to expire: the fingerprint then changes, logged)."""
    folder = state_dir / AUTO_FOLDER
    cert, key = folder / AUTO_CERT, folder / AUTO_KEY
    if not cert.exists() and not key.exists():
        reason = None
    else:
        reason = _reuse_problem(cert, key, names)
        if reason is None:
            return cert, key
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        cert_pem, key_pem = make_self_signed([*names.required, *names.extra])
        _write_private(key, key_pem, 0o600)
        _write_private(cert, cert_pem, 0o644)
    except OSError as exc:
        raise TlsConfigError(
            f"web.tls: cannot keep the certificate under {folder}: {exc.strerror} "
            '(set state_dir, or web.tls = "files")'
        ) from None
    if reason:
        log.warning(
            "made a new self-signed certificate; pinned fingerprints must be updated",
            extra=kv(reason=reason, folder=str(folder)),
        )
    else:
        log.info("made a self-signed certificate for the page", extra=kv(folder=str(folder)))
    return cert, key


# -- the server's side ---------------------------------------------------------------------


@dataclass
class ServerTls:
    """The certificate a server uses now; `reload()` swaps it for new connections."""

    mode: TlsMode
    cert_path: Path
    key_path: Path
    keys: tuple[str, str] = ("web.cert_file", "web.key_file")
    context: ssl.SSLContext = field(init=False)
    info: CertInfo = field(init=False)

    def __post_init__(self) -> None:
        self.info, self.context = self._load()

    def _load(self) -> tuple[CertInfo, ssl.SSLContext]:
        info = check_pair(self.cert_path, self.key_path, *self.keys)
        return info, _context(self.cert_path, self.key_path, self.keys[0])

    def reload(self) -> bool:
        """Read the files again (SIGHUP). True when the certificate changed; TlsConfigError
        keeps the current one in use."""
        info, context = self._load()
        changed = info.fingerprint != self.info.fingerprint
        self.info, self.context = info, context
        if changed:
            self.log_start("page certificate reloaded")
        return changed

    def days_left(self, now: dt.datetime | None = None) -> int:
        return (self.info.not_after - (now or dt.datetime.now(dt.UTC))).days

    def expired(self, now: dt.datetime | None = None) -> bool:
        return self.info.not_after <= (now or dt.datetime.now(dt.UTC))

    def warning(self, now: dt.datetime | None = None) -> str | None:
        """A sentence for the page and the log when the certificate expires within 30 days
        (or has expired while the agent runs: it was valid when loaded)."""
        left = self.days_left(now)
        if left >= WARN_DAYS:
            return None
        day = self.info.not_after.date().isoformat()
        what = (
            "renew it (auto makes a new one at the next start)"
            if self.mode == "auto"
            else (f"replace {self.keys[0]} and send SIGHUP")
        )
        if self.expired(now):
            return f"the page's certificate expired on {day}: {what}"
        return f"the page's certificate expires in {max(left, 0)} days ({day}): {what}"

    def summary(self) -> dict[str, object]:
        """What the page footer and tools show."""
        return {
            "scheme": "https",
            "mode": self.mode,
            "fingerprint": self.info.fingerprint,
            "expires": self.info.not_after.isoformat(),
            "names": list(self.info.names),
            "warning": self.warning(),
            "days_left": max(self.days_left(), 0),
            "expired": self.expired(),
        }

    def log_start(self, message: str = "page served over TLS") -> None:
        fields = {"mode": self.mode, "sha256": self.info.fingerprint}
        log.info(message, extra=kv(**fields, expires=self.info.not_after.date().isoformat()))
        warning = self.warning()
        if warning:
            log.warning(warning, extra=kv(sha256=self.info.fingerprint))


def server_tls(
    settings: TlsSettings,
    *,
    state_dir: Path,
    base_dir: Path,
    mdns_name: str | None = None,
    section: str = "web",
) -> ServerTls | None:
    """The TLS a server listening per `settings` uses; None when it serves plain HTTP.
    `section` names the config section in error messages ("web", "fleet", …)."""
    mode = tls_mode(settings)
    keys = (f"{section}.cert_file", f"{section}.key_file")
    if mode == "off":
        return None
    if mode == "files":
        cert, key = files_pair(settings, base_dir, section)
        return ServerTls(mode, cert, key, keys)
    cert, key = auto_pair(state_dir, san_names(settings.listen, mdns_name))
    return ServerTls(mode, cert, key, keys)


def config_problems(
    settings: TlsSettings, base_dir: Path, section: str = "web"
) -> list[tuple[tuple[str | int, ...], str]]:
    """For check-config: what is wrong with a "files" pair (auto and off have nothing to
    check before they run)."""
    if tls_mode(settings) != "files":
        return []
    try:
        cert, key = files_pair(settings, base_dir, section)
        check_pair(cert, key, f"{section}.cert_file", f"{section}.key_file")
    except TlsConfigError as exc:
        key_name, _, message = str(exc).partition(": ")
        return [((section, key_name.split(".", 1)[1]), message)]
    return []


def expiry_warning(settings: TlsSettings, base_dir: Path, section: str = "web") -> str | None:
    """For check-config: a valid "files" certificate that expires within 30 days."""
    if tls_mode(settings) != "files":
        return None
    try:
        cert, key = files_pair(settings, base_dir, section)
        keys = (f"{section}.cert_file", f"{section}.key_file")
        return ServerTls("files", cert, key, keys).warning()
    except TlsConfigError:
        return None  # an error, reported by config_problems
