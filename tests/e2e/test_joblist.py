"""The job list over the API, the CLI and the page: filters, paging through Redis and the archive, live rows."""

from __future__ import annotations

import re
import uuid

import pytest
import requests
from playwright.sync_api import expect

from tailapp.store import key
from tests.e2e import test_viewer
from tests.e2e.test_cli import cli

browser, page = test_viewer.browser, test_viewer.page  # the viewer tests' Chromium fixtures


def listed(stack, **query) -> dict:
    response = requests.get(f"{stack.url}/api/jobs", params=query, timeout=10)
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture(scope="module")
def tagged(stack) -> dict:
    """Three finished jobs with a parameter value no other test uses; the oldest one only in the archive."""
    tag = uuid.uuid4().hex[:10]
    ids = {}
    for name, fail in (("old", False), ("bad", True), ("good", False)):
        ids[name] = stack.start_job("boom" if fail else "sectioned", **({"message": tag} if fail else {"fail": False}))
        stack.wait_job(ids[name])
    ids["archived"] = stack.start_job("demo", lines=2, interval=0, fail=False)
    stack.wait_job(ids["archived"])
    stack.wait(lambda: stack.redis.ttl(key.lines(ids["archived"])) > 0, "the archive")
    stack.redis.delete(key.job(ids["archived"]), key.lines(ids["archived"]))  # what the week's TTL does
    return {"tag": tag, **ids}


def test_filters_by_task_state_and_text(stack, tagged):
    by_text = listed(stack, q=f"message={tagged['tag']}")["jobs"]
    assert [j["id"] for j in by_text] == [tagged["bad"]]
    assert by_text[0]["title"] == "Boom" and by_text[0]["exit_code"] is not None
    assert listed(stack, q=tagged["bad"][:12])["jobs"][0]["id"] == tagged["bad"]          # an id prefix
    failed = listed(stack, state="failed", limit=500)["jobs"]
    assert failed and {j["state"] for j in failed} == {"failed"}
    assert tagged["bad"] in [j["id"] for j in failed] and tagged["good"] not in [j["id"] for j in failed]
    either = {j["state"] for j in listed(stack, state="failed,succeeded", limit=500)["jobs"]}
    assert either <= {"failed", "succeeded"} and len(either) == 2
    sectioned = listed(stack, task="sectioned", limit=500)["jobs"]
    assert {j["task"] for j in sectioned} == {"sectioned"} and tagged["good"] in [j["id"] for j in sectioned]


def test_pages_reach_every_job_including_archived_ones(stack, tagged):
    everything = {j["id"] for j in listed(stack, limit=500)["jobs"]}
    assert tagged["archived"] in everything                                            # read back from the archive
    seen, cursor, pages = [], None, []
    while True:
        one = listed(stack, limit=25, **({"before": cursor} if cursor else {}))
        seen += [j["id"] for j in one["jobs"]]
        pages.append([(j["id"][:8], j["created_at"]) for j in one["jobs"]] + [("next", one["next"])])
        cursor = one["next"]
        if cursor is None:
            break
    index = dict(stack.redis.zrange(key.jobs, 0, -1, withscores=True))
    twice = {job_id: index.get(job_id) for job_id in seen if seen.count(job_id) > 1}
    assert len(seen) == len(set(seen)), f"listed twice (id: score): {twice}; pages: {pages}"      # each job once
    assert set(seen) == set(index)
    assert seen.index(tagged["good"]) < seen.index(tagged["bad"]) < seen.index(tagged["old"])      # newest first


def test_bad_filters_are_clear_errors(stack):
    for query, words in (({"state": "done"}, "unknown state 'done'"), ({"before": "x"}, "'before' must be a cursor"),
                         ({"limit": "0"}, "'limit' must be between")):
        response = requests.get(f"{stack.url}/api/jobs", params=query, timeout=10)
        assert response.status_code == 400 and words in response.json()["error"], response.text


def test_cli_lists_with_the_same_filters(stack, tagged):
    out = cli(stack, "jobs", "-q", tagged["tag"])
    assert out.returncode == 0, out.stderr
    lines = out.stdout.decode().splitlines()
    assert lines[0].split() == ["JOB", "TASK", "STATE", "STARTED", "DURATION", "EXIT", "PARAMS"]
    assert len(lines) == 2 and lines[1].startswith(tagged["bad"]) and f"message={tagged['tag']}" in lines[1]
    paged = cli(stack, "jobs", "-n", "1", "--state", "succeeded")
    assert paged.returncode == 0 and re.search(r"more: --before \d+-[0-9a-f]{32}", paged.stderr.decode())


def test_page_filters_titles_and_live_rows(stack, page, tagged):
    page.goto(f"{stack.url}/?task=sectioned")
    page.wait_for_function("window.tailapp && window.tailapp.list")
    rows = page.locator("#jobs-table tbody tr")
    expect(rows.first.locator("td.task")).to_have_text("Sectioned build")             # the title, not the name
    expect(rows.first.locator("td.params")).to_have_text("fail=false pause=0")
    expect(rows.first.locator("td.started time")).to_have_attribute("title", re.compile(r"\d{2}:\d{2}:\d{2}"))
    expect(rows.first.locator("td.exit")).to_have_text("0")
    page.wait_for_timeout(300)  # let the socket join the job list
    other = stack.start_job("demo", lines=1, interval=0)
    mine = stack.start_job("sectioned", fail=True)
    expect(page.locator(f'#jobs-table tr[data-job-id="{mine}"] .badge')).to_have_text("failed", timeout=20_000)
    expect(page.locator(f'#jobs-table tr[data-job-id="{mine}"] td.exit')).to_have_text("1")
    stack.wait_job(other)
    assert page.locator(f'#jobs-table tr[data-job-id="{other}"]').count() == 0       # filtered out live too
    page.select_option("#filter-state", "failed")
    page.click("#filter-btn")
    page.wait_for_url(re.compile(r"state=failed"))
    states = page.locator("#jobs-table tbody tr").evaluate_all("rows => rows.map(r => r.dataset.state)")
    assert states and set(states) == {"failed"}


def test_page_pages_to_older_jobs(stack, page, tagged):
    for _ in range(51 - stack.redis.zcard(key.jobs)):   # more than one page (50) of jobs
        stack.start_job("demo", lines=1, interval=0)
    page.goto(f"{stack.url}/")
    first = page.locator("#jobs-table tbody tr").evaluate_all("rows => rows.map(r => r.dataset.jobId)")
    assert len(first) == 50
    page.click("#page-older")
    older = page.locator("#jobs-table tbody tr").evaluate_all("rows => rows.map(r => r.dataset.jobId)")
    assert older and not set(older) & set(first)
    expect(page.locator("#page-newest")).to_be_visible()
