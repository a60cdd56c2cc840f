"""Read a TOML config file and report every problem as `file:line: key: what is allowed`."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from roomagent.config.files import CONFIG_MAX_BYTES, FileProblem, read_text_file
from roomagent.config.locate import index_lines, locate
from roomagent.config.model import AgentConfig
from roomagent.config.problems import describe, key_name
from roomagent.config.secrets import secret_file_problems

# Checks that need other packages (the profiles exist, the actions are known), handed in by
# the caller (roomagent.app passes control.checks.CONFIG_CHECKS): config imports nothing
# above it. Each returns a list of (key path, message).
Checker = Callable[[AgentConfig, Path], list[tuple[tuple[str | int, ...], str]]]
# pydantic puts the union member's name into the error path; people never wrote those keys.
_UNION_TAGS = {"str", "list[dict[str,any]]", "int", "list[str]"}


@dataclass(frozen=True)
class ConfigProblem:
    file: str
    line: int | None
    key: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.key}: {self.message}" if self.key else f"{where}: {self.message}"


class ConfigError(Exception):
    def __init__(self, problems: list[ConfigProblem]) -> None:
        self.problems = problems
        super().__init__("; ".join(str(p) for p in problems))


def parse_config(
    text: str,
    file: str = "<config>",
    base: Path | None = None,
    *,
    checks: Sequence[Checker] = (),
) -> AgentConfig:
    """Parse and validate; then run `checks` (with `base`, the config's folder)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        m = re.search(r"\(at line (\d+), column (\d+)\)", str(exc))
        line = int(m.group(1)) if m else None
        detail = re.sub(r"\s*\(at line \d+, column \d+\)", "", str(exc))
        raise ConfigError([ConfigProblem(file, line, "", f"not valid TOML: {detail}")]) from None
    except RecursionError:  # tomllib recurses per nesting level: `a = [[[[…` 100k deep
        problem = ConfigProblem(file, None, "", "not valid TOML: nested too deeply")
        raise ConfigError([problem]) from None
    index = index_lines(text)
    try:
        config = AgentConfig.model_validate(data)
    except RecursionError:
        raise ConfigError([ConfigProblem(file, None, "", "values nested too deeply")]) from None
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = tuple(p for p in err["loc"] if p not in _UNION_TAGS)
            problems.append(
                ConfigProblem(file, locate(index, loc), key_name(loc), describe(err, AgentConfig))
            )
        raise ConfigError(problems) from None
    problems = []
    for checker in checks:
        for loc, msg in checker(config, base or Path(".")):
            problems.append(ConfigProblem(file, locate(index, loc), key_name(loc), msg))
    if problems:
        raise ConfigError(problems)
    return config


def load_config(path: Path | str, *, checks: Sequence[Checker] = ()) -> AgentConfig:
    path = Path(path)
    try:
        text, _mode = read_text_file(path, CONFIG_MAX_BYTES)
    except FileProblem as exc:
        raise ConfigError([ConfigProblem(str(path), None, "", exc.reason)]) from None
    # The secret files it names are on this disk too: checked with it, by every caller.
    checks = [secret_file_problems, *checks]
    return parse_config(text, str(path), path.parent, checks=checks)
