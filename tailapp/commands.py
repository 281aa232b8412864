"""Command jobs: named commands an operator allows in a TOML file, each registered as a tail task.

Nothing but these commands can run. A parameter reaches a command only as a whole argv element (a
`{name}` placeholder) or as an environment variable, never spliced into a string or a shell line; it is a
value, never an option (no leading `-` unless allowed), and a `path` stays inside its directory. A command
gets a clean environment, not the worker's. docs/COMMANDS.md describes the file.
"""

from __future__ import annotations

import functools
import os
import re
import shlex
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from tailapp import capture, process
from tailapp.config import ConfigError
from tailapp.params import ParamError, validate
from tailapp.tasks import REGISTRY, JobFailed, TailTask, register

DEFAULT_FILE = "tailapp.toml"
NAME = re.compile(r"[A-Za-z][A-Za-z0-9_-]*")
ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
COMMAND_KEYS = {"title", "description", "argv", "shell", "cwd", "env", "pass_env", "timeout", "pty", "secrets",
                "params"}
PARAM_KEYS = {"type", "default", "choices", "min", "max", "help", "env", "secret", "allow_dash", "root"}
PARAM_TYPES = ("str", "int", "float", "bool", "choice", "path")
# What a command inherits from the worker's environment, besides its `env`, `pass_env` and `secrets`.
BASE_ENV = ("PATH", "HOME", "USER", "LOGNAME", "SHELL", "LANG", "LANGUAGE", "TZ", "TMPDIR")


class CommandsError(ConfigError):
    """The commands file is not valid; the message names the file, the command and the key."""


@dataclass
class Command:
    """One allowlisted command, as the operator declared it."""

    name: str
    title: str | None = None
    description: str | None = None
    argv: list[str] | None = None
    shell: str | None = None
    cwd: str | None = None
    env: dict[str, str] = field(default_factory=dict)
    timeout: float | None = None
    pty: bool = True
    pass_env: list[str] = field(default_factory=list)
    secrets: list[str] = field(default_factory=list)
    params: list[dict] = field(default_factory=list)
    param_env: dict[str, str] = field(default_factory=dict)  # parameter name -> environment variable
    roots: dict[str, str] = field(default_factory=dict)  # path parameter name -> the directory it stays in

    def command_line(self, values: dict) -> list[str]:
        """The argv to run, each `{name}` element replaced by that parameter's value."""
        if self.shell is not None:
            return ["/bin/sh", "-c", self.shell]
        return [_text(values[el[1:-1]]) if _placeholder(el) else el for el in self.argv]

    def environment(self, values: dict) -> dict[str, str]:
        """A clean environment (BASE_ENV, LC_*, `pass_env`, `secrets`), then `env`, then parameters as variables."""
        names = {*BASE_ENV, *self.pass_env, *self.secrets}
        inherited = {k: v for k, v in os.environ.items() if k in names or k.startswith("LC_")}
        extra = {var: _text(values[name]) for name, var in self.param_env.items()}
        return {"PATH": os.defpath, **inherited, **self.env, **extra}

    def resolve_paths(self, values: dict) -> dict:
        """Path parameters as absolute paths inside their directories (symlinks followed); raises JobFailed."""
        resolved = dict(values)
        for name, root in self.roots.items():
            base = Path(root).resolve()
            target = (base / values[name]).resolve()
            if target != base and base not in target.parents:
                raise JobFailed(f"parameter {name!r} leads out of {root}")
            resolved[name] = str(target)
        return resolved


def run_command(command: Command, **values) -> int:
    """Run a command job: the output goes to the job's log; returns the exit code."""
    values = command.resolve_paths(values)
    argv = command.command_line(values)
    out = capture.current() or sys.stdout
    out.write(f"\x1b[2m$ {command.shell if command.shell is not None else shlex.join(argv)}\x1b[0m\n")
    code = process.execute(argv, out, cwd=command.cwd, env=command.environment(values), timeout=command.timeout,
                           use_pty=command.pty)
    if code is None:
        raise JobFailed(f"timed out after {command.timeout:g} s", process.TIMEOUT_EXIT_CODE)
    return code


