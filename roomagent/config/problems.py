"""A pydantic validation error in words a person can act on: the dotted key, and what is
allowed there. Shared by the config loader and the firmware-profile loader."""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from typing import Any

from pydantic import BaseModel


def key_name(loc: Sequence[Any]) -> str:
    """("devices", 1, "profile") → "devices[1].profile"."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else ("." if out else "") + str(part)
    return out


def model_at(root: type[BaseModel], loc: Sequence[Any]) -> type[BaseModel] | None:
    """Walk the schema from `root` along `loc` to the model that holds the last key."""
    model: type[BaseModel] = root
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        field = model.model_fields.get(str(part))
        if field is None:
            return None
        ann = field.annotation
        nxt = None
        for cand in (ann, *getattr(ann, "__args__", ())):
            for inner in (cand, *getattr(cand, "__args__", ())):
                if isinstance(inner, type) and issubclass(inner, BaseModel):
                    nxt = inner
        if nxt is None:
            return None
        model = nxt
    return model


def describe(err: Any, root: type[BaseModel], hidden_keys: Collection[str] = ()) -> str:
    """What is wrong at `err["loc"]` and what is allowed. The offending value is shown when it
    is a short scalar, never for a key that looks like a password."""
    loc = tuple(err["loc"])
    if err["type"] == "extra_forbidden":
        model = model_at(root, loc)
        allowed = [k for k in (model.model_fields if model else {}) if k not in hidden_keys]
        return f"unknown key; allowed keys here: {', '.join(allowed)}" if allowed else "unknown key"
    if err["type"] == "missing":
        return "required key is missing"
    msg = re.sub(r"^Value error, ", "", str(err["msg"]))
    value = err.get("input")
    if "input" in err and not isinstance(value, dict | list) and "password" not in key_name(loc):
        shown = repr(value)
        if len(shown) <= 60:
            msg += f" (got {shown})"
    return msg
