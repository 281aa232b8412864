"""Offline checks of the deployment files: provision script, Vagrantfile, systemd units.

Needs the Debian packages shellcheck, vagrant and systemd (the test setup installs them
with `apt-get install -y --no-install-recommends shellcheck vagrant systemd`). No VM,
provider plugin or network is used.
"""

from __future__ import annotations

import configparser
import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
UNITS = ROOT / "deploy" / "systemd"
UNIT_NAMES = ["tailapp-server.service", "tailapp-worker.service"]
VENV_BIN = "/opt/tailapp/.venv/bin/"


def require(tool: str, package: str) -> str:
    """Path of `tool`; fails with the apt package to install when it is missing."""
    path = shutil.which(tool)
    if path is None:
        pytest.fail(
            f"{tool} not found: apt-get install -y --no-install-recommends {package}"
        )
    return path


def run(
    *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run a command from the repo root, capturing its output as text."""
    return subprocess.run(
        args,
        check=False,
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def read_unit(name: str) -> configparser.ConfigParser:
    """Parse a unit file (INI-like: sections, Key=Value, case-sensitive keys)."""
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(UNITS / name, encoding="utf-8")
    return parser


def test_provision_script_passes_shellcheck() -> None:
    shellcheck = require("shellcheck", "shellcheck")
    result = run(shellcheck, "deploy/provision.sh")
    assert result.returncode == 0, result.stdout + result.stderr


def test_provision_script_is_strict_bash() -> None:
    lines = (ROOT / "deploy" / "provision.sh").read_text(encoding="utf-8").splitlines()
    assert lines[0] == "#!/usr/bin/env bash"
    assert "set -euo pipefail" in lines


def test_vagrantfile_validates(tmp_path: Path) -> None:
    vagrant = require("vagrant", "vagrant")
    env = {
        **os.environ,
        "VAGRANT_CHECKPOINT_DISABLE": "1",  # no version check over the network
        "VAGRANT_HOME": str(tmp_path / "vagrant.d"),
        # keeps .vagrant/ out of the repo
        "VAGRANT_DOTFILE_PATH": str(tmp_path / "dot-vagrant"),
    }
    # --ignore-provider: no VirtualBox/libvirt here; their config blocks are skipped.
    result = run(vagrant, "validate", "--ignore-provider", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "validated successfully" in result.stdout


@pytest.mark.parametrize("name", UNIT_NAMES)
def test_unit_passes_systemd_analyze_verify(name: str, tmp_path: Path) -> None:
    analyze = require("systemd-analyze", "systemd")
    # verify insists that ExecStart binaries exist; point them at stand-ins.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("python", "celery"):
        (bin_dir / tool).write_text("#!/bin/sh\n", encoding="utf-8")
        (bin_dir / tool).chmod(0o755)
    unit = tmp_path / name
    unit.write_text(
        (UNITS / name).read_text(encoding="utf-8").replace(VENV_BIN, f"{bin_dir}/")
    )
    result = run(analyze, "verify", str(unit))
    output = result.stdout + result.stderr
    # Unknown keys and bad values are only warnings: any mention of the unit fails.
    assert result.returncode == 0, output
    assert name not in output, output


@pytest.mark.parametrize("name", UNIT_NAMES)
def test_unit_has_required_settings(name: str) -> None:
    unit = read_unit(name)
    service = unit["Service"]
    assert service["User"] == "tailapp"
    assert service["EnvironmentFile"] == "/etc/tailapp/tailapp.env"
    assert service["WorkingDirectory"] == "/opt/tailapp"
    assert service["ExecStart"].startswith(VENV_BIN)
    assert service["Restart"] == "on-failure"
    assert service["KillSignal"] == "SIGTERM"
    assert int(service["TimeoutStopSec"]) > 0
    assert service["NoNewPrivileges"] == "yes"
    assert service["ProtectSystem"] in {"full", "strict"}
    assert "/var/lib/tailapp" in service["ReadWritePaths"].split()
    assert unit["Install"]["WantedBy"] == "multi-user.target"


def test_worker_shuts_down_warm() -> None:
    service = read_unit("tailapp-worker.service")["Service"]
    assert "celery -A tailapp.celery worker" in service["ExecStart"]
    # SIGTERM to the main process only: pool children die on SIGTERM mid-job.
    assert service["KillMode"] == "mixed"
    assert int(service["TimeoutStopSec"]) >= 60


def test_tasks_run_on_the_cpu_the_server_leaves() -> None:
    worker = read_unit("tailapp-worker.service")["Service"]
    server = read_unit("tailapp-server.service")["Service"]
    assert int(worker["Nice"]) > int(server.get("Nice", "0"))


def test_redis_config_is_durable() -> None:
    lines = (
        (ROOT / "deploy" / "redis-tailapp.conf")
        .read_text(encoding="utf-8")
        .splitlines()
    )
    for setting in (
        "appendonly yes",
        "appendfsync everysec",
        "maxmemory-policy noeviction",
        "client-output-buffer-limit pubsub 256mb 128mb 120",  # the relay must outlast bursts of long lines
    ):
        assert setting in lines
    assert any(line.startswith("bind 127.0.0.1") for line in lines)


def test_server_unit_raises_the_file_descriptor_limit() -> None:
    # One descriptor per viewer: with the default soft limit of 1,024, 499 WebSockets locked everyone out.
    service = read_unit("tailapp-server.service")["Service"]
    assert int(service["LimitNOFILE"]) >= 65536
