"""The pages around the log against the real stack: the job header, states said once, tab title and favicon."""

from __future__ import annotations

import re

import requests
from playwright.sync_api import expect

from tests.e2e import test_viewer
from tests.e2e.test_viewer import open_job, wait_lines

browser, page = test_viewer.browser, test_viewer.page  # the viewer tests' Chromium fixtures


def test_header_shows_title_facts_and_reason_once(stack, page):
    job_id = stack.start_job("sectioned", fail=True)
    stack.wait_job(job_id)
    open_job(page, stack, job_id)
    wait_lines(page, 10)
    expect(page.locator("#job-title")).to_have_text("Sectioned build")   # the title, not the name
    expect(page.locator("#job-badge")).to_have_text("failed")
    expect(page.locator("#job-reason")).to_have_text("exited with code 1")   # not "exit 1 · exited with code 1"
    assert page.locator(".job-error").count() == 0                       # no second red line under the head
    expect(page.locator("#job-started-by")).to_have_text("started by local via api")
    expect(page.locator("#job-params")).to_contain_text("fail=true")
    for fact in ("#job-queued", "#job-started", "#job-finished"):
        expect(page.locator(fact)).to_have_text(re.compile(r"just now|sec\. ago"))
        expect(page.locator(fact)).to_have_attribute("title", re.compile(r"\d{2}:\d{2}:\d{2}"))
    expect(page.locator("#job-duration")).to_have_text(re.compile(r"\d+(\.\d)?s"))
    expect(page).to_have_title(f"✗ sectioned #{job_id[:8]}")
    assert "%23cf222e" in page.evaluate("document.querySelector('link[rel=icon]').href")   # red favicon
    expect(page.locator("#follow")).to_be_hidden()                      # the finished log's end is on screen


def test_section_list_marks_the_failed_section_and_jumps_to_it(stack, page):
    job_id = stack.start_job("sectioned", fail=True)
    stack.wait_job(job_id)
    open_job(page, stack, job_id)
    wait_lines(page, 10)
    items = page.locator("#job-sections li")
    expect(items).to_have_count(3)
    expect(items.locator(".sec-title")).to_have_text(["Install", "Test", "Report"])
    expect(page.locator("#job-sections li.sec-failed .sec-title")).to_have_text("Test")
    expect(page.locator("#job-sections li.sec-failed .sec-time")).to_have_text(re.compile(r"\d"))
    page.locator("#job-sections .sec-link", has_text="Test").focus()
    page.keyboard.press("Enter")                                         # keyboard reaches it
    expect(page.locator(".log .row", has_text="error: test_b broke")).to_be_visible()


def test_succeeded_job_marks_no_section(stack, page):
    job_id = stack.start_job("sectioned", fail=False)
    stack.wait_job(job_id)
    open_job(page, stack, job_id)
    wait_lines(page, 10)
    expect(page.locator("#job-sections li")).to_have_count(3)
    assert page.locator("#job-sections li.sec-failed").count() == 0
    expect(page.locator("#job-reason")).to_be_hidden()
    expect(page).to_have_title(f"✓ sectioned #{job_id[:8]}")


def test_cancel_leaves_no_stale_message(stack, page):
    job_id = stack.start_job("long_command", seconds=60)
    open_job(page, stack, job_id)
    wait_lines(page, 2)
    page.click("#cancel-btn")
    expect(page.locator("#job-badge")).to_have_text("cancelled", timeout=20_000)
    expect(page.locator("#action-msg")).to_be_hidden()                   # no "Cancel requested…" beside Restart
    expect(page.locator("#restart-btn")).to_be_visible()
    expect(page.locator("#cancel-btn")).to_be_hidden()
    expect(page.locator("#job-cancelled-by")).to_have_text("cancelled by local via ui")
    expect(page).to_have_title(f"⊘ long_command #{job_id[:8]}")


def test_restart_names_the_job_it_restarts(stack, page):
    old = stack.start_job("sectioned", fail=False)
    stack.wait_job(old)
    answer = requests.post(f"{stack.url}/api/jobs/{old}/restart", json={}, timeout=10).json()
    open_job(page, stack, answer["id"])
    link = page.locator("#job-started-by a")
    expect(link).to_have_text(f"#{old[:8]}")
    expect(link).to_have_attribute("href", f"/jobs/{old}")


def test_favicon_is_served(stack):
    for path in ("/favicon.ico", "/static/favicon.svg"):
        response = requests.get(stack.url + path, timeout=10)
        assert response.status_code == 200 and response.headers["Content-Type"].startswith("image/svg+xml")
