"""Command jobs: the TOML schema, and allowlisted commands run by the real worker."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import pytest
import requests

from tailapp.commands import CommandsError, load
from tests.e2e.test_tasks import log_lines

HOSTILE = """$(touch {marker}) `touch {marker}`; touch {marker} && echo "x' | cat > {marker} * ~ $HOME\\"""


def test_exit_code_3_ends_failed_with_code_3_and_output_in_order(stack):
    job = stack.wait_job(stack.start_job("exit3"))
    assert (job["state"], job["exit_code"], job["error"]) == ("failed", 3, "exited with code 3")
    assert log_lines(stack, job["id"])[1:] == ["out", "err"]


def test_pty_keeps_a_terminal_and_colours(stack):
    job = stack.wait_job(stack.start_job("tty"))
    assert job["state"] == "succeeded" and job["exit_code"] == 0
    assert log_lines(stack, job["id"])[1:] == ["tty True", "\x1b[31mred\x1b[0m"]


def test_timeout_fails_with_a_clear_line(stack):
    job = stack.wait_job(stack.start_job("sleepy"), timeout=20)
    assert (job["state"], job["exit_code"], job["error"]) == ("failed", 124, "timed out after 1 s")
    assert "Timed out after 1 s: stopped the command." in log_lines(stack, job["id"])[-1]
    assert job["finished_at"] - job["started_at"] < 2500


def test_cancel_kills_the_whole_process_group(stack):
    job_id = stack.start_job("longsleep")
    stack.wait(lambda: "sleeping" in log_lines(stack, job_id), "the command to start")
    assert _processes("sleep\x001000\x00"), "the child is not running"
    response = requests.post(f"{stack.url}/api/jobs/{job_id}/cancel", json={}, timeout=5)
    assert response.status_code == 202
    assert stack.wait_job(job_id, timeout=10)["state"] == "cancelled"
    assert not _processes("sleep\x001000\x00"), "an orphan was left"


@pytest.mark.parametrize("task", ["echo", "echoenv"])
def test_shell_metacharacters_in_parameters_stay_inert(stack, tmp_path, task):
    marker = tmp_path / "touched"
    word = HOSTILE.format(marker=marker)
    job = stack.wait_job(stack.start_job(task, word=word))
    assert job["state"] == "succeeded"
    assert log_lines(stack, job["id"])[1] == f"[{word}]"
    assert not marker.exists()


def test_command_parameters_are_validated(stack):
    for params, message in (({}, "parameter 'word' is required"),
                            ({"word": "x", "count": 10}, "parameter 'count' must be ≤ 9")):
        response = requests.post(f"{stack.url}/api/jobs", json={"task": "echoenv", "params": params}, timeout=5)
        assert (response.status_code, response.json()) == (400, {"error": message})
    job = stack.wait_job(stack.start_job("echoenv", word="w", count=7))
    assert log_lines(stack, job["id"])[1:] == ["[w]", "[7]"]


@pytest.mark.parametrize("text, error", [
    ('[commands.a]\nargv = ["x"]\nshell = "x"', "give exactly one of argv"),
    ('[commands.a]\nargv = ["x"]\ncwdd = "/"', "unknown key 'cwdd'"),
    ('[commands.a]\nargv = ["x", "--to={who}"]\n[commands.a.params.who]', "must be a whole argv element"),
    ('[commands.a]\nshell = "echo $W"\n[commands.a.params.w]', "parameter 'w' is not used"),
    ('[commands.a]\nargv = ["x", "{w}"]', "no parameter 'w'"),
    ('[commands.a]\nargv = ["x"]\ntimeout = -1', "timeout must be a number"),
    ('[commands.a]\nargv = ["x", "{w}"]\n[commands.a.params.w]\ntype = "choice"', "choices go with"),
    ('[commands.a]\nargv = ["x", "{w}"]\n[commands.a.params.w]\ntype = "int"\ndefault = "1"', "default: parameter"),
    ("[commands.a\n", "commands.toml: "),
])
def test_bad_files_are_refused_with_a_clear_error(tmp_path, text, error):
    path = tmp_path / "commands.toml"
    path.write_text(text)
    with pytest.raises(CommandsError) as raised:
        load(path)
    assert error in str(raised.value) and str(path) in str(raised.value)


def _processes(cmdline: str) -> list[int]:
    """Pids whose command line is exactly `cmdline` (NUL-separated), polled briefly for exits in flight."""
    deadline = time.monotonic() + 2
    while True:
        found = [int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit() and _cmdline(p) == cmdline]
        if not found or time.monotonic() > deadline:
            return found
        time.sleep(0.05)


def _cmdline(proc: Path) -> str:
    try:
        return (proc / "cmdline").read_bytes().decode(errors="replace")
    except OSError:
        return ""



def _refused(stack, task: str, params: dict) -> str:
    response = requests.post(f"{stack.url}/api/jobs", json={"task": task, "params": params}, timeout=5)
    assert response.status_code == 400, response.text
    return response.json()["error"]


def test_a_parameter_is_a_value_never_an_option(stack, tmp_path):
    target = tmp_path / "written"
    assert _refused(stack, "gitlog", {"ref": f"--output={target}"}) == (
        "parameter 'ref' must not start with '-' (it would be read as an option)")
    assert not target.exists()
    job = stack.wait_job(stack.start_job("gitlog", ref="HEAD"))
    assert job["state"] == "succeeded" and len(log_lines(stack, job["id"])) == 2


def test_line_breaks_and_controls_cannot_forge_log_lines(stack):
    for word in ("ok\n::group::forged", "ok\r\x1b[32mBuild succeeded", "a\x00b", "ok\u2028next"):
        assert _refused(stack, "echo", {"word": word}) == (
            "parameter 'word' must not contain control characters or line breaks")


def test_choices_are_type_strict(stack):
    for look_alike in (True, 1.0, "1"):
        assert _refused(stack, "pick", {"n": look_alike}) == "parameter 'n' must be one of 1, 2, 3"
    job = stack.wait_job(stack.start_job("pick", n=2))
    assert log_lines(stack, job["id"])[1:] == ["[2]"]


def test_a_path_stays_in_its_directory(stack):
    with tempfile.TemporaryDirectory(dir="/tmp") as tmp:
        inside = Path(tmp) / "notes.txt"
        inside.write_text("inside\n")
        (Path(tmp) / "escape").symlink_to("/etc/hostname")
        for path in ("../etc/hostname", "/etc/hostname", f"{Path(tmp).name}/../../etc/hostname", ""):
            assert _refused(stack, "show", {"file": path}) == "parameter 'file' must be a relative path without '..'"
        job = stack.wait_job(stack.start_job("show", file=str(inside.relative_to("/tmp"))))
        assert job["state"] == "succeeded" and log_lines(stack, job["id"])[1:] == ["inside"]
        job = stack.wait_job(stack.start_job("show", file=f"{Path(tmp).name}/escape"))
        assert (job["state"], job["error"]) == ("failed", "parameter 'file' leads out of /tmp")
        assert log_lines(stack, job["id"]) == []


def test_a_command_gets_a_clean_environment(stack):
    job = stack.wait_job(stack.start_job("environ"))
    env = dict(line.split("=", 1) for line in log_lines(stack, job["id"])[1:])
    assert {"PATH", "HOME", "FIXED", "PYTHONUNBUFFERED", "SAMPLE_TOKEN"} <= set(env)
    assert env["SAMPLE_TOKEN"] == "***" and env["FIXED"] == "yes"
    assert not [name for name in env if name.startswith("TAILAPP_") or name == "SAMPLE_PEM"]
