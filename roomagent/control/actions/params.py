"""Action parameters in words: validation with messages that say what is allowed (the API,
the panel and check-config share them), and the parameter table the docs are generated from."""

from __future__ import annotations

import types
import typing
from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import ValidationError
from pydantic.fields import FieldInfo

from roomagent.control.actions.base import REGISTRY, ActionFailed, ActionModel

Problem = tuple[tuple[str, ...], str]
# Parameters that hold a secret: never echoed in a message, never in a log line.
SECRET_PARAMS = ("password",)


def describe_param(info: FieldInfo) -> str:
    """What a parameter accepts, in words: "an integer 1-7", "one of 'tele', 'wide'"."""
    if info.description:
        return info.description
    ann = info.annotation
    args = [a for a in typing.get_args(ann) if a is not type(None)]
    if typing.get_origin(ann) is Literal:
        return "one of " + ", ".join(repr(a) for a in typing.get_args(ann))
    if typing.get_origin(ann) in (typing.Union, types.UnionType) and args:
        # The bounds (Field(ge=…, le=…)) belong to each member: `int | None` is "an integer 0-7".
        members = [
            FieldInfo.from_annotation(Annotated[a, *info.metadata])  # type: ignore[arg-type]
            if info.metadata
            else FieldInfo(annotation=a)
            for a in args
        ]
        return " or ".join(describe_param(member) for member in members)
    bounds = {type(m).__name__: m for m in info.metadata}
    # `is None`, not `or`: a lower bound of 0 is falsy but real.
    low = getattr(bounds.get("Ge"), "ge", None)
    if low is None:
        gt = getattr(bounds.get("Gt"), "gt", None)
        low = None if gt is None else gt + 1
    high = getattr(bounds.get("Le"), "le", None)
    if ann is bool:
        return "true or false"
    if ann is int:
        if high is None:
            return "an integer" if low is None else f"an integer from {low}"
        return f"an integer {low}-{high}" if low is not None else f"an integer up to {high}"
    if ann is float:
        return f"a number of seconds up to {high}" if high is not None else "a number"
    return "a string"


def _unknown(name: object) -> list[Problem]:
    return [(("action",), f"unknown action {name!r}; allowed: {', '.join(REGISTRY)}")]


def _problems(name: str, model: type[ActionModel], exc: ValidationError) -> list[Problem]:
    problems: list[Problem] = []
    params = [p for p in model.model_fields if p != "action"]
    for err in exc.errors():
        if not err["loc"]:  # a rule over several parameters (a model validator)
            problems.append((("action",), f"{name}: {err['msg'].removeprefix('Value error, ')}"))
            continue
        key = str(err["loc"][0])
        field = model.model_fields.get(key)
        if err["type"] == "extra_forbidden":
            allowed = ", ".join(params) or "none"
            msg = f"{name} has no parameter {key!r}; allowed: {allowed}"
        elif err["type"] == "missing" and field is not None:
            msg = f"{name} needs {key!r}: {describe_param(field)}"
        elif field is not None:
            shown = "" if key in SECRET_PARAMS else f" (got {err.get('input')!r})"
            msg = f"{name}: {key!r} must be {describe_param(field)}{shown}"
        else:
            msg = f"{name}: {err['msg']}"
        problems.append(((key,), msg))
    return problems


def param_problems(data: Mapping[str, Any], *, strict: bool = False) -> list[Problem]:
    """Problems with one action dict, as (key path inside the dict, message). `strict`: no
    coercion (a config file's `preset = "3"` is an error, as every config value is)."""
    name = data.get("action")
    model = REGISTRY.get(name) if isinstance(name, str) else None
    if model is None:
        return _unknown(name)
    try:
        model.model_validate(dict(data), strict=strict)
    except ValidationError as exc:
        return _problems(str(name), model, exc)
    return []


def parse_action(data: Mapping[str, Any]) -> ActionModel:
    """Validate an action dict (once); ActionFailed names the first problem in plain words."""
    name = data.get("action")
    model = REGISTRY.get(name) if isinstance(name, str) else None
    if model is None:
        raise ActionFailed(_unknown(name)[0][1])
    try:
        action = model.model_validate(dict(data))
    except ValidationError as exc:
        raise ActionFailed(_problems(str(name), model, exc)[0][1]) from None
    # A meeting passcode is masked by its field (logsetup.scrub, rooms.models.masked), not
    # registered: a registered "456" would mask it inside every meeting code too.
    return action


def param_rows() -> list[tuple[str, str, str]]:
    """(action, its parameters in words, what it does) for every action, in registry order:
    the table docs/actions.md carries (tests/control/test_docs_tables.py keeps it in step)."""
    rows = []
    for name, model in REGISTRY.items():
        params = []
        for key, info in model.model_fields.items():
            if key == "action":
                continue
            optional = "" if info.is_required() else f" ({_default(info.default)})"
            params.append(f"`{key}`: {describe_param(info)}{optional}")
        rows.append((name, "; ".join(params) or "—", model.summary()))
    return rows


def _default(value: object) -> str:
    if value is None:
        return "optional"
    shown = str(value).lower() if isinstance(value, bool) else repr(value)
    return f"default {shown}"


def actions_markdown() -> str:
    """The action table of docs/actions.md."""
    lines = ["| action | parameters | what it does |", "|---|---|---|"]
    lines += [f"| `{name}` | {params} | {summary} |" for name, params, summary in param_rows()]
    return "\n".join(lines) + "\n"
