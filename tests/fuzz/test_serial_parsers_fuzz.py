"""Every serial parser against random and mutated streams, for every bundled profile.

No exception escapes the framer or the decoder, every byte is accounted for (a frame, a
counted drop, or still buffered), and a valid frame after the garbage is decoded (resync).
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from roomagent.devices import load_profile, pelco, visca
from roomagent.devices.line import LineDialect
from tests.fuzz.fuzz_support import (
    CAMERA_PROFILES,
    CUTS,
    FUZZ,
    LINE_PROFILES,
    camera_corpus,
    chunked,
    panel_corpus,
    ran,
    streams,
)

# Streams per profile, built once (hypothesis strategies are lazy and reusable).
CAMERA_STREAMS = {name: streams(camera_corpus(load_profile(name))) for name in CAMERA_PROFILES}
PANEL_DIALECTS = {name: LineDialect(load_profile(name).line, 1) for name in LINE_PROFILES}  # type: ignore[arg-type]
PANEL_STREAMS = {name: streams(panel_corpus(d)) for name, d in PANEL_DIALECTS.items()}


@pytest.mark.parametrize("name", [n for n in CAMERA_PROFILES if load_profile(n).family == "visca"])
@FUZZ
@given(data=st.data(), cuts=CUTS)
def test_visca_reply_parser(name: str, data: st.DataObject, cuts: list[int]) -> None:
    ran(f"visca replies ({name})")
    stream = data.draw(CAMERA_STREAMS[name])
    framer = visca.ViscaFramer()
    framed = 0
    for part in chunked(stream, cuts):
        for frame in framer.feed(part):
            visca.decode_reply(frame)
            framed += len(frame)
    assert framed + framer.counters["dropped_bytes"] + framer.buffered == len(stream)
    good = visca.completion(1, 1, bytes([0x02]))
    # FF ends whatever header the garbage left open, as the next reply's terminator would.
    frames = framer.feed(b"\xff" + good)
    assert visca.decode_reply(frames[-1]) == visca.decode_reply(good)


@pytest.mark.parametrize("name", [n for n in CAMERA_PROFILES if load_profile(n).family != "visca"])
@FUZZ
@given(data=st.data(), cuts=CUTS)
def test_pelco_parser(name: str, data: st.DataObject, cuts: list[int]) -> None:
    ran(f"pelco frames ({name})")
    variant: pelco.Variant = "pelco-p" if name == "pelco-p" else "pelco-d"
    stream = data.draw(CAMERA_STREAMS[name])
    framer = pelco.PelcoFramer(variant)
    frames = [f for part in chunked(stream, cuts) for f in framer.feed(part)]
    size = pelco.FRAME_LEN[variant]
    total = size * len(frames) + framer.counters["dropped_bytes"] + framer.buffered
    assert total == len(stream)
    for frame in frames:
        assert frame.preset_op in (None, "set", "clear", "recall")
    good = pelco.preset(variant, 1, "recall", 42)
    recovered = framer.feed(good * 3)  # a checksum coincidence can eat one copy, not three
    assert recovered[-1] == pelco.PelcoFrame(1, 0, pelco.PRESET_OPS["recall"], 0, 42)


@pytest.mark.parametrize("name", LINE_PROFILES)
@FUZZ
@given(data=st.data(), cuts=CUTS)
def test_panel_line_parser(name: str, data: st.DataObject, cuts: list[int]) -> None:
    ran(f"panel lines ({name})")
    dialect = PANEL_DIALECTS[name]
    stream = data.draw(PANEL_STREAMS[name])
    framer = dialect.framer()
    for part in chunked(stream, cuts):
        for line in framer.feed(part):
            event = dialect.parse(line)
            assert event.kind in ("button", "ack", "error", "unknown")
            if event.kind == "button":
                assert event.button is not None and event.action is not None
        assert framer.buffered <= dialect.section.max_line
    terminator = dialect.section.terminators_in[0].encode()
    lines = framer.feed(terminator + dialect.encode(dialect.button_report(5, "press")))
    last = dialect.parse(lines[-1])
    assert (last.kind, last.button, last.action) == ("button", 5, "press")


@FUZZ
@given(st.binary(min_size=1, max_size=600))
def test_drops_are_counted(junk: bytes) -> None:
    """Pure noise: whatever is not a frame shows up in the drop counters."""
    ran("drop counters (noise)")
    framer = visca.ViscaFramer()
    frames = framer.feed(junk)
    if not frames and framer.buffered == 0:
        assert framer.counters["dropped_bytes"] + framer.counters["bad_frames"] >= 1
    line = LineDialect(load_profile("generic-ascii-keypad").line, 1).framer()  # type: ignore[arg-type]
    line.feed(junk * 3)
    if len(junk) * 3 > line.max_line and b"\n" not in junk and b"\r" not in junk:
        assert line.counters["overlong_lines"] >= 1
