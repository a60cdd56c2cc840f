"""A real Mosquitto on a free loopback port, with a password file and the shipped ACL.

Mosquitto started as root drops to its own user, so its files live in a 0755 directory and
are world-readable (test passwords only).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from roomagent.fleet.broker import Broker, parse_broker

MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
PASSWD = shutil.which("mosquitto_passwd") or "/usr/bin/mosquitto_passwd"
ACL_TEMPLATE = Path(__file__).resolve().parents[2] / "examples" / "mosquitto" / "acl"
OPERATOR = "fleet-operator"
OPERATOR_PASSWORD = "operator-pw-7731"
ROOMS = ("huddle-3a", "board-1", "lab-2")  # room ids = broker accounts


def room_password(room: str) -> str:
    return f"pw-{room}-4410"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Mosquitto:
    """One broker process; `restart()` keeps the port (persistence is off: state is lost)."""

    def __init__(self, extra_acl: str = "", extra_conf: str = "", port: int | None = None):
        self.dir = Path(tempfile.mkdtemp(prefix="roomagent-mqtt-"))
        self.dir.chmod(0o755)
        self.port = port or free_port()
        self.process: subprocess.Popen[bytes] | None = None
        users = {OPERATOR: OPERATOR_PASSWORD, **{r: room_password(r) for r in ROOMS}}
        users["bridge-hq"] = "bridge-pw-9090"
        passwd = self.dir / "passwd"
        passwd.write_text("")
        for user, password in users.items():
            subprocess.run([PASSWD, "-b", str(passwd), user, password], check=True)
        acl = ACL_TEMPLATE.read_text() + "\n" + extra_acl
        acl = acl.replace("# user bridge-hq", "user bridge-hq").replace(
            "# topic ", "topic "
        )  # the template's commented bridge account, switched on for the bridge test
        (self.dir / "acl").write_text(acl)
        for path in (passwd, self.dir / "acl"):
            path.chmod(0o644)
        self.log = self.dir / "mosquitto.log"
        (self.dir / "mosquitto.conf").write_text(
            f"listener {self.port} 127.0.0.1\n"
            "allow_anonymous false\n"
            f"password_file {passwd}\n"
            f"acl_file {self.dir / 'acl'}\n"
            "persistence false\n"
            "log_dest stderr\n"
            "log_type error\nlog_type warning\nlog_type notice\n" + extra_conf
        )
        (self.dir / "mosquitto.conf").chmod(0o644)

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def broker(self, user: str = OPERATOR, password: str | None = None) -> Broker:
        secret = password or (OPERATOR_PASSWORD if user == OPERATOR else room_password(user))
        return parse_broker(self.url, username=user, password=secret)

    def start(self) -> None:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [MOSQUITTO, "-c", str(self.dir / "mosquitto.conf")],
                stdout=log,
                stderr=log,
            )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("mosquitto exited: " + self.log.read_text()[-2000:])
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("mosquitto did not listen in time")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        self.process = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"  # aiomqtt runs on asyncio only


@pytest.fixture
def mosquitto() -> Iterator[Mosquitto]:
    if not os.path.exists(MOSQUITTO):
        pytest.skip("Debian mosquitto is not installed")
    broker = Mosquitto()
    broker.start()
    try:
        yield broker
    finally:
        broker.cleanup()
