"""`roomagent fleet status|call|watch|serve`: the fleet tools (docs/fleet.md).

Broker credentials come from ROOMAGENT_MQTT_USERNAME / ROOMAGENT_MQTT_PASSWORD, never argv.
Exit codes: 0 ok, 1 refused/failed, 2 broker unreachable or no answer (room offline).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

import anyio

from roomagent.cli.common import (
    EXIT_FAILED,
    EXIT_OK,
    EXIT_UNREACHABLE,
    CliError,
    Commands,
    command,
    group,
)
from roomagent.config.vocab import FLEET_PRESS, ButtonPhase
from roomagent.fleet.broker import Broker, BrokerConfigError, parse_broker
from roomagent.fleet.tools import BrokerUnreachable, NoAnswer, call, change_line, collect, watch
from roomagent.fleet.view import Change
from roomagent.logsetup import register_secret

USERNAME_ENV = "ROOMAGENT_MQTT_USERNAME"
PASSWORD_ENV = "ROOMAGENT_MQTT_PASSWORD"
DEFAULT_LISTEN = "127.0.0.1:8090"


def register(commands: Commands) -> None:
    tools = group(
        commands.top,
        "fleet",
        "every room on an MQTT broker: status, commands, live view, fleet page",
        "Fleet tools against the MQTT broker the rooms report to. Credentials: "
        f"${USERNAME_ENV} / ${PASSWORD_ENV}. Exit 0 ok, 1 refused/failed, 2 broker "
        "unreachable or no answer.",
        dest="fleet_command",
        metavar="TOOL",
    )

    status = command(tools, "status", _cmd_status, "every room's state, problems first")
    _broker_args(status)
    status.add_argument("--json", action="store_true", help="one JSON object per room per line")

    caller = command(tools, "call", _cmd_call, "run an action in a room and print its result")
    caller.add_argument("room", metavar="ROOM", help="room id")
    caller.add_argument("action", metavar="ACTION", help="e.g. meeting.leave, or press")
    caller.add_argument("params", nargs="*", metavar="KEY=VALUE", help="the action's params")
    _broker_args(caller)
    caller.add_argument("--timeout", type=float, default=30.0, metavar="S", help="default 30")

    watcher = command(tools, "watch", _cmd_watch, "a live stream of changes, one line each")
    _broker_args(watcher)
    watcher.add_argument("--duration", type=float, metavar="S", help="stop after S seconds")

    serve = command(
        tools, "serve", _cmd_serve, "the fleet page and /metrics", default_log_level="info"
    )
    _broker_args(serve)
    serve.add_argument("--listen", default=DEFAULT_LISTEN, metavar="H:P", help=DEFAULT_LISTEN)
    serve.add_argument(
        "--config",
        metavar="FILE",
        help="take the page's login (and allowed origins) from this config's [web] section; "
        "default: user admin, password from $ROOMAGENT_WEB_PASSWORD",
    )


def _broker_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--broker", required=True, metavar="URL", help="mqtt://H:P or mqtts://")
    parser.add_argument("--site", metavar="S", help="only this site")
    parser.add_argument("--prefix", default="roomagent", help="topic prefix (default roomagent)")
    parser.add_argument("--ca-file", type=Path, metavar="PEM", help="CA for mqtts://")


def _broker(args: argparse.Namespace) -> Broker:
    password = os.environ.get(PASSWORD_ENV) or None
    register_secret(password)
    try:
        broker = parse_broker(
            args.broker,
            username=os.environ.get(USERNAME_ENV) or None,
            password=password,
            ca_file=args.ca_file,
        )
        broker.tls_context()
    except BrokerConfigError as exc:
        raise CliError(str(exc), EXIT_FAILED) from None
    return broker


def _cmd_status(args: argparse.Namespace) -> int:
    broker = _broker(args)
    try:
        view = anyio.run(lambda: collect(broker, args.prefix, args.site))
    except BrokerUnreachable as exc:
        raise CliError(f"broker unreachable: {exc}", EXIT_UNREACHABLE) from None
    rows = view.rows()
    if args.json:
        for row in rows:
            print(json.dumps(row, ensure_ascii=False))
        return EXIT_OK
    header = ("ROOM", "SITE", "STATE", "MEETING", "LINK", "OFFLINE", "VERSION", "LAST SEEN")
    table = [header]
    for row in rows:
        state = row["state"] if row["online"] else "offline"
        table.append(
            (
                row["room_id"],
                row["site"],
                str(state),
                row["meeting"]["code"] or "-",
                str(row["link"]),
                ",".join(row["devices_offline"]) or "-",
                str(row["version"]),
                str(row["last_seen"]),
            )
        )
    widths = [max(len(line[i]) for line in table) for i in range(len(header))]
    for line in table:
        print("  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip())
    if not rows:
        print("no rooms on this broker", file=sys.stderr)
    return EXIT_OK


def _command(action: str, params: list[str]) -> dict[str, Any]:
    """`ACTION key=value …` → the command body. Values stay text: the room validates and
    converts them as it does a binding's (`switch_type=2` → 2)."""
    values: dict[str, Any] = {}
    for item in params:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise CliError(f"parameters are KEY=VALUE, not {item!r}", EXIT_FAILED)
        values[key] = value
    if action != FLEET_PRESS:
        return {"action": action, **values}
    try:
        press = {
            "device": values.pop("device"),
            "button": int(values.pop("button")),
            "how": values.pop("how", ButtonPhase.PRESS),
        }
    except (KeyError, ValueError):
        how = "|".join(ButtonPhase)
        raise CliError(f"press needs device=NAME button=N [how={how}]") from None
    if values:
        raise CliError(f"press takes device, button and how only, not {', '.join(values)}")
    return {FLEET_PRESS: press}


def _cmd_call(args: argparse.Namespace) -> int:
    command = _command(args.action, args.params)
    if not 0 < args.timeout <= 600:
        raise CliError("--timeout must be between 0 and 600 seconds", EXIT_FAILED)
    broker = _broker(args)

    async def run() -> dict[str, Any]:
        return await call(
            broker,
            args.room,
            command,
            prefix=args.prefix,
            site=args.site,
            answer_within=args.timeout,
        )

    try:
        answer = anyio.run(run)
    except BrokerUnreachable as exc:
        raise CliError(f"broker unreachable: {exc}", EXIT_UNREACHABLE) from None
    except NoAnswer as exc:
        raise CliError(str(exc), EXIT_UNREACHABLE) from None
    if not answer.get("ok"):
        raise CliError(f"{args.room}: {answer.get('error')}", EXIT_FAILED)
    print(json.dumps(answer.get("result"), ensure_ascii=False))
    return EXIT_OK


def _cmd_watch(args: argparse.Namespace) -> int:
    broker = _broker(args)

    def emit(change: Change) -> None:
        print(change_line(change), flush=True)

    async def run() -> None:
        with anyio.move_on_after(args.duration if args.duration else float("inf")):
            await watch(broker, emit, prefix=args.prefix, site=args.site)

    try:
        anyio.run(run)
    except BrokerUnreachable as exc:
        raise CliError(f"broker unreachable: {exc}", EXIT_UNREACHABLE) from None
    return EXIT_OK


def _cmd_serve(args: argparse.Namespace) -> int:
    # The page server (websockets, prometheus_client, the certificate machinery) is imported
    # only for `serve`: status/call/watch start in a fraction of the time without it.
    from roomagent.cli.fleet_serve import serve

    return serve(args, _broker(args))
