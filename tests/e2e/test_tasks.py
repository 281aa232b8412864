"""Task authoring against the real worker: capture of print, stderr, logging and children; helpers; params."""

from __future__ import annotations

import time

import requests


def log_lines(stack, job_id: str) -> list[str]:
    return requests.get(f"{stack.url}/api/jobs/{job_id}/log", timeout=10).text.splitlines()


def test_print_stderr_logging_and_child_output_arrive_in_order(stack):
    job_id = stack.start_job("mixed", rounds=2)
    assert stack.wait_job(job_id)["state"] == "succeeded"
    expected = []
    for n in (1, 2):
        expected += [f"print {n}", f"stderr {n}", f"WARNING sample: logging {n}", f"child out {n}", f"child err {n}"]
    assert log_lines(stack, job_id) == expected


def test_two_concurrent_jobs_do_not_mix(stack):
    first, second = stack.start_job("tagged", tag="a"), stack.start_job("tagged", tag="b")
    for job_id in (first, second):
        assert stack.wait_job(job_id)["state"] == "succeeded"
    for job_id, tag in ((first, "a"), (second, "b")):
        expected = [line for n in range(50) for line in (f"{tag} print {n}", f"WARNING sample: {tag} log {n}")]
        assert log_lines(stack, job_id) == expected
    a, b = stack.job(first), stack.job(second)
    assert a["started_at"] < b["finished_at"] and b["started_at"] < a["finished_at"], "the jobs did not overlap"


def test_sections_and_progress_reach_the_viewer_and_the_job(stack):
    job_id = stack.start_job("steps", mode="slow", count=3)
    viewer = stack.viewer().connect()
    try:
        assert viewer.subscribe(job_id, after=0)["ok"]
        deadline = time.monotonic() + 10
        while (stack.job(job_id)["progress"] or {}).get("fraction") is None and time.monotonic() < deadline:
            time.sleep(0.05)
        running = stack.job(job_id)
        assert running["state"] == "running" and running["progress"]["message"].startswith("step ")
        viewer.wait_done(30)
    finally:
        viewer.disconnect()
    texts = [viewer.texts[seq] for seq in sorted(viewer.texts)]
    # Raw lines as written: the second and third progress calls redraw the first one's row in place.
    assert texts == ["::group::Prepare", "preparing", "::endgroup::", "::progress::0.3333 step 1 of 3",
                     "\x1b[1A\x1b[2K::progress::0.6667 step 2 of 3", "\x1b[1A\x1b[2K::progress::1 step 3 of 3"]
    assert stack.job(job_id)["progress"] == {"fraction": 1.0, "message": "step 3 of 3"}


def test_parameters_are_listed_and_validated(stack):
    tasks = {t["name"]: t for t in requests.get(f"{stack.url}/api/tasks", timeout=5).json()["tasks"]}
    params = {p["name"]: p for p in tasks["steps"]["params"]}
    assert params["mode"]["type"] == "choice" and params["mode"]["choices"] == ["fast", "slow"]
    assert [params[n]["type"] for n in ("count", "ratio", "loud")] == ["int", "float", "bool"]
    for bad, message in (({"mode": "medium"}, "parameter 'mode' must be one of fast, slow"),
                         ({"count": "3"}, "parameter 'count' must be an integer"),
                         ({"ratio": "half"}, "parameter 'ratio' must be a number"),
                         ({"loud": 1}, "parameter 'loud' must be true or false")):
        response = requests.post(f"{stack.url}/api/jobs", json={"task": "steps", "params": bad}, timeout=5)
        assert (response.status_code, response.json()) == (400, {"error": message})


def test_job_failed_ends_with_its_exit_code_and_message(stack):
    job = stack.wait_job(stack.start_job("slow_exit", code=3, lines=1, interval=0))
    assert (job["state"], job["exit_code"], job["error"]) == ("failed", 3, "gave up with 3")