def register_file(setting: str | None) -> list[Command]:
    """Load the commands file (the setting, else ./tailapp.toml if present) and register each command."""
    path = Path(setting) if setting else Path(DEFAULT_FILE)
    if not path.is_file():
        if setting:
            raise CommandsError(f"{path}: no such file (TAILAPP_COMMANDS_FILE)")
        return []
    commands = load(path)
    for command in commands:
        _register(command)
    return commands


def _register(command: Command) -> None:
    existing = REGISTRY.get(command.name)
    if existing is not None and existing.command is None:
        raise CommandsError(f"command {command.name!r} has the name of a Python tail task")
    doc = command.shell if command.shell is not None else shlex.join(command.argv)
    spec = TailTask(name=command.name, fn=functools.partial(run_command, command),
                    title=command.title or command.name.replace("_", " ").title(),
                    description=command.description or doc, params=command.params,
                    secret_env=list(command.secrets), command=command)
    register(spec)


def load(path: Path) -> list[Command]:
    """Parse and check a commands file; raises CommandsError."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise CommandsError(f"{path}: {exc}") from None
    unknown = sorted(set(data) - {"commands"})
    if unknown:
        raise CommandsError(f"{path}: unknown top-level key {unknown[0]!r} (only [commands.<name>] tables)")
    tables = _table(data.get("commands", {}), f"{path}: commands")
    return [_command(f"{path}: commands.{name}", name, table) for name, table in tables.items()]


def _command(where: str, name: str, raw: object) -> Command:
    table = _table(raw, where)
    _known_keys(where, table, COMMAND_KEYS)
    if not NAME.fullmatch(name):
        raise CommandsError(f"{where}: a command name is letters, digits, '_' and '-', starting with a letter")
    if ("argv" in table) == ("shell" in table):
        raise CommandsError(f"{where}: give exactly one of argv (a list) or shell (a string)")
    command = Command(name=name, title=_string(where, table, "title"),
                      description=_string(where, table, "description"), argv=_strings(where, table, "argv"),
                      shell=_string(where, table, "shell"), cwd=_string(where, table, "cwd"), env=_env(where, table),
                      timeout=_timeout(where, table), pty=_bool(where, table, "pty", True),
                      pass_env=_names(where, table, "pass_env"), secrets=_names(where, table, "secrets"))
    if command.argv == []:
        raise CommandsError(f"{where}: argv must not be empty")
    for param_name, param in _table(table.get("params", {}), f"{where}.params").items():
        spec, var, root = _param(f"{where}.params.{param_name}", param_name, param)
        command.params.append(spec)
        if var:
            command.param_env[param_name] = var
        if root:
            command.roots[param_name] = root
    _check_placement(where, command)
    return command


def _param(where: str, name: str, raw: object) -> tuple[dict, str | None, str | None]:
    """The protocol's parameter spec, the environment variable it goes to and the directory of a path."""
    table = _table(raw, where)
    _known_keys(where, table, PARAM_KEYS)
    kind = table.get("type", "str")
    if kind not in PARAM_TYPES:
        raise CommandsError(f"{where}: type must be one of {', '.join(PARAM_TYPES)}")
    choices = table.get("choices")
    if (kind == "choice") != (choices is not None):
        raise CommandsError(f"{where}: choices go with type = \"choice\", and it needs them")
    if choices is not None and (not isinstance(choices, list) or not choices):
        raise CommandsError(f"{where}: choices must be a non-empty list")
    spec = {"name": name, "type": kind, "default": table.get("default"), "required": "default" not in table,
            "min": table.get("min"), "max": table.get("max"), "choices": choices, "help": table.get("help", ""),
            "allow_dash": _bool(where, table, "allow_dash", False)}
    if _bool(where, table, "secret", False):
        if kind != "str" or "env" not in table:
            raise CommandsError(f"{where}: a secret is a str passed as env (argv is visible to every local user)")
        spec["secret"] = True
    root = _root(where, table, kind)
    if "default" in table:
        try:
            validate([spec], {name: table["default"]})
        except ParamError as exc:
            raise CommandsError(f"{where}: default: {exc}") from None
    var = _string(where, table, "env")
    if var is not None and not ENV_NAME.fullmatch(var):
        raise CommandsError(f"{where}: env must be an environment variable name")
    return spec, var, root


