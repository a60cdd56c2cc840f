"""What every sub-command shares: one-line errors with documented exit codes."""

from __future__ import annotations

import sys
from typing import NoReturn

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
