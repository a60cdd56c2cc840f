"""`roomagent` console script: builds the parser from each concern's `register` hook."""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
from collections.abc import Sequence

from roomagent import __version__
from roomagent.cli.common import EXIT_INTERNAL, CliError, Commands, group, print_error
from roomagent.logsetup import setup_logging

# Each module exposes `register(commands)`: cli.common.Commands, with `roomagent sim …` too.
COMMAND_MODULES = (
    "roomagent.cli.rooms",
    "roomagent.cli.devices",
    "roomagent.cli.control",
    "roomagent.cli.web",
    "roomagent.cli.scheduling",
    "roomagent.cli.meetings",
    "roomagent.cli.schema",
    "roomagent.cli.fleet",
)
# The module that registers each command, so `roomagent run` imports only what the agent runs
# (the calendar's HTTP client, zeroconf's browser & co. stay out of a room box's memory unless
# configured), and `roomagent fleet status` starts quickly. tests/cli/test_main.py checks
# it against what the modules register.
COMMAND_HOMES = {
    "run": "roomagent.cli.control",
    "demo": "roomagent.cli.control",
    "check-config": "roomagent.cli.control",
    "schema": "roomagent.cli.schema",
    "fleet": "roomagent.cli.fleet",
}


def build_parser(modules: Sequence[str] = COMMAND_MODULES) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="roomagent", description="Conference-room agent: Rooms client, panels, cameras."
    )
    parser.add_argument("--version", action="version", version=f"roomagent {__version__}")
    parser.add_argument(
        "--log-level",
        default=None,
        choices=["debug", "info", "warning", "error"],
        help="log level (default: from config, else info)",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sim = group(
        sub,
        "sim",
        "run a simulated Rooms client or serial device",
        dest="sim_command",
        metavar="DEVICE",
    )
    for name in modules:
        importlib.import_module(name).register(Commands(sub, sim))
    return parser


def command_modules(argv: Sequence[str]) -> Sequence[str]:
    """Only the named command's module when it is one of COMMAND_HOMES (its own --help too);
    else every module (`roomagent --help`, usage errors and the other commands see the whole
    parser)."""
    words = iter(argv)
    for word in words:
        if word in ("-h", "--help"):
            return COMMAND_MODULES  # before any command: the top-level help lists them all
        if word == "--log-level":
            next(words, None)  # its value, not a command
        elif not word.startswith("-"):
            home = COMMAND_HOMES.get(word)
            return (home,) if home else COMMAND_MODULES
    return COMMAND_MODULES


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(command_modules(argv))
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    # One-shot commands stay quiet and log to stderr: their stdout is the result only (JSON a
    # script parses). Long-running ones set default_log_level and log to stdout (journald).
    long_running = getattr(args, "default_log_level", None) is not None
    setup_logging(
        args.log_level or getattr(args, "default_log_level", "warning"),
        sys.stdout if long_running else sys.stderr,
    )
    try:
        result = args.func(args)
        return int(result or 0)
    except CliError as exc:
        print_error(exc.message)
        return exc.code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # Output piped into `head` & co.: stop quietly, like any Unix filter.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except Exception as exc:  # last resort: never show a traceback to a user
        logging.getLogger("roomagent").debug("unhandled error", exc_info=True)
        print_error(f"internal error: {type(exc).__name__}: {exc}")
        return EXIT_INTERNAL


if __name__ == "__main__":
    sys.exit(main())
