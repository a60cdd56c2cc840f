"""Pure codec tests: exact bytes, decoding, checksums, templates (no I/O)."""

from __future__ import annotations

import pytest

from roomagent.config.vocab import ButtonPhase
from roomagent.devices import load_profile, pelco, visca
from roomagent.devices.errors import CommandUsageError
from roomagent.devices.line import LineDialect, LineFramer

H = bytes.fromhex


@pytest.mark.parametrize(
    ("frame", "expected"),
    [
        (visca.power(1, True), "81 01 04 00 02 FF"),
        (visca.power(1, False), "81 01 04 00 03 FF"),
        (visca.zoom(1, "stop"), "81 01 04 07 00 FF"),
        (visca.zoom(1, "tele"), "81 01 04 07 02 FF"),
        (visca.zoom(1, "wide"), "81 01 04 07 03 FF"),
        (visca.zoom(1, "tele", 5), "81 01 04 07 25 FF"),
        (visca.zoom(1, "wide", 7), "81 01 04 07 37 FF"),
        (visca.zoom_direct(1, 0x1234), "81 01 04 47 01 02 03 04 FF"),
        (visca.focus_mode(1, "auto"), "81 01 04 38 02 FF"),
        (visca.focus_mode(1, "manual"), "81 01 04 38 03 FF"),
        (visca.focus_mode(1, "one_push"), "81 01 04 18 01 FF"),
        (visca.pan_tilt(1, "up", 0x0C, 0x0A), "81 01 06 01 0C 0A 03 01 FF"),
        (visca.pan_tilt(1, "down", 1, 2), "81 01 06 01 01 02 03 02 FF"),
        (visca.pan_tilt(1, "left", 1, 2), "81 01 06 01 01 02 01 03 FF"),
        (visca.pan_tilt(1, "right", 1, 2), "81 01 06 01 01 02 02 03 FF"),
        (visca.pan_tilt(1, "up_left", 1, 2), "81 01 06 01 01 02 01 01 FF"),
        (visca.pan_tilt(1, "down_right", 1, 2), "81 01 06 01 01 02 02 02 FF"),
        (visca.pan_tilt(1, "stop", 1, 1), "81 01 06 01 01 01 03 03 FF"),
        (visca.home(1), "81 01 06 04 FF"),
        (visca.preset(1, "reset", 4), "81 01 04 3F 00 04 FF"),
        (visca.preset(1, "set", 4), "81 01 04 3F 01 04 FF"),
        (visca.preset(1, "recall", 3), "81 01 04 3F 02 03 FF"),
        (visca.if_clear(2), "82 01 00 01 FF"),
        (visca.ADDRESS_SET, "88 30 01 FF"),
        (visca.IF_CLEAR_BROADCAST, "88 01 00 01 FF"),
        (visca.inquiry(1, "power"), "81 09 04 00 FF"),
        (visca.inquiry(1, "zoom"), "81 09 04 47 FF"),
        (visca.inquiry(1, "focus_mode"), "81 09 04 38 FF"),
        (visca.inquiry(1, "pan_tilt"), "81 09 06 12 FF"),
        (visca.inquiry(1, "version"), "81 09 00 02 FF"),
    ],
)
def test_visca_encoders_exact_bytes(frame: bytes, expected: str) -> None:
    assert frame == H(expected)


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        (0x01, "message length error"),
        (0x02, "syntax error"),
        (0x03, "command buffer full"),
        (0x04, "command cancelled"),
        (0x05, "no socket"),
        (0x41, "command not executable"),
    ],
)
def test_visca_error_replies_decode_to_reasons(code: int, reason: str) -> None:
    reply = visca.decode_reply(bytes([0x90, 0x61, code, 0xFF]))
    assert (reply.kind, reply.socket, reply.reason) == ("error", 1, reason)


def test_visca_reply_kinds() -> None:
    assert visca.decode_reply(H("90 41 FF")).kind == "ack"
    c = visca.decode_reply(H("A0 52 FF"))
    assert (c.kind, c.address, c.socket) == ("completion", 2, 2)
    assert visca.decode_reply(H("90 38 FF")).kind == "announce"
    assert visca.decode_reply(H("88 30 02 FF")).kind == "address_set"
    assert visca.decode_reply(H("90 7F 00 FF")).kind == "other"


def test_visca_inquiry_answers_decode() -> None:
    assert visca.decode_inquiry("power", H("02")) == {"power": "on"}
    assert visca.decode_inquiry("power", H("03")) == {"power": "off"}
    assert visca.decode_inquiry("zoom", H("01 02 03 04")) == {"zoom": 0x1234}
    assert visca.decode_inquiry("focus_mode", H("03")) == {"focus": "manual"}
    pt = visca.decode_inquiry("pan_tilt", H("0F 0F 0F 0E 00 00 01 00"))
    assert pt == {"pan": -2, "tilt": 0x10}
    version = visca.decode_inquiry("version", H("00 20 05 1A 01 00 02"))
    assert version == {"vendor": "0020", "model": "051A", "rom": "0100", "sockets": 2}


