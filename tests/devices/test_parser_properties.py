"""Property tests: every parser survives random and mutated streams, resyncs, bounds itself."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from roomagent.devices import load_profile, pelco, visca
from roomagent.devices.line import LineDialect, LineFramer

VALID_VISCA = [visca.ack(1, 1), visca.completion(1, 2), visca.error(1, 1, 3), visca.announce(1)]
VALID_PELCO = [pelco.preset("pelco-d", 1, "recall", n) for n in (1, 2, 200)]
chunks = st.lists(st.binary(max_size=64), max_size=30)


def _chunked(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts})
    return [data[a:b] for a, b in zip([0, *points], [*points, len(data)], strict=True)]


@settings(max_examples=300, deadline=None)
@given(chunks)
def test_visca_framer_random_bytes(parts: list[bytes]) -> None:
    framer = visca.ViscaFramer()
    total = framed = 0
    for part in parts:
        total += len(part)
        for frame in framer.feed(part):
            assert frame[0] >= 0x80 and frame[-1] == 0xFF and 3 <= len(frame) <= 16
            visca.decode_reply(frame)  # never raises
            framed += len(frame)
        assert framer.buffered < visca.MAX_FRAME
    # Every byte is accounted for: in a frame, counted as dropped, or still buffered.
    assert framed + framer.counters["dropped_bytes"] + framer.buffered == total


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=40), st.lists(st.integers(0, 200), max_size=6), st.integers(0, 3))
def test_visca_framer_resyncs_after_garbage(garbage: bytes, cuts: list[int], pick: int) -> None:
    framer = visca.ViscaFramer()
    good = VALID_VISCA[pick]
    # Garbage may leave an unterminated header open: a real frame ends it within 16 bytes
    stream = garbage + b"\xff" + good + good
    frames = [f for part in _chunked(stream, cuts) for f in framer.feed(part)]
    assert frames[-1] == good
    assert frames.count(good) >= 1


@settings(max_examples=300, deadline=None)
@given(chunks)
def test_pelco_framer_random_bytes(parts: list[bytes]) -> None:
    for variant in ("pelco-d", "pelco-p"):
        framer = pelco.PelcoFramer(variant)
        size = pelco.FRAME_LEN[variant]
        framed = 0
        for part in parts:
            framed += size * len(framer.feed(part))
            assert framer.buffered < size
        total = sum(len(p) for p in parts)
        assert framed + framer.counters["dropped_bytes"] + framer.buffered == total


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=40), st.lists(st.integers(0, 200), max_size=6))
def test_pelco_framer_resyncs_after_garbage(garbage: bytes, cuts: list[int]) -> None:
    framer = pelco.PelcoFramer("pelco-d")
    stream = garbage + b"".join(VALID_PELCO) * 2
    frames = [f for part in _chunked(stream, cuts) for f in framer.feed(part)]
    # The last three frames are always recovered, whatever came before them.
    assert [f.data2 for f in frames[-3:]] == [1, 2, 200]


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.sampled_from(VALID_PELCO), min_size=1, max_size=5),
    st.integers(0, 34),
    st.integers(0, 255),
)
def test_pelco_mutated_stream_counts_bad_checksums(
    frames: list[bytes], index: int, value: int
) -> None:
    stream = bytearray(b"".join(frames))
    index %= len(stream)
    changed = stream[index] != value
    stream[index] = value
    framer = pelco.PelcoFramer("pelco-d")
    out = framer.feed(bytes(stream) + VALID_PELCO[0])
    assert out[-1].data2 == 1
    if not changed:
        assert len(out) == len(frames) + 1


@settings(max_examples=200, deadline=None)
@given(chunks)
def test_line_framer_random_bytes(parts: list[bytes]) -> None:
    framer = LineFramer((b"\r\n", b"\r", b"\n"), max_line=64)
    for part in parts:
        for line in framer.feed(part):
            assert 0 < len(line.encode("ascii", errors="replace")) <= 64 * 4
        assert framer.buffered <= 64


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300), st.lists(st.integers(0, 400), max_size=6))
def test_line_dialects_survive_garbage_and_resync(garbage: bytes, cuts: list[int]) -> None:
    for name in ("kramer-p3000-keypad", "lutron-seetouch-keypad", "generic-ascii-keypad"):
        section = load_profile(name).line
        assert section is not None
        dialect = LineDialect(section, 1)
        framer = dialect.framer()
        report = dialect.encode(dialect.button_report(7, "press"))
        stream = garbage + b"\r\n" + report
        events = [dialect.parse(x) for p in _chunked(stream, cuts) for x in framer.feed(p)]
        assert (events[-1].kind, events[-1].button, events[-1].action) == ("button", 7, "press")
