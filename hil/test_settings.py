"""ROOMAGENT_HIL_* parsing: what the lab types is checked before anything is opened."""

from __future__ import annotations

from pathlib import Path

import pytest

from hil.rig import HilConfigError, HilSettings, PortSpec


def test_no_variables_means_all_virtual() -> None:
    settings = HilSettings.from_env({})
    assert settings == HilSettings()
    assert settings.describe() == "HIL: Rooms simulated, camera virtual, panel virtual"


def test_port_and_profile(tmp_path: Path) -> None:
    port = tmp_path / "ttyUSB0"
    port.touch()
    settings = HilSettings.from_env(
        {
            "ROOMAGENT_HIL_PANEL": f"{port}:kramer-p3000-keypad",
            "ROOMAGENT_HIL_ROOMS_URL": "ws://10.0.0.21:6295",
            "ROOMAGENT_HIL_ROOMS_PASSWORD": "pw",
        }
    )
    assert settings.panel == PortSpec(str(port), "kramer-p3000-keypad")
    assert "pw" not in settings.describe()


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"ROOMAGENT_HIL_CAMERA": "/dev/ttyUSB0"}, "expected PORT:PROFILE"),
        ({"ROOMAGENT_HIL_CAMERA": "/nonexistent/tty:sony-visca"}, "no such port"),
        ({"ROOMAGENT_HIL_CAMERA": "/dev/null:no-such-profile"}, "ROOMAGENT_HIL_CAMERA"),
        ({"ROOMAGENT_HIL_ROOMS_URL": "ws://x"}, "ROOMAGENT_HIL_ROOMS_PASSWORD is not"),
        ({"ROOMAGENT_HIL_MEETING_CODE": "12a"}, "digits only"),
    ],
)
def test_bad_values_name_the_variable(env: dict[str, str], message: str) -> None:
    with pytest.raises(HilConfigError, match=message):
        HilSettings.from_env(env)