@pytest.mark.parametrize(
    ("frame", "expected"),
    [
        (pelco.preset("pelco-d", 1, "recall", 1), "FF 01 00 07 00 01 09"),
        (pelco.preset("pelco-d", 1, "set", 5), "FF 01 00 03 00 05 09"),
        (pelco.preset("pelco-d", 2, "clear", 5), "FF 02 00 05 00 05 0C"),
        (pelco.stop("pelco-d", 1), "FF 01 00 00 00 00 01"),
        (pelco.pan_tilt("pelco-d", 1, "right", 0x20, 0x10), "FF 01 00 02 20 00 23"),
        (pelco.pan_tilt("pelco-d", 1, "up", 0x20, 0x10), "FF 01 00 08 00 10 19"),
        (pelco.pan_tilt("pelco-d", 1, "down_left", 0x20, 0x10), "FF 01 00 14 20 10 45"),
        (pelco.zoom("pelco-d", 1, "tele"), "FF 01 00 20 00 00 21"),
        (pelco.zoom("pelco-d", 1, "wide"), "FF 01 00 40 00 00 41"),
        (pelco.focus("pelco-d", 1, "near"), "FF 01 01 00 00 00 02"),
        (pelco.focus("pelco-d", 1, "far"), "FF 01 00 80 00 00 81"),
        (pelco.power("pelco-d", 1, True), "FF 01 88 00 00 00 89"),
        (pelco.preset("pelco-p", 0, "recall", 1), "A0 00 00 07 00 01 AF 09"),
        (pelco.stop("pelco-p", 1), "A0 01 00 00 00 00 AF 0E"),
    ],
)
def test_pelco_exact_bytes(frame: bytes, expected: str) -> None:
    assert frame == H(expected)


def test_pelco_framer_checks_checksums_and_resyncs() -> None:
    framer = pelco.PelcoFramer("pelco-d")
    good = H("FF 01 00 07 00 01 09")
    frames = framer.feed(H("00 13 FF 01 00 07 00 01 0A") + good)
    assert frames == [pelco.PelcoFrame(1, 0, 7, 0, 1)]
    assert framer.counters["bad_checksums"] == 1
    assert frames[0].preset_op == "recall"


@pytest.mark.parametrize(
    ("profile", "led", "text"),
    [
        ("kramer-p3000-keypad", "#01@RGB 2,255,0,0,2", '#01@LCD 1,"Hi there"'),
        ("lutron-seetouch-keypad", "#DEVICE,1,82,9,2", None),
        ("generic-ascii-keypad", "LED 2 BLINK", "TEXT 1 Hi there"),
    ],
)
def test_line_templates_render_and_round_trip(profile: str, led: str, text: str | None) -> None:
    p = load_profile(profile)
    assert p.line is not None
    dialect = LineDialect(p.line, 1)
    colour = "red" if profile.startswith("kramer") else None
    assert dialect.led(2, "blink", colour) == led
    assert dialect.match_led(led) == (2, "blink", colour)
    if text is None:
        with pytest.raises(CommandUsageError, match="no text display"):
            dialect.text(1, "Hi")
    else:
        assert dialect.text(1, 'Hi "there"\r\n') == text
        assert dialect.match_text(text) == (1, "Hi there")


@pytest.mark.parametrize(
    ("profile", "line", "kind", "button", "action"),
    [
        ("kramer-p3000-keypad", "~01@BTN 3,1,P", "button", 3, "press"),
        ("kramer-p3000-keypad", "~01@BTN 3,1,H", "button", 3, "hold"),
        ("kramer-p3000-keypad", "~01@BTN 3,1,R", "button", 3, "release"),
        ("kramer-p3000-keypad", "~01@RGB 1,0,255,0,1 OK", "ack", None, None),
        ("lutron-seetouch-keypad", "~DEVICE,1,4,3", "button", 4, "press"),
        ("lutron-seetouch-keypad", "~DEVICE,1,4,5", "button", 4, "hold"),
        ("lutron-seetouch-keypad", "~DEVICE,1,4,4", "button", 4, "release"),
        ("generic-ascii-keypad", "BTN 12 PRESS", "button", 12, "press"),
        ("generic-ascii-keypad", "BTN 12 RELEASE", "button", 12, "release"),
        ("generic-ascii-keypad", "OK", "ack", None, None),
        ("generic-ascii-keypad", "hello", "unknown", None, None),
    ],
)
def test_line_inbound_events(
    profile: str, line: str, kind: str, button: int | None, action: str | None
) -> None:
    p = load_profile(profile)
    assert p.line is not None
    ev = LineDialect(p.line, 1).parse(line)
    assert (ev.kind, ev.button, ev.action) == (kind, button, action)
    # The panel reports the shared vocabulary's member, not a string copy of it.
    assert ev.action is (None if action is None else ButtonPhase(action))


def test_line_error_codes_decode() -> None:
    kramer = load_profile("kramer-p3000-keypad").line
    generic = load_profile("generic-ascii-keypad").line
    assert kramer is not None and generic is not None
    ev = LineDialect(kramer, 1).parse("~01@RGB 1,0,0,0,9 ERR 003")
    assert (ev.kind, ev.reason) == ("error", "parameter out of range (ERR 003)")
    assert LineDialect(generic, 1).parse("ERR 77").reason == "panel error ERR 77"


def test_line_framer_splits_any_terminator_and_drops_overlong() -> None:
    framer = LineFramer((b"\r\n", b"\r", b"\n"), max_line=16)
    assert framer.feed(b"A\r") == ["A"]
    assert framer.feed(b"\nB\nC\r\n") == ["B", "C"]
    assert framer.feed(b"x" * 40) == []
    assert framer.feed(b"tail\r\nD\r\n") == ["D"]
    assert framer.counters["overlong_lines"] == 1
    assert framer.counters["dropped_bytes"] == 44
