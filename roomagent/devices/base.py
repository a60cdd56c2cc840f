"""What every driver shares: the event type, the link to the device, the command vocabulary."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from roomagent.config.vocab import ButtonPhase
from roomagent.devices.errors import CommandUsageError
from roomagent.devices.profiles import Profile, Range

# "shown": a panel now shows a new LED state or text line (the agent mirrors it on the page).
EventKind = Literal["online", "offline", "button", "ack", "error", "shown"]


@dataclass(frozen=True)
class DeviceEvent:
    kind: EventKind
    button: int | None = None
    action: ButtonPhase | None = None
    detail: str = ""


class Framer(Protocol):
    """A family's stream splitter (VISCA, Pelco, line): counters survive a reopen."""

    counters: dict[str, int]

    def clear(self) -> None: ...


class Link(Protocol):
    """What a driver may do to its device: write, report, and declare the device gone."""

    async def write(self, data: bytes) -> None: ...

    def emit(self, event: DeviceEvent) -> None: ...

    def lost(self, reason: str) -> None: ...

    def restart(self, reason: str) -> None: ...

    def spawn(self, func: Callable[[], Coroutine[Any, Any, None]]) -> None: ...


@dataclass(frozen=True)
class CommandSpec:
    """One command of the common vocabulary: its arguments (name, range or choices)."""

    name: str
    args: tuple[str, ...] = ()  # "N", "[SPEED]", "on|off|blink", "STRING"…
    help: str = ""

    @property
    def usage(self) -> str:
        return " ".join((self.name, *self.args))


def parse_int(what: str, value: Any, allowed: Range) -> int:
    try:
        number = int(str(value), 0)
    except ValueError:
        raise CommandUsageError(f"{what} must be a number (got {value!r})") from None
    if not allowed.contains(number):
        raise CommandUsageError(f"{what} must be {allowed.min}–{allowed.max} (got {number})")
    return number


def usage_list(specs: Sequence[CommandSpec]) -> str:
    return "; ".join(s.usage for s in specs)


def check_arity(spec: CommandSpec, args: Sequence[Any]) -> None:
    required = [a for a in spec.args if not a.startswith("[")]
    if not len(required) <= len(args) <= len(spec.args):
        given = {0: "no arguments", 1: "1 argument"}.get(len(args), f"{len(args)} arguments")
        raise CommandUsageError(f"usage: {spec.usage} (got {given})")


def unknown_command(kind: str, name: str, specs: Sequence[CommandSpec]) -> CommandUsageError:
    """The problem and at most a few likely meant commands, not the whole vocabulary."""
    import difflib  # lazy for memory (~0.2 MiB): only a mistyped command needs it

    names = [s.name for s in specs]
    close = difflib.get_close_matches(name, names, n=3, cutoff=0.6)
    close += [n for n in names if name and n.startswith(name) and n not in close][: 3 - len(close)]
    hint = f"; did you mean {' or '.join(close)}?" if close else ""
    return CommandUsageError(f"unknown {kind} command {name!r}{hint}")


class Driver(ABC):
    """Maps the common command vocabulary to one protocol family over a Link."""

    kind: Literal["camera", "panel"]
    specs: Sequence[CommandSpec] = ()
    framer: Framer

    def __init__(self, profile: Profile, address: int, link: Link) -> None:
        self.profile = profile
        self.address = address
        self.link = link
        self.counters: dict[str, int] = {"errors": 0, "timeouts": 0, "commands": 0}

    def spec(self, name: str, args: Sequence[Any]) -> CommandSpec:
        spec = next((s for s in self.specs if s.name == name), None)
        if spec is None:
            raise unknown_command(self.kind, name, self.specs)
        check_arity(spec, args)
        return spec

    @abstractmethod
    def prepare(self, name: str, args: Sequence[Any], kw: dict[str, Any]) -> Any:
        """Check a command and its arguments (CommandUsageError) before anything is sent."""

    @abstractmethod
    async def execute(self, prepared: Any) -> dict[str, Any]:
        """Send a prepared command and wait for its outcome (DeviceError…)."""

    @abstractmethod
    def feed(self, data: bytes) -> None:
        """Bytes read from the port."""

    async def start_up(self) -> None:
        """The profile's start-up sequence, run after every (re)open."""
        return None

    async def background(self) -> None:
        """Work while connected (keepalive); returns when there is none."""
        return None

    def reset(self) -> None:
        """The port was (re)opened: forget partial frames and per-connection state."""
        self.framer.clear()

    @abstractmethod
    def fail_pending(self, reason: str) -> None:
        """Fail every queued or running command (never replayed later)."""

    def all_counters(self) -> dict[str, int]:
        return {**self.counters, **self.framer.counters}
