"""Task parameters from a function signature: describe them, and check what a client sends."""

from __future__ import annotations

import inspect
import re
import typing
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Annotated, Any, get_args, get_origin

from tailapp.masking import MASK


@dataclass(frozen=True)
class Param:
    """Extra facts about a parameter, given with typing.Annotated: Annotated[int, Param(min=1)].

    `secret=True` (a `str`): the value is a password input in the form, `***` wherever the job is stored,
    listed or logged, and reaches the task only.
    """

    min: float | None = None
    max: float | None = None
    help: str = ""
    secret: bool = False


Secret = Annotated[str, Param(secret=True)]

_TYPES = {int: "int", float: "float", bool: "bool", str: "str"}
_MAX_STR = 4096
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")  # what could end a log line or drive a terminal


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
    spec = {"name": name, "type": kind, "default": None if required else default, "required": required,
            "min": extra.min, "max": extra.max, "choices": choices, "help": extra.help}
    return {**spec, "secret": True} if extra.secret else spec


def is_secret(spec: dict) -> bool:
    """Whether a parameter spec is a secret one."""
    return bool(spec.get("secret"))


def public(spec: dict) -> dict:
    """The spec as /api/tasks lists it: a secret parameter's default is not shown."""
    return {**spec, "default": None} if is_secret(spec) and spec["default"] is not None else spec


def split_secrets(specs: list[dict], values: dict) -> tuple[dict, dict]:
    """(values with every secret one replaced by ***, the secret values alone)."""
    names = {s["name"] for s in specs if is_secret(s)}
    shown = {k: MASK if k in names else v for k, v in values.items()}
    return shown, {k: v for k, v in values.items() if k in names}


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
        if from_form and is_secret(spec) and raw.get(name) == "" and not spec["required"]:
            values[name] = spec["default"]  # a password field is never filled in with the default
        elif name in raw:
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
    if spec["type"] == "choice":  # the form sends a choice's text: the choice whose text it is
        return next((c for c in spec["choices"] if _choice_text(c) == value), value)
    return value


def _choice_text(choice: Any) -> str:
    return ("true" if choice else "false") if isinstance(choice, bool) else str(choice)


def _check(spec: dict, value: Any) -> Any:
    name, kind = spec["name"], spec["type"]
    if kind == "choice":
        if not any(type(value) is type(c) and value == c for c in spec["choices"]):  # True is not 1, 1.0 is not 1
            raise ParamError(f"parameter {name!r} must be one of {', '.join(map(_choice_text, spec['choices']))}")
        return value
    if kind == "bool":
        if not isinstance(value, bool):
            raise ParamError(f"parameter {name!r} must be true or false")
        return value
    if kind in ("int", "float"):
        return _check_number(spec, value)
    if not isinstance(value, str) or len(value) > _MAX_STR:
        raise ParamError(f"parameter {name!r} must be a string of at most {_MAX_STR} characters")
    if not is_secret(spec) and CONTROL.search(value):  # a secret (a PEM key) may span lines: it is never shown
        raise ParamError(f"parameter {name!r} must not contain control characters or line breaks")
    if not spec.get("allow_dash", True) and value.startswith("-"):
        raise ParamError(f"parameter {name!r} must not start with '-' (it would be read as an option)")
    if kind == "path":
        _check_path(name, value)
    return value


def _check_path(name: str, value: str) -> None:
    """A path parameter is relative, below its directory: no '..', not absolute, not empty."""
    path = PurePosixPath(value)
    if not value or path.is_absolute() or ".." in path.parts:
        raise ParamError(f"parameter {name!r} must be a relative path without '..'")


def _check_number(spec: dict, value: Any) -> int | float:
    name, kind = spec["name"], spec["type"]
    ok = isinstance(value, int) if kind == "int" else isinstance(value, int | float)
    if isinstance(value, bool) or not ok or value != value:  # value != value: NaN
        raise ParamError(f"parameter {name!r} must be {'an integer' if kind == 'int' else 'a number'}")
    if spec["min"] is not None and value < spec["min"]:
        raise ParamError(f"parameter {name!r} must be \u2265 {spec['min']}")
    if spec["max"] is not None and value > spec["max"]:
        raise ParamError(f"parameter {name!r} must be \u2264 {spec['max']}")
    if not spec.get("allow_dash", True) and value < 0:
        raise ParamError(f"parameter {name!r} must not be negative (it would be read as an option)")
    return float(value) if kind == "float" else value
