"""A pydantic validation error in words a person can act on: the dotted key, and what is
allowed there. Shared by the config loader and the firmware-profile loader."""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Sequence
from typing import Any

from pydantic import BaseModel

from roomagent.config.vocab import spoken


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
    msg = in_words(err)
    value = err.get("input")
    if "input" in err and not isinstance(value, dict | list) and "password" not in key_name(loc):
        shown = toml_value(value)
        if len(shown) <= 60:
            msg += f" (got {shown})"
    return msg


# Patterns the schemas use, in words (a new pattern without words falls back to a general
# sentence, never to the regular expression).
PATTERN_WORDS = {
    r"^wss?://": "must start with ws:// or wss://",
    r"^https?://": "must start with http:// or https://",
    r"^[A-Za-z0-9_.\-]+$": "may use only letters, digits, '.', '_' and '-'",
    r"^[a-z0-9][a-z0-9_.\-]*$": "may use only lower-case letters, digits, '.', '_' and '-'",
    r"\S": "must not be blank",
}
_TYPE_WORDS = {
    "int_type": "must be a whole number",
    "int_parsing": "must be a whole number",
    "int_from_float": "must be a whole number",
    "float_type": "must be a number",
    "float_parsing": "must be a number",
    "bool_type": "must be true or false",
    "bool_parsing": "must be true or false",
    "string_type": "must be text in quotes",
    "list_type": 'must be a list, e.g. ["a", "b"]',
    "tuple_type": 'must be a list, e.g. ["a", "b"]',
    "dict_type": "must be a table",
    "model_type": "must be a table",
    "model_attributes_type": "must be a table",
    "path_type": "must be a file path in quotes",
}
_SCALARS = {"int_type", "int_parsing", "float_type", "float_parsing", "bool_type", "bool_parsing"}
_BOUNDS = {
    "greater_than_equal": ("ge", "must be at least {}"),
    "greater_than": ("gt", "must be more than {}"),
    "less_than_equal": ("le", "must be at most {}"),
    "less_than": ("lt", "must be less than {}"),
    "too_short": ("min_length", "needs at least {} item(s)"),
    "too_long": ("max_length", "allows at most {} item(s)"),
    "string_too_short": ("min_length", "needs at least {} character(s)"),
    "string_too_long": ("max_length", "allows at most {} character(s)"),
}


def one_of(values: Sequence[str]) -> str:
    """["a", "b", "c"] → '"a", "b" or "c"' (how a Literal's or an enum's choices read)."""
    return spoken(f'"{v}"' for v in values)


def in_words(err: Any) -> str:
    """pydantic's message for one error as a sentence about the value (no validator terms)."""
    kind, ctx = err["type"], err.get("ctx") or {}
    if kind == "string_pattern_mismatch":
        return PATTERN_WORDS.get(str(ctx.get("pattern")), "does not have the expected form")
    if kind in ("literal_error", "enum"):
        expected = re.sub(r"'([^']*)'", r'"\1"', str(ctx.get("expected", "")))
        return f"must be one of {expected}".rstrip()
    if kind in _BOUNDS and _BOUNDS[kind][0] in ctx:
        key, words = _BOUNDS[kind]
        bound = ctx[key]
        return words.format(
            int(bound) if isinstance(bound, float) and bound.is_integer() else bound
        )
    if kind in _TYPE_WORDS:
        quoted = isinstance(err.get("input"), str) and kind in _SCALARS
        return _TYPE_WORDS[kind] + (", not text in quotes" if quoted else "")
    if kind == "is_instance_of":
        wanted = str(ctx.get("class", ""))
        return "must be a file path in quotes" if wanted == "Path" else f"must be a {wanted}"
    return re.sub(r"^(Value|Assertion) error, ", "", str(err["msg"]))


def toml_value(value: Any) -> str:
    """A value as it would be written in the TOML file: "text", true, 3."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    return repr(value)
