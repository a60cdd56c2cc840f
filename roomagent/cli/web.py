"""`roomagent discover` (agents on the LAN by mDNS) and `roomagent hash-password`."""

from __future__ import annotations

import argparse
import getpass
import sys

import anyio

from roomagent.cli.common import EXIT_FAILED, CliError, Commands
from roomagent.discovery.mdns import browse
from roomagent.web.auth import DEFAULT_ITERATIONS, MIN_ITERATIONS, hash_password

MIN_PASSWORD_LENGTH = 8


def register(commands: Commands) -> None:
    """Add `discover` and `hash-password`."""
    discover = commands.add(
        "discover",
        _cmd_discover,
        "list roomagent boxes announced on the LAN (mDNS)",
        "Browse _roomagent._tcp.local. and print one line per agent: name, "
        "address, port, room, version, state, the diagnostics page URL (https:// when it "
        "serves TLS) and the certificate's SHA-256 fingerprint to pin (tab-separated). "
        "Exits 0 also when none answered.",
    )
    discover.add_argument(
        "--timeout", type=float, default=3.0, metavar="S", help="listen this long (default 3)"
    )
    discover.add_argument(
        "--interface",
        action="append",
        metavar="ADDR",
        help="browse only on the interface with this IPv4 address (repeatable; default all)",
    )

    hashed = commands.add(
        "hash-password",
        _cmd_hash_password,
        "hash a password for [web] password_hash",
        "Read a password (prompted twice on a terminal, else the first line of "
        "stdin) and print its pbkdf2_sha256 hash for `password_hash` in the [web] section. "
        "The password is never taken from the command line.",
    )
    hashed.add_argument(
        "--iterations", type=int, default=DEFAULT_ITERATIONS, help=argparse.SUPPRESS
    )


def _cmd_discover(args: argparse.Namespace) -> int:
    if not 0 < args.timeout <= 60:
        raise CliError("--timeout must be between 0 and 60 seconds", EXIT_FAILED)
    try:
        found = anyio.run(browse, args.timeout, args.interface)
    except OSError as exc:
        raise CliError(f"cannot browse mDNS: {exc.strerror or exc}", EXIT_FAILED) from None
    if not found:
        print(f"no roomagent found on the LAN within {args.timeout:g} s")
    for agent in found:
        print(agent.line())
    return 0


def _read_password() -> str:
    if sys.stdin.isatty():
        first = getpass.getpass("Password for the diagnostics page: ")
        if getpass.getpass("Again: ") != first:
            raise CliError("the two passwords differ; nothing printed", EXIT_FAILED)
        return first
    return sys.stdin.readline().rstrip("\r\n")


def _cmd_hash_password(args: argparse.Namespace) -> int:
    if args.iterations < MIN_ITERATIONS:
        raise CliError(f"--iterations must be at least {MIN_ITERATIONS}", EXIT_FAILED)
    password = _read_password()
    if len(password) < MIN_PASSWORD_LENGTH:
        raise CliError(f"the password needs at least {MIN_PASSWORD_LENGTH} characters", EXIT_FAILED)
    print(hash_password(password, iterations=args.iterations))
    return 0
