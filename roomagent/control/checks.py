"""Config checks for `[[bindings]]` and `[[feedback]]` that need to know the actions and the
devices' kinds. `CONFIG_CHECKS` is what the app hands to `roomagent.config.loader.load_config`
(and so what `check-config` runs): the devices' profile checks and these.
"""

from __future__ import annotations

import string
from pathlib import Path
from typing import Any, Literal

from roomagent.config.model import AgentConfig
from roomagent.control.actions import ACTION_MODELS, param_problems
from roomagent.control.state import TEMPLATE_FIELDS
from roomagent.devices.checks import device_profile, profile_problems
from roomagent.devices.errors import ProfileError

Problem = tuple[tuple[str | int, ...], str]
Kind = Literal["camera", "panel"]
# Actions that move while a button is held; a release binding could never stop them.
HELD_ACTIONS = ("camera.move", "camera.zoom")


def device_kinds(config: AgentConfig, base_dir: Path) -> dict[str, Kind | None]:
    """Each device's kind from its profile; None when the profile does not load (the
    devices' own check reports that)."""
    kinds: dict[str, Kind | None] = {}
    for device in config.devices:
        try:
            kinds[device.name] = device_profile(config, device, base_dir).kind
        except ProfileError:
            kinds[device.name] = None
    return kinds


def _names(kinds: dict[str, Kind | None], kind: Kind) -> str:
    return ", ".join(n for n, k in kinds.items() if k == kind) or "none configured"


def _step_problems(
    step: dict[str, Any], where: tuple[str | int, ...], kinds: dict[str, Kind | None], macro: bool
) -> list[Problem]:
    problems: list[Problem] = [((*where, *key), msg) for key, msg in param_problems(step)]
    name = step.get("action")
    if name == "delay" and not macro:
        problems.append(((*where, "action"), "delay only makes sense inside a macro (a list)"))
    camera = step.get("camera")
    if name in ACTION_MODELS and isinstance(camera, str) and name.startswith("camera."):
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
            if binding.action in HELD_ACTIONS and binding.on == "release":
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
    return _binding_problems(config, kinds) + _feedback_problems(config, kinds)


# Every cross-package config check, in the order they report.
CONFIG_CHECKS = (profile_problems, binding_problems)
