"""What every sub-command shares: one-line errors with documented exit codes, and how a
concern's `register(commands)` adds its sub-commands."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NoReturn

from roomagent.logsetup import escape_controls

# Exit codes shared by the CLI contracts in the issues.
EXIT_OK = 0
EXIT_FAILED = 1  # refused, device error, timeout, validation
EXIT_UNREACHABLE = 2  # cannot reach the peer / open the port
EXIT_AUTH = 3  # authentication failed
EXIT_INTERNAL = 70


class CliError(Exception):
    """An error the user sees as one line on stderr, with a documented exit code."""

    def __init__(self, message: str, code: int = EXIT_FAILED) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


def fail(message: str, code: int = EXIT_FAILED) -> NoReturn:
    raise CliError(message, code)


def print_error(message: str) -> None:
    # Collapse to a single line: a traceback or a multi-line vendor message must not leak out.
    one_line = escape_controls(" ".join(str(message).split()))
    print(f"roomagent: error: {one_line}", file=sys.stderr)


Handler = Callable[[argparse.Namespace], int | None]


def command(
    where: Any,
    name: str,
    func: Handler,
    help: str,
    description: str | None = None,
    epilog: str | None = None,
    **defaults: Any,
) -> argparse.ArgumentParser:
    """One sub-command of `where` (argparse's sub-parsers) run by `func(args)`; `defaults`
    such as `default_log_level="info"` (a long-running command logs to stdout) go with it."""
    parser: argparse.ArgumentParser = where.add_parser(
        name, help=help, description=description, epilog=epilog
    )
    parser.set_defaults(func=func, **defaults)
    return parser


def group(
    where: Any, name: str, help: str, description: str | None = None, *, dest: str, metavar: str
) -> Any:
    """A sub-command that holds sub-commands (`roomagent fleet status`): its sub-parsers, one
    of which must be named."""
    parser = where.add_parser(name, help=help, description=description)
    subs = parser.add_subparsers(dest=dest, metavar=metavar)
    subs.required = True
    return subs


@dataclass(frozen=True)
class Commands:
    """Where a concern's `register(commands)` adds its sub-commands: `roomagent NAME` and
    `roomagent sim NAME`."""

    top: Any  # argparse's sub-parsers (a private type)
    sim: Any

    def add(
        self, name: str, func: Handler, help: str, description: str | None = None, **kw: Any
    ) -> argparse.ArgumentParser:
        return command(self.top, name, func, help, description, **kw)

    def add_sim(
        self, name: str, func: Handler, help: str, description: str | None = None, **kw: Any
    ) -> argparse.ArgumentParser:
        return command(self.sim, name, func, help, description, **kw)


def config_arg(
    parser: argparse.ArgumentParser, help: str = "agent config file (TOML)", **kw: Any
) -> None:
    """The `--config` most commands read."""
    parser.add_argument("--config", required=True, help=help, **kw)
