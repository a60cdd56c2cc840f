"""`roomagent query`, `roomagent call` and `roomagent sim rooms`.

Exit codes (the issue's CLI contract): 0 ok; 1 local validation error, refusal or outcome
timeout; 2 Rooms client unreachable; 3 authentication failed. Errors are one line.
"""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import anyio

from roomagent.app import load_room_config
from roomagent.cli.common import EXIT_AUTH, EXIT_FAILED, EXIT_UNREACHABLE, CliError, Commands
from roomagent.config.loader import ConfigError
from roomagent.config.model import RoomsSection
from roomagent.config.secrets import SecretUnavailable, read_secret
from roomagent.rooms.errors import (
    RoomsAuthFailed,
    RoomsBadRequest,
    RoomsError,
    RoomsUnreachable,
)
from roomagent.rooms.models import ACTIONS, masked, validate_action
from roomagent.rooms.session import RoomsSession

PASSWORD_ENV = "ROOMAGENT_ROOMS_PASSWORD"
DEFAULT_URL = RoomsSection().url
DEFAULT_SIM_PORT = 6295

T = TypeVar("T")


def register(commands: Commands) -> None:
    """Add `query`, `call` and `sim rooms`."""
    query = commands.add(
        "query",
        _cmd_query,
        "print a node of the Rooms client's state as JSON",
        "Query the Rooms client (CSAPI). PATH segments form one path, e.g. "
        "`Meeting MeetingInfo MeetingCode` (or Meeting.MeetingInfo.MeetingCode); "
        "default Meeting. meeting_password is shown as *** when set.",
    )
    query.add_argument("path", nargs="*", metavar="PATH", help="path segments (PascalCase)")
    _connection_args(query)

    call = commands.add(
        "call",
        _cmd_call,
        "call a Meeting action on the Rooms client",
        "Call/Meeting ACTION with key=value parameters converted to the action's "
        f"types. Actions: {', '.join(ACTIONS)} (join_meeting etc. also accepted).",
    )
    call.add_argument("action", metavar="ACTION", help="the CSAPI action, e.g. StartMeeting")
    call.add_argument(
        "params",
        nargs="*",
        default=[],
        metavar="KEY=VALUE",
        help="its parameters, e.g. switch_type=2",
    )
    call.add_argument(
        "--wait", action="store_true", help="wait for the outcome event and print it as JSON"
    )
    call.add_argument(
        "--timeout", type=float, default=None, metavar="S", help="outcome wait (default: config)"
    )
    _connection_args(call)

    sim = commands.add_sim(
        "rooms",
        _cmd_sim,
        "run a simulated Rooms client (CSAPI over WebSocket)",
        "Serve a simulated Rooms client until Ctrl-C. The password defaults to "
        f"${PASSWORD_ENV} (empty if unset).",
        default_log_level="info",
    )
    sim.add_argument(
        "--port", type=int, default=DEFAULT_SIM_PORT, help=f"port (default {DEFAULT_SIM_PORT})"
    )
    sim.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    sim.add_argument("--password", default=None, help="the password clients must present")
    sim.add_argument(
        "--event-delay",
        type=float,
        default=0.5,
        metavar="S",
        help="how long an action takes before its outcome event (default 0.5)",
    )
    sim.add_argument(
        "--waiting-room",
        action="append",
        default=[],
        metavar="CODE",
        help="joining this meeting code lands in the waiting room (repeatable)",
    )


def _connection_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--url", default=None, help=f"Rooms client URL (default {DEFAULT_URL})")
    parser.add_argument("--config", default=None, metavar="FILE", help="agent config (TOML)")


@dataclass(frozen=True)
class _Target:
    section: RoomsSection
    url: str
    password: str


