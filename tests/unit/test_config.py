"""Settings: strict booleans and numbers, unit layer (the server's refusal is in test_security)."""

from __future__ import annotations

import pytest

from tailapp import config
from tailapp.config import ConfigError


@pytest.mark.parametrize(("word", "expected"), [("1", True), ("true", True), ("YES", True), (" on ", True),
                                                ("0", False), ("false", False), ("No", False), ("off", False)])
def test_boolean_words(word, expected):
    assert config.load(environ={"TAILAPP_ALLOW_PUBLIC": word})["ALLOW_PUBLIC"] is expected


def test_unset_or_empty_boolean_is_the_default_false():
    assert config.load(environ={})["ALLOW_PUBLIC"] is False
    assert config.load(environ={"TAILAPP_ALLOW_PUBLIC": ""})["ALLOW_PUBLIC"] is False


@pytest.mark.parametrize("word", ["maybe", "enabled", "2", "truee", "-"])
def test_unknown_boolean_word_is_an_error_naming_the_variable(word):
    with pytest.raises(ConfigError) as info:
        config.load(environ={"TAILAPP_ALLOW_PUBLIC": word})
    message = str(info.value)
    assert message.startswith(f"TAILAPP_ALLOW_PUBLIC={word!r} is not a boolean") and "\n" not in message
    assert "1/true/yes/on" in message and "0/false/no/off" in message


def test_overrides_are_checked_too():
    assert config.load({"ALLOW_PUBLIC": "off"}, environ={})["ALLOW_PUBLIC"] is False
    with pytest.raises(ConfigError, match="TAILAPP_ALLOW_PUBLIC"):
        config.load({"ALLOW_PUBLIC": "nope"}, environ={})


def test_bad_number_is_an_error_naming_the_variable():
    assert config.load(environ={"TAILAPP_PORT": "5001"})["PORT"] == 5001
    with pytest.raises(ConfigError, match=r"^TAILAPP_PORT='50o1' is not a whole number$"):
        config.load(environ={"TAILAPP_PORT": "50o1"})
