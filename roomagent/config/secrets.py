"""Secrets come from the environment or a file, never from argv or the config text itself.

A secret file is a small regular text file holding the secret on one line (read with
roomagent.config.files: /dev/zero, a FIFO or a binary is refused, not read). Several lines
mean the key names the wrong file (/etc/shadow, a log): refused, so nothing of it is sent.
A file others may read is used, with a warning.
"""

from __future__ import annotations

import logging
import os
import re
import stat
from pathlib import Path
from typing import Any

from roomagent.config.files import SECRET_MAX_BYTES, FileProblem, read_text_file
from roomagent.logsetup import kv, register_secret

log = logging.getLogger("roomagent.config")

# The config keys that name secret files (rooms.password_file, calendar.*.token_file, …).
_SECRET_FILE_KEY = re.compile(r"^(?:.*_)?(password|token|secret)_file$")


class SecretUnavailable(Exception):
    pass


def secret_from_file(path: Path, what: str) -> str:
    """The secret in `path`; SecretUnavailable names the file and what is wrong with it."""
    try:
        text, mode = read_text_file(path, SECRET_MAX_BYTES)
    except FileProblem as exc:
        raise SecretUnavailable(f"{what}: {exc}") from None
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if len(lines) > 1:
        raise SecretUnavailable(
            f"{what}: {path} holds {len(lines)} lines; a secret file holds the secret alone"
        )
    if mode & stat.S_IROTH:
        log.warning(
            "secret file readable by every user: chmod o-r it",
            extra=kv(what=what, file=str(path)),
        )
    return lines[0] if lines else ""


def read_secret(env: str | None, file: Path | str | None, *, what: str) -> str | None:
    """Return the secret from `file` (its one line) or environment variable `env`, or None.

    Errors name where we looked, never the value.
    """
    if file:
        value = secret_from_file(Path(file), what)
        register_secret(value)
        return value
    if env:
        from_env = os.environ.get(env)
        register_secret(from_env)
        return from_env
    return None


def _secret_files(data: Any, loc: tuple[str | int, ...]) -> list[tuple[tuple[str | int, ...], str]]:
    found: list[tuple[tuple[str | int, ...], str]] = []
    if isinstance(data, dict):
        for key, value in data.items():
            if _SECRET_FILE_KEY.match(str(key)) and isinstance(value, str) and value:
                found.append(((*loc, key), value))
            else:
                found.extend(_secret_files(value, (*loc, key)))
    elif isinstance(data, list):
        for n, value in enumerate(data):
            found.extend(_secret_files(value, (*loc, n)))
    return found


def secret_file_problems(config: Any, base: Path) -> list[tuple[tuple[str | int, ...], str]]:
    """A config check: every secret file the config names can be read as one (relative
    paths from the config's folder, as the agent reads them). Also warns about modes."""
    problems: list[tuple[tuple[str | int, ...], str]] = []
    for loc, name in _secret_files(config.model_dump(mode="json"), ()):
        path = Path(name) if Path(name).is_absolute() else base / name
        try:
            secret_from_file(path, ".".join(str(part) for part in loc))
        except SecretUnavailable as exc:
            problems.append((loc, str(exc).split(": ", 1)[1]))
    return problems
