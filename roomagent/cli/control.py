"""`roomagent run`, `roomagent demo` and `roomagent check-config`."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
from pathlib import Path
from typing import Any

import anyio

from roomagent.app import App, load_room_config
from roomagent.cli.common import EXIT_FAILED, EXIT_OK, Commands, config_arg
from roomagent.config.loader import ConfigError
from roomagent.config.model import AgentConfig
from roomagent.control.status import room_info
from roomagent.logsetup import kv, setup_logging
from roomagent.rooms import LinkState
from roomagent.web.tls_settings import tls_mode

log = logging.getLogger("roomagent.run")


def register(commands: Commands) -> None:
    run = commands.add(
        "run",
        cmd_run,
        "run the agent for a room (the production main job)",
        "Run the agent: Rooms session, serial devices, bindings, feedback, page. "
        "SIGHUP reloads the config; SIGTERM/SIGINT stop it cleanly.",
        default_log_level="info",
    )
    config_arg(run, "room config (TOML)", metavar="FILE")

    demo = commands.add(
        "demo",
        cmd_demo,
        "try the agent with a simulated Rooms client, virtual panel and camera",
        "Start, in one process, a Rooms simulator, a virtual camera and keypad on "
        "pseudo-terminals, the diagnostics page and the agent wired to them. Type button "
        "numbers to press the virtual keypad.",
        default_log_level="error",
    )
    demo.add_argument("--duration", type=float, metavar="S", help="exit after S seconds")
    demo.add_argument(
        "--web-port",
        type=int,
        default=None,
        metavar="PORT",
        help="diagnostics page port (default 8080 if free, else a free one)",
    )

    check = commands.add(
        "check-config",
        cmd_check_config,
        "validate a room config and every profile it names",
        "Exit 0 when FILE is valid; else print `file:line: key: message` lines and exit 1.",
    )
    check.add_argument("file", metavar="FILE", help="the room config (TOML) to check")


def print_problems(exc: ConfigError) -> None:
    for problem in exc.problems:
        print(str(problem), file=sys.stderr)


def tls_problems(config: AgentConfig, base_dir: Path) -> list[tuple[tuple[str | int, ...], str]]:
    """[web] tls = "files": the certificate and key are there, a pair, and not expired.
    Only then is the certificate machinery (cryptography, ~12 MiB) imported."""
    if tls_mode(config.web) != "files":
        return []
    from roomagent.web.tls import config_problems

    return config_problems(config.web, base_dir)


def cmd_check_config(args: argparse.Namespace) -> int:
    try:
        # The page's certificate files too: check-config is the place to find a bad pair
        # (at run time it turns the page off, and the room keeps working).
        config = load_room_config(args.file, extra_checks=(tls_problems,))
    except ConfigError as exc:
        print_problems(exc)
        return EXIT_FAILED
    print(
        f"{args.file}: OK ({len(config.devices)} devices, {len(config.bindings)} bindings, "
        f"{len(config.feedback)} feedback rules)"
    )
    expiring = None
    if tls_mode(config.web) == "files":  # the other modes have no pair to check yet
        from roomagent.web.tls import expiry_warning

        expiring = expiry_warning(config.web, Path(args.file).parent)
    if expiring:  # valid today: a warning, and still exit 0
        print(f"{args.file}: warning: web.cert_file: {expiring}", file=sys.stderr)
    if config.mqtt is not None:  # the fleet plane's modules only when it is configured
        from roomagent.fleet.room_id import account_mismatch

        mismatch = account_mismatch(config)
        if mismatch:  # the broker would take the login and drop the room's messages
            print(f"{args.file}: warning: mqtt.username: {mismatch}", file=sys.stderr)
    return EXIT_OK


def cmd_run(args: argparse.Namespace) -> int:
    path = Path(args.config)
    try:
        config = load_room_config(path)
    except ConfigError as exc:
        print_problems(exc)
        return EXIT_FAILED
    if args.log_level is None:
        setup_logging(config.log.level)
    return anyio.run(serve_config, config, path, args.log_level)


def status_line(app: App) -> str:
    """The one-line STATUS= systemd shows in `systemctl status`. Read from the core's parts,
    not the whole typed status: it runs on every status update, a press's among them."""
    core = app.core
    room = room_info(core)
    link = core.session.link.value if core.session else LinkState.DISCONNECTED.value
    online = sum(1 for device in core.devices.values() if device.online)
    return (
        f"{room.name}: {room.state.value}; Rooms {link}; "
        f"devices {online}/{len(core.devices)} online"
    )


async def serve_config(config: AgentConfig, path: Path, cli_log_level: str | None) -> int:
    """Run the agent until SIGTERM/SIGINT; SIGHUP reloads `path`."""
    from roomagent.service.memory import settle
    from roomagent.service.notify import Notifier

    notifier = Notifier()
    app = App(config, base_dir=path.parent)
    last_status = ""

    def on_update(update: dict[str, Any]) -> None:
        nonlocal last_status
        # Link, state and device changes each come with a status update; history events
        # (every press) cannot change the line, and the status is not free.
        if update["type"] != "status":
            return
        line = status_line(app)
        if line != last_status:
            last_status = line
            notifier.status(line)

    with anyio.open_signal_receiver(signal.SIGTERM, signal.SIGINT, signal.SIGHUP) as signals:
        async with anyio.create_task_group() as tg:
            await tg.start(app.run)
            app.core.watch(on_update)
            notifier.ready(status_line(app))
            settle()  # start-up's garbage out, long-lived objects out of the collector's way
            tg.start_soon(notifier.run_watchdog)
            log.info("agent running", extra=kv(config=str(path), room=config.room.name))
            async for signum in signals:
                if signum == signal.SIGHUP:
                    reload_config(app, path, cli_log_level)
                    continue
                log.info("stopping", extra=kv(signal=signal.Signals(signum).name))
                notifier.stopping()
                tg.cancel_scope.cancel()
                break
    notifier.close()
    log.info("stopped")
    return EXIT_OK


def reload_config(app: App, path: Path, cli_log_level: str | None) -> None:
    """SIGHUP: adopt the file if it is valid, else keep running on the old config."""
    from roomagent.service.memory import thaw

    try:
        config = load_room_config(path)
    except ConfigError as exc:
        for problem in exc.problems:
            log.error(
                "config reload refused; keeping the running config", extra=kv(problem=str(problem))
            )
        return
    if cli_log_level is None:
        setup_logging(config.log.level)
    # The site's certificate files are read again on every SIGHUP (a renewed certificate
    # needs no config change); a pair that does not load keeps the current one.
    certificate = app.web.reload_tls() if app.web is not None else "no page"
    done = app.reload(config, path.parent)
    if done.startswith("restarting"):
        thaw()  # the parts frozen at start-up are about to go: their cycles must be collectable
    log.info("config reloaded", extra=kv(config=str(path), result=done, tls=certificate))


def cmd_demo(args: argparse.Namespace) -> int:
    from roomagent.demo import run_demo

    return anyio.run(run_demo, args.duration, args.web_port)
