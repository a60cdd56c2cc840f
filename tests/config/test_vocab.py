"""The shared vocabularies (roomagent/config/vocab.py): one enum each, the wire strings kept."""

from __future__ import annotations

import json

from roomagent.config.model import BindingSection, FeedbackSection
from roomagent.config.vocab import ButtonPhase, RoomCondition, RoomState, spoken
from roomagent.control import model, state


def test_every_room_state_is_a_feedback_condition() -> None:
    assert {s.value for s in RoomState} | {"device_offline"} == {c.value for c in RoomCondition}
    assert [c.name for c in RoomCondition][: len(RoomState)] == [s.name for s in RoomState]


def test_the_room_core_re_exports_the_one_enum() -> None:
    assert model.ButtonPhase is ButtonPhase
    assert model.RoomState is RoomState
    assert state.RoomState is RoomState


def test_config_keeps_the_toml_strings() -> None:
    binding = BindingSection.model_validate(
        {"device": "p", "button": 1, "on": "hold", "action": "meeting.leave"}
    )
    assert binding.on is ButtonPhase.HOLD
    assert BindingSection(device="p", button=1, action="x").on is ButtonPhase.PRESS
    rule = FeedbackSection.model_validate({"device": "p", "when": "device_offline", "led": 1})
    assert rule.when is RoomCondition.DEVICE_OFFLINE
    dumped = binding.model_dump(mode="json") | rule.model_dump(mode="json")
    assert json.dumps(dumped["on"]) == '"hold"' and dumped["when"] == "device_offline"
    assert json.dumps({"how": ButtonPhase.RELEASE}) == '{"how": "release"}'


def test_choices_read_as_a_sentence() -> None:
    assert spoken(ButtonPhase) == "press, hold or release"
    assert spoken(["a"]) == "a" and spoken([]) == ""
