"""Config checks for `[[bindings]]` and `[[feedback]]` that need to know the actions and the
devices' kinds. `CONFIG_CHECKS` is what the app hands to `roomagent.config.loader.load_config`
(and so what `check-config` runs): the devices' profile checks and these.
"""

from __future__ import annotations

import string
from pathlib import Path
from typing import Any, Literal

from roomagent.config.model import AgentConfig, BindingSection, FeedbackSection
from roomagent.config.vocab import FLEET_PRESS, ButtonPhase
from roomagent.control.actions import (
    ACTION_MODELS,
    HELD_ACTIONS,
    CameraAction,
    param_problems,
    parse_action,
)
from roomagent.control.state import TEMPLATE_FIELDS
from roomagent.devices.checks import (
    button_problem,
    command_problem,
    device_profile,
    profile_problems,
)
from roomagent.devices.errors import ProfileError
from roomagent.devices.profiles import Profile

Problem = tuple[tuple[str | int, ...], str]
Kind = Literal["camera", "panel"]
# The key a camera's refusal points at (the rest point at `action`).
CAMERA_PARAM = {"camera.preset": "preset", "camera.move": "speed", "camera.zoom": "speed"}


def device_kinds(config: AgentConfig, base_dir: Path) -> dict[str, Kind | None]:
    """Each device's kind from its profile; None when the profile does not load (the
    devices' own check reports that)."""
    profiles = _profiles(config, base_dir)
    return {
        d.name: profiles[d.name][0].kind if d.name in profiles else None for d in config.devices
    }


def _names(kinds: dict[str, Kind | None], kind: Kind) -> str:
    return ", ".join(n for n, k in kinds.items() if k == kind) or "none configured"


def _step_problems(
    step: dict[str, Any], where: tuple[str | int, ...], kinds: dict[str, Kind | None], macro: bool
) -> list[Problem]:
    found = param_problems(step, strict=True)
    problems: list[Problem] = [((*where, *key), msg) for key, msg in found]
    name = step.get("action")
    model = ACTION_MODELS.get(name) if isinstance(name, str) else None
    if model is not None and model.macro_only and not macro:
        msg = f"{name} only makes sense inside a macro (a list)"
        problems.append(((*where, "action"), msg))
    camera = step.get("camera")
    if model is not None and isinstance(camera, str) and model.device_kind == "camera":
        if camera not in kinds:
            msg = f"unknown camera {camera!r}; cameras: {_names(kinds, 'camera')}"
            problems.append(((*where, "camera"), msg))
        elif kinds[camera] == "panel":
            msg = f"{camera!r} is a panel, not a camera; cameras: {_names(kinds, 'camera')}"
            problems.append(((*where, "camera"), msg))
    return problems


def _binding_problems(config: AgentConfig, kinds: dict[str, Kind | None]) -> list[Problem]:
    problems: list[Problem] = []
    seen: dict[tuple[str, int, str], int] = {}
    for i, binding in enumerate(config.bindings):
        where: tuple[str | int, ...] = ("bindings", i)
        if binding.device not in kinds:
            devices = ", ".join(kinds) or "none configured"
            msg = f"unknown device {binding.device!r}; devices: {devices}"
            problems.append(((*where, "device"), msg))
        elif kinds[binding.device] == "camera":
            msg = f"{binding.device!r} is a camera; buttons come from panels: "
            problems.append(((*where, "device"), msg + _names(kinds, "panel")))
        key = (binding.device, binding.button, binding.on)
        if key in seen:
            msg = (
                f"button {binding.button} on {binding.on} is already bound in bindings[{seen[key]}]"
            )
            problems.append(((*where, "button"), msg))
        seen.setdefault(key, i)
        if isinstance(binding.action, str):
            step = {"action": binding.action, **binding.params()}
            problems += _step_problems(step, where, kinds, macro=False)
            if binding.action in HELD_ACTIONS and binding.on == ButtonPhase.RELEASE:
                msg = f"{binding.action} moves while the button is held; bind it on press or hold"
                problems.append(((*where, "on"), msg))
            continue
        if binding.params():
            extra = ", ".join(binding.params())
            msg = f"a macro's parameters go inside each step; move {extra} into the steps"
            problems.append(((*where, next(iter(binding.params()))), msg))
        if not binding.action:
            problems.append(((*where, "action"), "a macro needs at least one step"))
        for j, step in enumerate(binding.action):
            problems += _step_problems(step, (*where, "action", j), kinds, macro=True)
    return problems


