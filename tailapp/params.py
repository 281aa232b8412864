"""Task parameters from a function signature: describe them, and check what a client sends."""

from __future__ import annotations

import inspect
import typing
from dataclasses import dataclass
from typing import Any, get_args, get_origin


@dataclass(frozen=True)
class Param:
    """Extra facts about a parameter, given with typing.Annotated: Annotated[int, Param(min=1)]."""

    min: float | None = None
    max: float | None = None
    help: str = ""


_TYPES = {int: "int", float: "float", bool: "bool", str: "str"}
_MAX_STR = 4096


class ParamError(ValueError):
    """A parameter that does not fit; the message is for people."""


def describe(fn) -> list[dict]:
    """The parameters of `fn` as the protocol lists them."""
    hints = typing.get_type_hints(fn, include_extras=True)
    specs = []
    for name, sig in inspect.signature(fn).parameters.items():
        if sig.kind not in (sig.POSITIONAL_OR_KEYWORD, sig.KEYWORD_ONLY):
            continue
        specs.append(_spec(name, hints.get(name, str), sig.default))
    return specs


def _spec(name: str, hint: Any, default: Any) -> dict:
    extra = Param()
    if get_origin(hint) is typing.Annotated:
        hint, *meta = get_args(hint)
        extra = next((m for m in meta if isinstance(m, Param)), extra)
    choices = list(get_args(hint)) if get_origin(hint) is typing.Literal else None
    kind = "choice" if choices else _TYPES.get(hint, "str")
    required = default is inspect.Parameter.empty
    return {"name": name, "type": kind, "default": None if required else default, "required": required,
            "min": extra.min, "max": extra.max, "choices": choices, "help": extra.help}


def validate(specs: list[dict], raw: object, *, from_form: bool = False) -> dict:
    """Checked and typed parameters, defaults filled in; raises ParamError."""
    if not isinstance(raw, dict):
        raise ParamError('"params" must be an object')
    known = {s["name"] for s in specs}
    unknown = sorted(set(raw) - known, key=str)
    if unknown:
        raise ParamError(f"unknown parameter {unknown[0]!r}")
    values = {}
    for spec in specs:
        name = spec["name"]
        if name in raw:
            values[name] = _check(spec, _coerce(spec, raw[name]) if from_form else raw[name])
        elif spec["required"]:
            raise ParamError(f"parameter {name!r} is required")
        else:
            values[name] = spec["default"]
    return values


def _coerce(spec: dict, value: Any) -> Any:
    """Form fields arrive as strings: turn them into the declared type where they parse."""
    if not isinstance(value, str):
        return value
    try:
        if spec["type"] == "int":
            return int(value)
        if spec["type"] == "float":
            return float(value)
    except ValueError:
        raise ParamError(f"parameter {spec['name']!r} must be a number") from None
    if spec["type"] == "bool":
        return value.lower() in ("1", "true", "on", "yes")
    return value


def _check(spec: dict, value: Any) -> Any:
    name, kind = spec["name"], spec["type"]
    if kind == "choice":
        if value not in spec["choices"]:
            raise ParamError(f"parameter {name!r} must be one of {', '.join(map(str, spec['choices']))}")
        return value
    if kind == "bool":
        if not isinstance(value, bool):
            raise ParamError(f"parameter {name!r} must be true or false")
        return value
    if kind in ("int", "float"):
        return _check_number(spec, value)
    if not isinstance(value, str) or len(value) > _MAX_STR:
        raise ParamError(f"parameter {name!r} must be a string of at most {_MAX_STR} characters")
    return value


def _check_number(spec: dict, value: Any) -> int | float:
    name, kind = spec["name"], spec["type"]
    ok = isinstance(value, int) if kind == "int" else isinstance(value, int | float)
    if isinstance(value, bool) or not ok or value != value:  # value != value: NaN
        raise ParamError(f"parameter {name!r} must be {'an integer' if kind == 'int' else 'a number'}")
    if spec["min"] is not None and value < spec["min"]:
        raise ParamError(f"parameter {name!r} must be \u2265 {spec['min']}")
    if spec["max"] is not None and value > spec["max"]:
        raise ParamError(f"parameter {name!r} must be \u2264 {spec['max']}")
    return float(value) if kind == "float" else value
