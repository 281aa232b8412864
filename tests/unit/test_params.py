"""Task parameters: what they accept and how they are described and split, in-process."""

from __future__ import annotations

from typing import Annotated, Literal

import pytest

from tailapp.params import Param, ParamError, Secret, describe, public, split_secrets, validate


def _task(n: Literal[1, 2, 3] = 1, flag: bool = False, name: str = "x", token: Secret = "fallback-token",
          key: Annotated[str, Param(secret=True, help="PEM")] = "") -> None:
    """Parameters of every kind."""


SPECS = describe(_task)


def _error(raw: dict, *, from_form: bool = False, specs=SPECS) -> str:
    with pytest.raises(ParamError) as raised:
        validate(specs, raw, from_form=from_form)
    return str(raised.value)


def test_choices_are_type_strict():
    for look_alike in (True, 1.0, "1"):
        assert _error({"n": look_alike}) == "parameter 'n' must be one of 1, 2, 3"
    assert validate(SPECS, {"n": 2})["n"] == 2
    assert validate(SPECS, {"n": "2"}, from_form=True)["n"] == 2  # a form sends the choice's text
    assert _error({"n": "2.0"}, from_form=True) == "parameter 'n' must be one of 1, 2, 3"


def test_strings_refuse_line_breaks_and_control_characters_but_secrets_may_span_lines():
    for text in ("a\nb", "a\rb", "\x1b[31mred", "a\x00", "a\x85b", "a\u2028b"):
        assert _error({"name": text}) == "parameter 'name' must not contain control characters or line breaks"
    pem = "-----BEGIN KEY-----\nabc\n-----END KEY-----\n"
    assert validate(SPECS, {"key": pem})["key"] == pem


def test_values_starting_with_a_dash_and_paths_are_checked_where_the_spec_says():
    specs = [{"name": "ref", "type": "str", "default": None, "required": True, "min": None, "max": None,
              "choices": None, "help": "", "allow_dash": False},
             {"name": "n", "type": "int", "default": 1, "required": False, "min": None, "max": None,
              "choices": None, "help": "", "allow_dash": False},
             {"name": "file", "type": "path", "default": "a", "required": False, "min": None, "max": None,
              "choices": None, "help": "", "allow_dash": True}]
    assert _error({"ref": "--output=x"}, specs=specs) == (
        "parameter 'ref' must not start with '-' (it would be read as an option)")
    assert _error({"ref": "x", "n": -1}, specs=specs) == (
        "parameter 'n' must not be negative (it would be read as an option)")
    for path in ("../x", "a/../../x", "/etc/passwd", ""):
        assert _error({"ref": "x", "file": path}, specs=specs) == (
            "parameter 'file' must be a relative path without '..'")
    assert validate(specs, {"ref": "main", "file": "-a/b.txt"}) == {"ref": "main", "n": 1, "file": "-a/b.txt"}
    assert validate(SPECS, {"name": "-x"})["name"] == "-x"  # a Python task's string is no argv element


def test_secret_parameters_are_listed_without_their_default_and_split_from_the_rest():
    token = next(s for s in SPECS if s["name"] == "token")
    assert token["secret"] is True and public(token)["default"] is None
    assert "secret" not in next(s for s in SPECS if s["name"] == "name")
    shown, secret = split_secrets(SPECS, {"name": "x", "token": "t0ken-value", "key": ""})
    assert shown == {"name": "x", "token": "***", "key": "***"} and secret == {"token": "t0ken-value", "key": ""}


def test_an_empty_password_field_means_the_default():
    assert validate(SPECS, {"token": ""}, from_form=True)["token"] == "fallback-token"
    assert validate(SPECS, {"token": ""})["token"] == ""  # the JSON API means what it sends


def test_the_signature_says_each_parameter_s_type_default_and_choices():
    kinds = {spec["name"]: (spec["type"], spec["default"], spec["required"]) for spec in SPECS}
    assert kinds == {"n": ("choice", 1, False), "flag": ("bool", False, False), "name": ("str", "x", False),
                     "token": ("str", "fallback-token", False), "key": ("str", "", False)}
    assert SPECS[0]["choices"] == [1, 2, 3] and SPECS[-1]["help"] == "PEM"


def test_missing_values_take_their_defaults_and_form_text_is_typed():
    assert validate(SPECS, {}) == {"n": 1, "flag": False, "name": "x", "token": "fallback-token", "key": ""}
    assert validate(SPECS, {"flag": "on", "n": "3"}, from_form=True) | {"token": "", "key": ""} == \
        {"n": 3, "flag": True, "name": "x", "token": "", "key": ""}


def test_an_unknown_parameter_or_a_body_that_is_not_an_object_is_refused():
    assert "unknown parameter" in _error({"nope": 1})
    with pytest.raises(ParamError):
        validate(SPECS, ["n", 1])