def _feedback_problems(config: AgentConfig, kinds: dict[str, Kind | None]) -> list[Problem]:
    problems: list[Problem] = []
    allowed = ", ".join(f"{{{f}}}" for f in TEMPLATE_FIELDS)
    for i, rule in enumerate(config.feedback):
        where: tuple[str | int, ...] = ("feedback", i)
        if rule.device not in kinds:
            msg = f"unknown device {rule.device!r}; panels: {_names(kinds, 'panel')}"
            problems.append(((*where, "device"), msg))
        elif kinds[rule.device] == "camera":
            msg = f"{rule.device!r} is a camera; feedback goes to panels: {_names(kinds, 'panel')}"
            problems.append(((*where, "device"), msg))
        if rule.text_line is not None and rule.text is None:
            problems.append(((*where, "text"), "text_line needs a `text` template"))
        if rule.text is not None and rule.text_line is None:
            problems.append(((*where, "text_line"), "`text` needs a `text_line` to show it on"))
        if rule.text is not None:
            try:
                fields = [f for _, f, _, _ in string.Formatter().parse(rule.text) if f is not None]
            except ValueError as exc:
                problems.append(((*where, "text"), f"bad template: {exc}"))
                continue
            for name in fields:
                if name not in TEMPLATE_FIELDS:
                    msg = f"unknown field {{{name}}}; allowed: {allowed}"
                    problems.append(((*where, "text"), msg))
    return problems


def binding_problems(config: AgentConfig, base_dir: Path) -> list[Problem]:
    """Every problem in bindings and feedback, as (key path, message)."""
    kinds = device_kinds(config, base_dir)
    return (
        _binding_problems(config, kinds)
        + _feedback_problems(config, kinds)
        + _profile_fit_problems(config, base_dir)
    )


# ---- what the devices' profiles accept: presets, speeds, buttons, LEDs, text lines ---------


def _profiles(config: AgentConfig, base_dir: Path) -> dict[str, tuple[Profile, int | None]]:
    """Each device whose profile loads: (profile, configured address)."""
    found: dict[str, tuple[Profile, int | None]] = {}
    for device in config.devices:
        try:
            found[device.name] = (device_profile(config, device, base_dir), device.address)
        except ProfileError:
            pass  # reported by profile_problems
    return found


def _camera_step_problem(
    step: dict[str, Any], profiles: dict[str, tuple[Profile, int | None]]
) -> tuple[str, str] | None:
    """(key, why) when the camera's profile refuses what this step would send."""
    name, camera = step.get("action"), step.get("camera")
    if name not in CAMERA_PARAM and name not in ("camera.home", "camera.power"):
        return None
    if not isinstance(camera, str) or camera not in profiles or param_problems(step):
        return None  # reported by the other checks
    profile, address = profiles[camera]
    if profile.kind != "camera":
        return None
    action = parse_action(step)
    assert isinstance(action, CameraAction)
    (command, args), _ = action.commands()
    why = command_problem(profile, address, command, args)
    if why is None:
        return None
    return CAMERA_PARAM.get(str(name), "action"), f"camera {camera!r} ({profile.name}): {why}"


def _binding_fit(
    i: int, binding: BindingSection, profiles: dict[str, tuple[Profile, int | None]]
) -> list[Problem]:
    where: tuple[str | int, ...] = ("bindings", i)
    problems: list[Problem] = []
    panel = profiles.get(binding.device)
    if panel is not None and (why := button_problem(panel[0], binding.button)):
        problems.append(((*where, "button"), f"panel {binding.device!r}: {why}"))
    if isinstance(binding.action, str):
        steps = [(where, {"action": binding.action, **binding.params()})]
    else:
        steps = [((*where, "action", j), step) for j, step in enumerate(binding.action)]
    for at, step in steps:
        if found := _camera_step_problem(step, profiles):
            problems.append(((*at, found[0]), found[1]))
    return problems


def _feedback_fit(
    i: int, rule: FeedbackSection, profile: Profile, address: int | None
) -> list[Problem]:
    if profile.kind != "panel":
        return []
    where: tuple[str | int, ...] = ("feedback", i)
    problems: list[Problem] = []
    if rule.led is not None:
        args = [rule.led, rule.mode, *([rule.colour] if rule.colour else [])]
        if why := command_problem(profile, address, "led", args):
            key = "colour" if rule.colour and "colour" in why else "led"
            problems.append(((*where, key), f"panel {rule.device!r} ({profile.name}): {why}"))
    if rule.text_line is not None:
        if why := command_problem(profile, address, "text", [rule.text_line, ""]):
            msg = f"panel {rule.device!r} ({profile.name}): {why}"
            problems.append(((*where, "text_line"), msg))
    return problems


def _profile_fit_problems(config: AgentConfig, base_dir: Path) -> list[Problem]:
    profiles = _profiles(config, base_dir)
    problems: list[Problem] = []
    for i, binding in enumerate(config.bindings):
        problems += _binding_fit(i, binding, profiles)
    for i, rule in enumerate(config.feedback):
        if rule.device in profiles:
            problems += _feedback_fit(i, rule, *profiles[rule.device])
    return problems


def fleet_problems(config: AgentConfig, base_dir: Path) -> list[Problem]:
    """`[mqtt] allow_actions` names only actions there are (a typo would refuse silently)."""
    del base_dir
    if config.mqtt is None:
        return []
    known = [*(a for a, m in ACTION_MODELS.items() if not m.macro_only), FLEET_PRESS]
    return [
        (("mqtt", "allow_actions", i), f"unknown action {name!r}; allowed: {', '.join(known)}")
        for i, name in enumerate(config.mqtt.allow_actions)
        if name not in known
    ]


# Every cross-package config check, in the order they report.
CONFIG_CHECKS = (profile_problems, binding_problems, fleet_problems)
