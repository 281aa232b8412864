"""Compare with the last good run: normalising rules and the diff (fast), the API and page (real stack)."""

from __future__ import annotations

import pytest
import requests
from playwright.sync_api import expect

from tailapp import compare
from tests.e2e.test_viewer import browser, page  # noqa: F401 - fixtures

NORMALISE = compare.normaliser(None)


@pytest.mark.parametrize(("line", "seen"), [
    ("2026-11-23T17:51:47.760Z built in 3.2s", "<time> built in <duration>"),
    ("ok 12:01:02 [3/40] 45% 12.5 MB", "ok <time> [<n>/<n>] <pct> <size>"),
    ("/tmp/pytest-of-root/pytest-52/x.py:3 failed", "<tmp>:3 failed"),
    ("commit 81b7f9a id 550e8400-e29b-41d4-a716-446655440000 at 0x7f00ab", "commit <id> id <id> at <addr>"),
    ("exit code 1", "exit code 1"),  # a number that is news stays
    ("error: expected 3 arguments, got 2", "error: expected 3 arguments, got 2"),
])
def test_normalising_replaces_what_changes_every_run_and_keeps_the_rest(line, seen):
    assert NORMALISE(line) == seen


def test_diff_shows_only_real_changes_with_both_line_numbers():
    old = ["start", *(f"step {n}/3 took {n}.{n}s" for n in range(1, 4)), "ok", "same", "end"]
    new = ["start", *(f"step {n}/3 took {n * 7}s" for n in range(1, 4)), "FAILED here", "same", "end"]
    result = compare.diff(old, new, NORMALISE, context=1)
    assert (result["added"], result["removed"]) == (1, 1)
    [hunk] = result["hunks"]
    assert hunk["lines"] == [(" ", 4, 4, "step 3/3 took 21s"), ("-", 5, None, "ok"), ("+", None, 5, "FAILED here"),
                             (" ", 6, 6, "same")]
    assert compare.diff(old, old, NORMALISE)["hunks"] == []


def test_repeated_lines_diff_as_the_change_not_as_everything():
    old = ["step <n> ok"] * 5000 + ["done"]
    new = ["step <n> ok"] * 2500 + ["warning: slow disk"] + ["step <n> ok"] * 2500 + ["done"]
    result = compare.diff(old, new, NORMALISE)
    assert (result["added"], result["removed"], len(result["hunks"])) == (1, 0, 1)


def test_rules_file_disables_built_ins_and_adds_its_own(tmp_path):
    rules = tmp_path / "compare.toml"
    rules.write_text('disable = ["counters"]\n[[rule]]\nname = "build numbers"\npattern = "build #\\\\d+"\n')
    normalise = compare.normaliser(str(rules))
    assert normalise("build #12 at 50%") == "<build numbers> at 50%"
    assert "counters" not in normalise.names and "build numbers" in normalise.names
    rules.write_text('disable = ["nonsense"]\n')
    with pytest.raises(compare.CompareError, match="no built-in rule named nonsense"):
        compare.normaliser(str(rules))


def test_compare_api_picks_the_last_successful_run_and_shows_what_changed(stack):
    good = stack.start_job("report", result="ok")
    assert stack.wait_job(good)["state"] == "succeeded"
    broken = stack.start_job("report", result="broken", fail=True)  # not a baseline: it failed
    assert stack.wait_job(broken)["state"] == "failed"
    news = stack.start_job("report", result="changed")
    stack.wait_job(news)
    answer = requests.get(f"{stack.url}/api/jobs/{news}/compare", timeout=10).json()
    assert answer["other"]["id"] == good and (answer["added"], answer["removed"]) == (1, 1), answer
    changed = [line for hunk in answer["hunks"] for line in hunk["lines"] if line[0] != " "]
    # Row numbers are the viewer's (rendered rows): the redrawn progress line counts once.
    assert changed == [["-", 8, None, "result: ok"], ["+", None, 8, "result: changed"]]
    assert requests.get(f"{stack.url}/api/jobs/{news}/compare?with={broken}", timeout=10).json()["added"] == 1

    unknown = requests.get(f"{stack.url}/api/jobs/{news}/compare?with={'0' * 32}", timeout=10)
    assert unknown.status_code == 404 and unknown.json()["error"] == "unknown job"


def test_a_task_that_never_succeeded_has_nothing_to_compare_with(stack, page):  # noqa: F811
    failed = stack.start_job("boom")
    assert stack.wait_job(failed)["state"] == "failed"
    answer = requests.get(f"{stack.url}/api/jobs/{failed}/compare", timeout=10)
    assert answer.status_code == 404 and answer.json()["error"] == "no earlier successful run of boom to compare with"
    page.goto(f"{stack.url}/jobs/{failed}/compare")
    expect(page.locator(".compare-message")).to_have_text("no earlier successful run of boom to compare with")


def test_compare_page_marks_the_change_and_links_both_runs(stack, page, tmp_path):  # noqa: F811
    news = stack.start_job("report", result="paged")
    stack.wait_job(news)
    page.goto(f"{stack.url}/jobs/{news}")
    page.click("text=Compare")
    expect(page.locator(".diff-added")).to_contain_text("result: paged")
    expect(page.locator(".diff-removed")).to_contain_text("result: ")
    expect(page.locator(".diff-added .ln a").last).to_have_attribute("href", f"/jobs/{news}#L8")
    assert page.locator(".diff tbody tr").count() <= 7  # only the change and its context, not the whole log
    page.screenshot(path="/tmp/compare.png", full_page=True)
