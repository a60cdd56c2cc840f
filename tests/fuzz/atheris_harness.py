"""Coverage-guided fuzzing (atheris / libFuzzer) of the serial parsers and the Rooms inbound
parser, beside the hypothesis tests. Optional: needs `pip install atheris`.

    python3 tests/fuzz/atheris_harness.py -runs=200000      # libFuzzer flags as usual
    python3 tests/fuzz/atheris_harness.py -max_total_time=600 corpus_dir/

Any exception escaping a parser is a crash libFuzzer reports with the input that caused it.
"""

from __future__ import annotations

import sys

import atheris

with atheris.instrument_imports(include=["roomagent"]):
    from roomagent.devices import load_profile, pelco, visca
    from roomagent.devices.line import LineDialect
    from roomagent.rooms.protocol import parse_frame

DIALECTS = [
    LineDialect(load_profile(name).line, 1)  # type: ignore[arg-type]
    for name in ("generic-ascii-keypad", "kramer-p3000-keypad", "lutron-seetouch-keypad")
]


def visca_replies(data: bytes) -> None:
    for frame in visca.ViscaFramer().feed(data):
        visca.decode_reply(frame)


def pelco_frames(data: bytes) -> None:
    variants: tuple[pelco.Variant, ...] = ("pelco-d", "pelco-p")
    for variant in variants:
        for frame in pelco.PelcoFramer(variant).feed(data):
            assert frame.preset_op in (None, "set", "clear", "recall")


def panel_lines(data: bytes) -> None:
    for dialect in DIALECTS:
        for line in dialect.framer().feed(data):
            dialect.parse(line)


def rooms_frames(data: bytes) -> None:
    parse_frame(data)
    parse_frame(data.decode("utf-8", "replace"))


TARGETS = (visca_replies, pelco_frames, panel_lines, rooms_frames)


def one_input(data: bytes) -> None:
    if not data:
        return
    TARGETS[data[0] % len(TARGETS)](data[1:])


if __name__ == "__main__":
    atheris.Setup(sys.argv, one_input)
    atheris.Fuzz()
