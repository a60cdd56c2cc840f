"""`roomagent fleet serve`: the fleet page and /metrics (docs/fleet.md), in a module of its own
so the other fleet tools do not import the page server."""

from __future__ import annotations

import argparse
from pathlib import Path

import anyio

from roomagent.cli.common import EXIT_OK, CliError
from roomagent.config.loader import ConfigError, load_config
from roomagent.config.model import AgentConfig, WebSection
from roomagent.config.secrets import SecretUnavailable, read_secret
from roomagent.fleet.broker import Broker
from roomagent.fleet.feed import BrokerFeed
from roomagent.web.auth import WebAuthError
from roomagent.web.fleet_page import FleetPageServer
from roomagent.web.tls import TlsConfigError, server_tls

FLEET_ASSETS = "roomagent.fleet"  # the page's files: roomagent/fleet/static


def _page_section(args: argparse.Namespace) -> tuple[WebSection, Path | None, Path]:
    host, sep, port = args.listen.rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise CliError(f"--listen must be HOST:PORT, not {args.listen!r}")
    config, base = AgentConfig(), None
    if args.config:
        try:
            config = load_config(args.config)
        except ConfigError as exc:
            raise CliError(f"{args.config}: {exc}") from None
        base = Path(args.config).resolve().parent
    section = config.web.model_copy(update={"listen": host.strip("[]"), "port": int(port)})
    return section, base, config.state_dir


def serve(args: argparse.Namespace, broker: Broker) -> int:
    """`roomagent fleet serve`, with the broker its common options name."""
    section, base, state_dir = _page_section(args)
    file = section.password_file
    if file is not None and base is not None and not file.is_absolute():
        file = base / file
    try:
        password = read_secret(section.password_env, file, what="page password")
        # The same TLS as the diagnostics page ([web] tls, cert_file/key_file, or a
        # self-signed pair kept in the state dir; plain HTTP on the loopback).
        tls = server_tls(section, state_dir=state_dir, base_dir=base or Path.cwd())
        feed = BrokerFeed(broker, args.prefix)
        server = FleetPageServer(
            feed, section, password, section.password_hash, FLEET_ASSETS, tls=tls
        )
    except (SecretUnavailable, WebAuthError, TlsConfigError) as exc:
        raise CliError(str(exc)) from None

    async def run() -> None:
        async with anyio.create_task_group() as tg:
            tg.start_soon(feed.run)
            port = await tg.start(server.run)
            print(f"fleet page: {server.scheme}://{server.host}:{port}/", flush=True)

    try:
        anyio.run(run)
    except OSError as exc:
        raise CliError(f"cannot listen on {args.listen}: {exc.strerror or exc}") from None
    return EXIT_OK
