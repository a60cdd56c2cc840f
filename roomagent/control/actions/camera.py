"""Camera actions: commands of the common camera vocabulary (roomagent.devices.camera)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import Field

from roomagent.control.actions.base import ActionModel, required
from roomagent.control.state import RoomState

if TYPE_CHECKING:
    from roomagent.control.actions.runner import ActionRunner

Command = tuple[str, list[Any]]


class _CameraAction(ActionModel):
    device_kind: ClassVar[str | None] = "camera"
    camera: str

    def refusal(self, state: RoomState, join_busy: bool) -> str | None:
        return None  # a camera does not need the Rooms client

    @required
    def commands(self) -> tuple[Command, Command | None]:
        """The device command, and the stop that must follow a movement."""
        raise NotImplementedError

    async def run(self, runner: ActionRunner) -> str:
        (command, args), _ = self.commands()
        return await runner.host.camera_command(self.camera, command, args)


class _HeldAction(_CameraAction):
    """Held on a button: move on press, stop on release. Elsewhere: move for `seconds`."""

    held: ClassVar[bool] = True
    seconds: float = Field(default=0.5, gt=0, le=10)

    async def run(self, runner: ActionRunner) -> str:
        return await runner.timed_move(self)


class CameraPreset(_CameraAction):
    """Recall a camera preset (mode "set" stores the current position under it)."""

    action: Literal["camera.preset"]
    preset: int = Field(ge=0, le=255)
    mode: Literal["recall", "set"] = "recall"

    def newest_wins(self) -> bool:
        return self.mode == "recall"  # storing a preset is not aiming the camera

    def commands(self) -> tuple[Command, Command | None]:
        return (f"preset_{self.mode}", [self.preset]), None


class CameraMove(_HeldAction):
    """Pan/tilt while the button is held (elsewhere: for `seconds`)."""

    action: Literal["camera.move"]
    direction: Literal[
        "left", "right", "up", "down", "up_left", "up_right", "down_left", "down_right"
    ]
    speed: int | None = Field(
        default=None, ge=0, le=63, description="a speed 0-63 within the camera profile's range"
    )

    def commands(self) -> tuple[Command, Command | None]:
        speeds = [] if self.speed is None else [self.speed, self.speed]
        return ("pt_drive", [self.direction, *speeds]), ("pt_stop", [])


class CameraZoom(_HeldAction):
    """Zoom while the button is held (elsewhere: for `seconds`)."""

    action: Literal["camera.zoom"]
    direction: Literal["tele", "wide"]
    speed: int | None = Field(default=None, ge=0, le=7)

    def commands(self) -> tuple[Command, Command | None]:
        speed = [] if self.speed is None else [self.speed]
        return (f"zoom_{self.direction}", speed), ("zoom_stop", [])


class CameraStop(_CameraAction):
    """Stop pan/tilt and zoom (for an API client that drives moves itself)."""

    action: Literal["camera.stop"]

    def commands(self) -> tuple[Command, Command | None]:
        return ("pt_stop", []), ("zoom_stop", [])

    async def run(self, runner: ActionRunner) -> str:
        (command, args), stop = self.commands()
        assert stop is not None
        try:  # both stops, each sent whatever happened to the other
            await runner.host.camera_command(self.camera, command, args)
        finally:
            await runner.host.camera_command(self.camera, *stop)
        return "stopped"


class CameraHome(_CameraAction):
    """Move the camera to its home position."""

    action: Literal["camera.home"]

    def newest_wins(self) -> bool:
        return True

    def commands(self) -> tuple[Command, Command | None]:
        return ("home", []), None


class CameraPower(_CameraAction):
    """Switch the camera on or off."""

    action: Literal["camera.power"]
    state: Literal["on", "off"]

    def commands(self) -> tuple[Command, Command | None]:
        return (f"power_{self.state}", []), None


CameraAction = _CameraAction
HeldAction = _HeldAction
