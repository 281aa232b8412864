"""The HTTP API: tasks, jobs, log paging, and clear errors."""

from __future__ import annotations

import requests


def lines_of(text: str) -> list[str]:
    """Log lines of a text/plain log (lines may hold \r, so not str.splitlines)."""
    return text.split("\n")[:-1]


def test_tasks_lists_demo_with_its_parameters(stack):
    tasks = requests.get(f"{stack.url}/api/tasks", timeout=5).json()["tasks"]
    demo = next(t for t in tasks if t["name"] == "demo")
    params = {p["name"]: p for p in demo["params"]}
    assert params["lines"]["type"] == "int" and params["lines"]["default"] == 40
    assert params["lines"]["min"] == 1 and params["lines"]["max"] == 1_000_000
    assert params["interval"]["type"] == "float" and params["fail"]["type"] == "bool"


def test_create_get_list_jobs(stack):
    response = requests.post(f"{stack.url}/api/jobs", json={"task": "demo", "params": {"lines": 5, "interval": 0}},
                             timeout=5)
    assert response.status_code == 201
    body = response.json()
    assert body["url"] == f"/jobs/{body['id']}" and len(body["id"]) == 32
    job = stack.wait_job(body["id"])
    assert job["state"] == "succeeded" and job["exit_code"] == 0 and job["lines"] == 5
    assert job["params"] == {"lines": 5, "interval": 0, "fail": False}
    assert job["created_at"] <= job["started_at"] <= job["finished_at"]
    listed = requests.get(f"{stack.url}/api/jobs?limit=3", timeout=5).json()["jobs"]
    assert listed[0]["id"] == body["id"] and len(listed) <= 3
    created = [j["created_at"] for j in listed]
    assert created == sorted(created, reverse=True)


def test_failing_job_ends_failed_with_exit_code(stack):
    job = stack.wait_job(stack.start_job(lines=3, interval=0, fail=True))
    assert job["state"] == "failed" and job["exit_code"] == 1 and job["error"]


def test_log_paging_with_after_and_headers(stack):
    job_id = stack.start_job(lines=50, interval=0)
    stack.wait_job(job_id)
    first = requests.get(f"{stack.url}/api/jobs/{job_id}/log?after=0&limit=20", timeout=5)
    assert first.headers["Content-Type"].startswith("text/plain")
    assert first.headers["X-Next-Seq"] == "20" and first.headers["X-More-Data"] == "true"
    assert len(lines_of(first.text)) == 20
    rest = requests.get(f"{stack.url}/api/jobs/{job_id}/log?after=20", timeout=5)
    assert rest.headers["X-Next-Seq"] == "50" and "X-More-Data" not in rest.headers
    assert lines_of(rest.text)[-1].endswith("Build succeeded\x1b[0m")
    assert len(lines_of(first.text + rest.text)) == 50
    beyond = requests.get(f"{stack.url}/api/jobs/{job_id}/log?after=50", timeout=5)
    assert beyond.text == "" and beyond.headers["X-Next-Seq"] == "50"


def test_running_job_log_says_more_data(stack):
    job_id = stack.start_job(lines=100, interval=0.05)
    stack.wait_job(job_id, states={"running"})
    response = requests.get(f"{stack.url}/api/jobs/{job_id}/log", timeout=5)
    assert response.headers["X-More-Data"] == "true"


def test_errors_are_json_with_status(stack):
    url = stack.url
    cases = [
        (requests.get(f"{url}/api/jobs/{'0' * 32}", timeout=5), 404, "unknown job"),
        (requests.get(f"{url}/api/jobs/not-an-id", timeout=5), 404, "unknown job"),
        (requests.get(f"{url}/api/jobs/{'0' * 32}/log", timeout=5), 404, "unknown job"),
        (requests.get(f"{url}/api/nothing", timeout=5), 404, "not found"),
        (requests.post(f"{url}/api/jobs", data="{not json", headers={"Content-Type": "application/json"},
                       timeout=5), 400, "body must be a JSON object"),
        (requests.post(f"{url}/api/jobs", json=[1, 2], timeout=5), 400, "body must be a JSON object"),
        (requests.post(f"{url}/api/jobs", json={"task": "rm -rf /"}, timeout=5), 400, "unknown task"),
        (requests.post(f"{url}/api/jobs", json={"task": 5}, timeout=5), 400, '"task" must be a string'),
        (requests.post(f"{url}/api/jobs", json={"task": "demo", "params": {"lines": "many"}}, timeout=5),
         400, "parameter 'lines' must be an integer"),
        (requests.post(f"{url}/api/jobs", json={"task": "demo", "params": {"lines": 0}}, timeout=5),
         400, "parameter 'lines' must be \u2265 1"),
        (requests.post(f"{url}/api/jobs", json={"task": "demo", "params": {"lines": 2_000_000}}, timeout=5),
         400, "parameter 'lines' must be \u2264 1000000"),
        (requests.post(f"{url}/api/jobs", json={"task": "demo", "params": {"bogus": 1}}, timeout=5),
         400, "unknown parameter 'bogus'"),
        (requests.post(f"{url}/api/jobs", json={"task": "demo", "params": []}, timeout=5),
         400, '"params" must be an object'),
        (requests.post(f"{url}/api/jobs", data="task=demo", timeout=5), 400, "send a JSON body"),
        (requests.get(f"{url}/api/jobs?limit=zero", timeout=5), 400, "'limit' must be an integer"),
        (requests.get(f"{url}/api/jobs?limit=0", timeout=5), 400, "'limit' must be between 1 and 500"),
        (requests.post(f"{url}/api/jobs", json={"task": "demo", "params": {"x": "y" * 2_000_000}}, timeout=5),
         413, None),
    ]
    for response, status, message in cases:
        assert response.status_code == status, (response.url, response.status_code, response.text[:200])
        body = response.json()
        assert set(body) == {"error"}
        if message:
            assert body["error"].startswith(message), body
        assert "Traceback" not in response.text


def test_log_paging_rejects_bad_after(stack):
    job_id = stack.start_job(lines=1, interval=0)
    for bad in ("-1", "x", "1.5"):
        response = requests.get(f"{stack.url}/api/jobs/{job_id}/log?after={bad}", timeout=5)
        assert response.status_code == 400 and "'after'" in response.json()["error"]


def test_log_after_beyond_any_seq_is_a_clear_400_not_a_500(stack):
    job_id = stack.start_job(lines=3, interval=0)
    stack.wait_job(job_id)
    for after in (2**63 - 1, 2**53):
        response = requests.get(f"{stack.url}/api/jobs/{job_id}/log?after={after}", timeout=10)
        assert response.status_code == 400, (after, response.status_code, response.text)
        assert response.json()["error"] == "'after' must be between 0 and 9007199254740991"
    response = requests.get(f"{stack.url}/api/jobs/{job_id}/log?after={2**53 - 1}", timeout=10)
    assert response.status_code == 200 and response.text == ""  # the largest seq a client may name: no lines
    viewer = stack.viewer().connect()
    try:
        assert viewer.call("subscribe", {"job": job_id, "after": 2**63 - 1}) == {
            "ok": False, "error": '"after" must be an integer from 0 to 9007199254740991'}
    finally:
        viewer.disconnect()