def _target(args: argparse.Namespace) -> _Target:
    """URL and password: --url over the config file; the password never from argv."""
    section = RoomsSection()
    secret_file = None
    if args.config:
        try:
            section = load_room_config(args.config).rooms
        except ConfigError as exc:
            raise CliError(str(exc), EXIT_FAILED) from None
        if section.password_file is not None:  # relative to the config file, like its other paths
            secret_file = Path(args.config).parent / section.password_file
    try:
        password = read_secret(
            section.password_env or PASSWORD_ENV, secret_file, what="Rooms password"
        )
    except SecretUnavailable as exc:
        raise CliError(str(exc), EXIT_FAILED) from None
    return _Target(section, args.url or section.url, password or "")


def _run(
    target: _Target, subscribe: tuple[str, ...], body: Callable[[RoomsSession], Awaitable[T]]
) -> T:
    section = target.section
    session = RoomsSession.from_section(
        section, target.password, url=target.url, subscribe=subscribe
    )

    async def main() -> T:
        async with session.connected(ready_timeout=section.call_timeout * 2) as ready:
            return await body(ready)

    try:
        return anyio.run(main)
    except RoomsUnreachable as exc:
        raise CliError(str(exc), EXIT_UNREACHABLE) from None
    except RoomsAuthFailed:
        hint = "" if target.password else f" (is {PASSWORD_ENV} set?)"
        message = f"Rooms client at {target.url}: authentication failed{hint}"
        raise CliError(message, EXIT_AUTH) from None
    except RoomsError as exc:
        raise CliError(str(exc), EXIT_FAILED) from None


def _print_json(data: Any) -> None:
    print(json.dumps(masked(data), ensure_ascii=False, indent=2))


def _cmd_query(args: argparse.Namespace) -> int:
    path = [part for segment in args.path for part in segment.replace("/", ".").split(".") if part]
    target = _target(args)

    async def body(session: RoomsSession) -> dict[str, Any]:
        return await session.query(path or ["Meeting"])

    _print_json(_run(target, (), body))
    return 0


def parse_assignments(pairs: list[str]) -> dict[str, str]:
    """["switch_type=2", …] → {"switch_type": "2"}; the action's model converts the types."""
    params: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise CliError(f"expected key=value, got {pair!r}", EXIT_FAILED)
        params[key.strip()] = value
    return params


def _cmd_call(args: argparse.Namespace) -> int:
    raw = parse_assignments(args.params)
    try:
        spec, params = validate_action(args.action, raw)  # local check before connecting
    except RoomsBadRequest as exc:
        raise CliError(str(exc), EXIT_FAILED) from None
    target = _target(args)
    if args.timeout is not None:
        if args.timeout <= 0:
            raise CliError("--timeout must be positive", EXIT_FAILED)
        target = _Target(
            target.section.model_copy(update={"outcome_timeout": args.timeout}),
            target.url,
            target.password,
        )
    subscribe = tuple(target.section.subscribe) if args.wait else ()

    async def body(session: RoomsSession) -> dict[str, Any]:
        outcome = await session.call(spec.name, params, wait=args.wait)
        if outcome is None:
            return {"action": spec.name, "accepted": True}
        return outcome.as_dict()

    _print_json(_run(target, subscribe, body))
    return 0


def _cmd_sim(args: argparse.Namespace) -> int:
    from roomagent.sim.rooms import RoomsSimulator

    password = args.password if args.password is not None else os.environ.get(PASSWORD_ENV, "")
    sim = RoomsSimulator(
        password=password, host=args.host, port=args.port, event_delay=args.event_delay
    )
    sim.waiting_room_codes.update(args.waiting_room)

    async def serve() -> None:
        try:
            async with sim:
                print(f"rooms simulator listening on {sim.url}", flush=True)
                await anyio.sleep_forever()
        except OSError as exc:
            reason = exc.strerror or str(exc)
            raise CliError(
                f"cannot listen on {args.host}:{args.port}: {reason}", EXIT_UNREACHABLE
            ) from None

    try:
        anyio.run(serve)
    except KeyboardInterrupt:
        return 0
    return 0
