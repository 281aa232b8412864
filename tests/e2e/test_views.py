"""The browser pages through plain HTTP: the Start Task form (with CSRF), the job page, errors."""

from __future__ import annotations

import re

import requests


def csrf_token(session: requests.Session, url: str) -> str:
    page = session.get(url, timeout=5)
    return re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)


def test_start_task_form_redirects_to_job_page(stack):
    session = requests.Session()
    token = csrf_token(session, stack.url + "/")
    response = session.post(f"{stack.url}/jobs", data={"csrf_token": token, "task": "demo", "param.lines": "3",
                                                       "param.interval": "0"}, allow_redirects=False, timeout=5)
    assert response.status_code == 303
    job_url = response.headers["Location"]
    assert re.fullmatch(r"/jobs/[0-9a-f]{32}", job_url)
    page = session.get(stack.url + job_url, timeout=5)
    assert page.status_code == 200 and job_url.rsplit("/", 1)[1] in page.text
    job = stack.wait_job(job_url.rsplit("/", 1)[1])
    assert job["params"] == {"lines": 3, "interval": 0.0, "fail": False}


def test_form_without_csrf_token_is_refused(stack):
    response = requests.post(f"{stack.url}/jobs", data={"task": "demo"}, allow_redirects=False, timeout=5)
    assert response.status_code == 400 and "CSRF" in response.text


def test_form_with_bad_params_shows_the_error(stack):
    session = requests.Session()
    token = csrf_token(session, stack.url + "/")
    response = session.post(f"{stack.url}/jobs", data={"csrf_token": token, "task": "demo", "param.lines": "lots"},
                            timeout=5)
    assert response.status_code == 400 and "parameter &#39;lines&#39; must be a number" in response.text


def test_unknown_job_page_is_a_404_page(stack):
    response = requests.get(f"{stack.url}/jobs/{'f' * 32}", timeout=5)
    assert response.status_code == 404 and "unknown job" in response.text and "Traceback" not in response.text


def test_index_lists_recent_jobs_and_the_start_button(stack):
    job_id = stack.start_job(lines=1, interval=0)
    page = requests.get(stack.url + "/", timeout=5).text
    assert "Start Task" in page and f"/jobs/{job_id}" in page