def _root(where: str, table: dict, kind: str) -> str | None:
    root = _string(where, table, "root")
    if (kind == "path") != (root is not None):
        raise CommandsError(f"{where}: root (the directory a path stays in) goes with type = \"path\", and it needs it")
    if root is not None and not Path(root).is_absolute():
        raise CommandsError(f"{where}: root must be an absolute directory")
    return root


def _check_placement(where: str, command: Command) -> None:
    names = {spec["name"] for spec in command.params}
    placed = {el[1:-1] for el in command.argv or () if _placeholder(el)}
    for name in sorted(placed - names):
        raise CommandsError(f"{where}: argv has {{{name}}} but there is no parameter {name!r}")
    for spec in command.params:
        if spec.get("secret") and spec["name"] in placed:
            raise CommandsError(f"{where}: secret parameter {spec['name']!r} goes as env, not in argv")
    for el in command.argv or ():
        if not _placeholder(el) and any(f"{{{name}}}" in el for name in names):
            raise CommandsError(f"{where}: a placeholder must be a whole argv element, not part of {el!r}")
    for name in sorted(names - placed - set(command.param_env)):
        how = "env" if command.shell is not None else "an argv element {" + name + "} or env"
        raise CommandsError(f"{where}: parameter {name!r} is not used; pass it as {how}")


def _placeholder(element: str) -> bool:
    return len(element) > 2 and element[0] == "{" and element[-1] == "}" and NAME.fullmatch(element[1:-1]) is not None


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _table(value: object, where: str) -> dict:
    if not isinstance(value, dict):
        raise CommandsError(f"{where}: must be a table")
    return value


def _known_keys(where: str, table: dict, allowed: set[str]) -> None:
    unknown = sorted(set(table) - allowed)
    if unknown:
        raise CommandsError(f"{where}: unknown key {unknown[0]!r} (known: {', '.join(sorted(allowed))})")


def _string(where: str, table: dict, name: str) -> str | None:
    value = table.get(name)
    if value is not None and not isinstance(value, str):
        raise CommandsError(f"{where}: {name} must be a string")
    return value


def _strings(where: str, table: dict, name: str) -> list[str] | None:
    value = table.get(name)
    if value is not None and (not isinstance(value, list) or not all(isinstance(v, str) for v in value)):
        raise CommandsError(f"{where}: {name} must be a list of strings")
    return value


def _bool(where: str, table: dict, name: str, default: bool) -> bool:
    value = table.get(name, default)
    if not isinstance(value, bool):
        raise CommandsError(f"{where}: {name} must be true or false")
    return value


def _env(where: str, table: dict) -> dict[str, str]:
    env = _table(table.get("env", {}), f"{where}.env")
    for name, value in env.items():
        if not ENV_NAME.fullmatch(name) or not isinstance(value, str):
            raise CommandsError(f"{where}.env: {name!r} must be a variable name with a string value")
    return env


def _timeout(where: str, table: dict) -> float | None:
    value = table.get("timeout")
    if value is not None and (isinstance(value, bool) or not isinstance(value, int | float) or value <= 0):
        raise CommandsError(f"{where}: timeout must be a number of seconds > 0")
    return value


def _names(where: str, table: dict, key: str) -> list[str]:
    names = _strings(where, table, key) or []
    for name in names:
        if not ENV_NAME.fullmatch(name):
            raise CommandsError(f"{where}: {key} are environment variable names, not {name!r}")
    return names
