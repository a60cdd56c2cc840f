"""What the fuzz tests share: corpora of valid frames, a mutation strategy, the input counter."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from roomagent.devices import list_profiles, load_profile, pelco, visca
from roomagent.devices.line import LineDialect
from roomagent.devices.profiles import Profile

# A fixed number of inputs per test keeps the folder's run time predictable (CI: 2 cores).
EXAMPLES = 500
LIVE_EXAMPLES = 300  # each one round-trips through a real pty or websocket
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
LIVE_FUZZ = settings(FUZZ, max_examples=LIVE_EXAMPLES)

# test name → inputs run; printed by tests/fuzz/conftest.py at the end of the run.
INPUTS: Counter[str] = Counter()


def ran(test: str) -> None:
    INPUTS[test] += 1


def profiles(family: Callable[[Profile], bool]) -> list[str]:
    return [name for name in list_profiles() if family(load_profile(name))]


LINE_PROFILES = profiles(lambda p: p.family == "line")
CAMERA_PROFILES = profiles(lambda p: p.family != "line")


def camera_corpus(profile: Profile) -> list[bytes]:
    """Valid camera → controller frames for this profile's family."""
    if profile.family == "visca":
        return [
            visca.ack(1, 1),
            visca.completion(1, 2),
            visca.completion(1, 0, bytes([0x02])),
            visca.completion(1, 0, bytes(visca.nibbles(0x1234, 4))),
            visca.error(1, 1, 0x03),
            visca.error(1, 0, 0x41),
            visca.announce(1),
            visca.address_set_reply(2),
        ]
    variant: pelco.Variant = "pelco-p" if profile.family == "pelco-p" else "pelco-d"
    return [
        pelco.preset(variant, 1, "recall", 3),
        pelco.pan_tilt(variant, 1, "left", 0x20, 0),
        pelco.zoom(variant, 1, "tele"),
        pelco.stop(variant, 1),
        pelco.power(variant, 2, True),
    ]


def panel_corpus(dialect: LineDialect) -> list[bytes]:
    """Valid panel → agent lines: button reports of every kind, acks and errors."""
    lines = [dialect.button_report(n, a) for n in (1, 7, 24) for a in ("press", "release")]
    if dialect.reports("hold"):
        lines.append(dialect.button_report(3, "hold"))
    commands = [dialect.led(1, "on")] if dialect.section.led else []
    commands += [dialect.text(1, "Ready")] if dialect.section.text else []
    for command in commands:
        lines += [dialect.ack_for(command) or "", dialect.error_for(command, 2) or ""]
    return [dialect.encode(line) for line in lines if line]


def mutate(data: bytes, edits: list[tuple[int, int, int]]) -> bytes:
    """Apply (op, position, value) edits: flip a bit, insert, delete, duplicate a slice, cut."""
    out = bytearray(data)
    for op, position, value in edits:
        at = position % (len(out) + 1)
        if op == 0 and out:
            out[at % len(out)] ^= 1 << (value % 8)
        elif op == 1:
            out.insert(at, value)
        elif op == 2 and out:
            del out[at % len(out)]
        elif op == 3:
            out[at:at] = out[at : at + 1 + value % 8]
        elif op == 4:
            del out[at:]
    return bytes(out)


EDITS = st.lists(
    st.tuples(st.integers(0, 4), st.integers(0, 4096), st.integers(0, 255)), max_size=12
)
CUTS = st.lists(st.integers(0, 4096), max_size=8)


def streams(corpus: list[bytes]) -> st.SearchStrategy[bytes]:
    """Random bytes, valid frames run together, and mutated runs of valid frames."""
    frames = st.lists(st.sampled_from(corpus), min_size=1, max_size=8).map(b"".join)
    return st.one_of(
        st.binary(max_size=300),
        frames,
        st.builds(mutate, frames, EDITS),
        st.builds(lambda a, b, c: a + b + c, frames, st.binary(max_size=40), frames),
    )


def chunked(data: bytes, cuts: list[int]) -> list[bytes]:
    """`data` split at `cuts` (as reads from a serial port arrive)."""
    points = sorted({c % (len(data) + 1) for c in cuts})
    return [data[a:b] for a, b in zip([0, *points], [*points, len(data)], strict=True)]
