"""Search across jobs on the real stack: the API, its time budget, the archive, and the page's permalinks."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import pytest
import redis
import requests
from playwright.sync_api import expect

from tailapp import crosssearch
from tailapp.archive import Archive
from tailapp.store import Store, key
from tests.e2e import test_viewer
from tests.e2e.test_viewer import wait_lines

browser, page = test_viewer.browser, test_viewer.page  # the viewer tests' Chromium fixtures


@pytest.fixture(scope="module")
def reports(stack) -> dict:
    """Two `report` runs with a result nobody else prints; the older one only in the archive."""
    tag = f"news-{uuid.uuid4().hex[:8]}"
    old = stack.start_job("report", result=f"{tag} old")
    stack.wait_job(old)
    new = stack.start_job("report", result=f"{tag} new", fail=True)
    stack.wait_job(new)
    stack.wait(lambda: stack.redis.ttl(key.lines(old)) > 0, "the archive")
    stack.redis.delete(key.job(old), key.lines(old))  # what the week's TTL does
    return {"tag": tag, "old": old, "new": new}


def search(stack, **query) -> requests.Response:
    return requests.get(f"{stack.url}/api/search", params=query, timeout=30)


def test_finds_rows_by_rendered_row_number_in_redis_and_archive(stack, reports):
    answer = search(stack, task="report", q=reports["tag"], jobs=50).json()
    assert answer["complete"] and answer["searched"] >= 2
    found = {r["job"]["id"]: r for r in answer["results"]}
    assert list(found)[:2] == [reports["new"], reports["old"]]                      # newest first, archive too
    # "fetching 0%" is redrawn in place by the next raw line: the result is raw line 9 but rendered row 8.
    assert found[reports["new"]]["hits"] == [{"row": 8, "text": f"result: {reports['tag']} new"}]
    assert found[reports["old"]]["hits"] == [{"row": 8, "text": f"result: {reports['tag']} old"}]
    assert found[reports["new"]]["job"]["title"] == "Report"
    plain = requests.get(f"{stack.url}/api/jobs/{reports['new']}/log?ansi=0", timeout=10).text.splitlines()
    assert plain[8 - 1] == f"result: {reports['tag']} new"                         # the same numbering


def test_regex_and_case(stack, reports):
    answer = search(stack, task="report", q=rf"{reports['tag'].upper()} (new|old)$", regex="1", jobs=50).json()
    assert {r["job"]["id"] for r in answer["results"]} >= {reports["new"], reports["old"]}
    steps = search(stack, task="report", q=r"step \d done", regex="1", jobs=1).json()
    assert steps["searched"] == 1 and steps["results"][0]["count"] == 5
    assert search(stack, task="report", q=r"step \d done", jobs=1).json()["results"] == []   # plain text: no regex


def test_bad_searches_are_clear_errors(stack):
    for query, words in (({"q": ""}, "say what to search for"), ({"q": "(", "regex": "1"}, "not a regular expression"),
                         ({"q": "x", "jobs": "0"}, "'jobs' must be between"),
                         ({"q": "x", "budget": "99"}, "'budget' must be between")):
        response = search(stack, **query)
        assert response.status_code == 400 and words in response.json()["error"], response.text


def test_the_time_budget_stops_the_search_and_says_so(stack, reports):
    archive = Archive(str(Path(stack.env["TAILAPP_DATA_DIR"]) / "archive"))
    store = Store(redis.Redis.from_url(stack.redis_url, decode_responses=True), archive)
    cut = crosssearch.search(store, "report", crosssearch.Query(reports["tag"]), 50, budget=0)
    assert cut["searched"] == 0 and cut["candidates"] >= 2 and cut["complete"] is False
    whole = crosssearch.search(store, "report", crosssearch.Query(reports["tag"]), 50, budget=10)
    assert whole["complete"] and whole["searched"] == whole["candidates"]


def test_search_box_on_the_job_list_links_to_the_row(stack, page, reports):
    page.goto(stack.url)
    page.select_option("#search-task", "report")
    page.fill("#search-q", reports["tag"])
    page.click("#search-btn")
    page.wait_for_url(re.compile(r"/search\?"))
    expect(page.locator("#search-summary")).to_contain_text("2 matching rows in 2 of")
    link = page.locator(f'.search-result[data-job-id="{reports["new"]}"] .hits a')
    expect(link).to_have_text("L8")
    link.click()
    page.wait_for_url(re.compile(rf"/jobs/{reports['new']}#L8$"))
    page.wait_for_function("window.tailapp && window.tailapp.feed")
    wait_lines(page, 8)
    expect(page.locator('.log .row.hl[data-i="7"]')).to_contain_text(f"result: {reports['tag']} new")
