"""Secrets come from the environment or a file, never from argv or the config text itself."""

from __future__ import annotations

import os
from pathlib import Path

from roomagent.logsetup import register_secret


class SecretUnavailable(Exception):
    pass


def read_secret(env: str | None, file: Path | str | None, *, what: str) -> str | None:
    """Return the secret from `file` (first line) or environment variable `env`, or None.

    Errors name where we looked, never the value.
    """
    if file:
        path = Path(file)
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            raise SecretUnavailable(f"{what}: cannot read {path}: {exc.strerror}") from None
        value = lines[0].strip() if lines else ""
        register_secret(value)
        return value
    if env:
        from_env = os.environ.get(env)
        register_secret(from_env)
        return from_env
    return None
