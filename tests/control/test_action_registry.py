"""The action registry: one class per action, and a class that forgets a part fails when it
is defined, not when a person presses the button."""

from __future__ import annotations

from typing import Literal

import pytest

from roomagent.control.actions import (
    ACTION_MODELS,
    ActionModel,
    MeetingAction,
    parse_action,
)
from roomagent.control.actions.base import REGISTRY
from roomagent.control.state import RoomState


def test_every_action_is_registered_with_its_parts() -> None:
    assert list(ACTION_MODELS)[:2] == ["meeting.start", "meeting.join"]
    for name, model in ACTION_MODELS.items():
        assert model.summary(), name
        action = parse_action({"action": name, **_required(name)})
        assert action.action == name
        assert action.refusal(RoomState.IDLE, False) in (None, *_refusals())


def test_an_action_without_a_docstring_fails_at_definition() -> None:
    with pytest.raises(TypeError, match="no docstring"):

        class Nameless(ActionModel):
            action: Literal["test.nameless"]

            def refusal(self, state: RoomState, join_busy: bool) -> str | None:
                return None

            async def run(self, runner: object) -> str:  # type: ignore[override]
                return ""

    assert "test.nameless" not in REGISTRY


def test_an_action_that_forgets_how_it_runs_fails_at_definition() -> None:
    with pytest.raises(TypeError, match=r"no run\(\)"):

        class Idle(ActionModel):
            """Does nothing."""

            action: Literal["test.idle"]

            def refusal(self, state: RoomState, join_busy: bool) -> str | None:
                return None

    with pytest.raises(TypeError, match=r"no request\(\)"):

        class Mute(MeetingAction):
            """Mute the room (its Call/Meeting forgotten)."""

            action: Literal["test.mute"]

    assert not {"test.idle", "test.mute"} & set(REGISTRY)


def test_an_action_name_is_one_literal_and_used_once() -> None:
    with pytest.raises(TypeError, match="Literal"):

        class Loose(ActionModel):
            """A name that is not a literal."""

            def refusal(self, state: RoomState, join_busy: bool) -> str | None:
                return None

            async def run(self, runner: object) -> str:  # type: ignore[override]
                return ""

    with pytest.raises(TypeError, match="defined twice"):

        class Again(ActionModel):
            """meeting.start once more."""

            action: Literal["meeting.start"]

            def refusal(self, state: RoomState, join_busy: bool) -> str | None:
                return None

            async def run(self, runner: object) -> str:  # type: ignore[override]
                return ""


def _required(name: str) -> dict[str, object]:
    examples: dict[str, object] = {
        "meeting_code": "123456789",
        "switch_type": 2,
        "camera": "cam",
        "preset": 1,
        "direction": "left" if name == "camera.move" else "tele",
        "state": "on",
        "seconds": 1.0,
        "name": "Li Wei",
    }
    fields = ACTION_MODELS[name].model_fields
    found = {k: v for k, v in examples.items() if k in fields and fields[k].is_required()}
    if name == "huawei.invite":
        found["phone"] = "+8613800000000"  # one contact is required by a rule over fields
    return found


def _refusals() -> tuple[str, ...]:
    return ("Not in a meeting", "Not in the waiting room")
