"""Any screen, any user, on the real stack: 360 px layouts, keyboard reach, themes, and an axe-core check."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests
from playwright.sync_api import Page, expect

from tests.conftest import ROOT, stop_process
from tests.e2e import test_viewer
from tests.e2e.test_viewer import open_job, wait_lines

browser = test_viewer.browser  # the viewer tests' Chromium
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
SERIOUS = ("serious", "critical")
TOKEN = "a11y-token-5f2e9c71d04b"

if not AXE.exists():
    pytest.fail("node_modules/axe-core missing: run `npm ci` (it is a devDependency)", pytrace=False)


@pytest.fixture
def narrow(browser) -> Page:
    """A phone-sized page: 360 × 740 CSS px."""
    context = browser.new_context(viewport={"width": 360, "height": 740}, bypass_csp=True)
    yield context.new_page()
    context.close()


def axe_violations(page: Page) -> list[str]:
    """Serious and critical axe-core (WCAG 2 A/AA) violations of the page as it is now."""
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21aa']}})")
    return [f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
            for v in result["violations"] if v["impact"] in SERIOUS]


def no_sideways_scroll(page: Page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), "the page scrolls sideways"


@pytest.fixture(scope="module")
def failed_job(stack) -> str:
    job_id = stack.start_job("sectioned", fail=True)
    stack.wait_job(job_id)
    return job_id


@pytest.fixture(scope="module")
def auth_url(stack):
    """A second server that asks for a token: the login page."""
    process, url = stack.spawn_server("server-a11y", {"TAILAPP_AUTH_TOKEN": TOKEN})
    yield url
    stop_process(process)


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_pages_have_no_serious_axe_violations(browser, stack, failed_job, auth_url, scheme):
    context = browser.new_context(viewport={"width": 1280, "height": 800}, bypass_csp=True, color_scheme=scheme)
    page = context.new_page()
    try:
        for url, ready in ((f"{stack.url}/", "#jobs-table"), (f"{stack.url}/jobs/{failed_job}", "#job-sections li"),
                           (f"{stack.url}/jobs/{failed_job}/compare", "main"), (f"{auth_url}/login", "form")):
            page.goto(url)
            page.wait_for_selector(ready)
            page.wait_for_timeout(300)
            assert axe_violations(page) == [], url
    finally:
        context.close()


def test_themes_follow_the_os_setting(browser, stack):
    backgrounds = {}
    for scheme in ("light", "dark"):
        context = browser.new_context(color_scheme=scheme)
        page = context.new_page()
        page.goto(stack.url)
        backgrounds[scheme] = page.evaluate("getComputedStyle(document.body).backgroundColor")
        context.close()
    assert backgrounds == {"light": "rgb(246, 248, 250)", "dark": "rgb(13, 17, 23)"}


def test_job_page_at_360px_folds_the_tools_into_a_menu(stack, narrow, failed_job):
    open_job(narrow, stack, failed_job)
    wait_lines(narrow, 5)
    no_sideways_scroll(narrow)
    for box in ("#job-badge", "#search-input", "#tools-btn", "#conn-status", "#restart-btn"):
        shown = narrow.locator(box).bounding_box()
        assert shown and shown["x"] >= 0 and shown["x"] + shown["width"] <= 360, box
    raw = narrow.get_by_role("link", name="View raw")
    expect(raw).to_be_hidden()
    narrow.click("#tools-btn")
    expect(narrow.locator("#tools-btn")).to_have_attribute("aria-expanded", "true")
    for name in ("Compare", "View raw", "Plain text", "Download"):
        expect(narrow.get_by_role("link", name=name)).to_be_visible()
        box = narrow.get_by_role("link", name=name).bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 360, name
    expect(narrow.locator("#ts-mode")).to_be_visible()
    narrow.keyboard.press("Escape") if narrow.evaluate("document.activeElement.closest('#log-tools')") else None
    narrow.click("h1")
    expect(raw).to_be_hidden()


def test_job_list_and_login_at_360px(stack, narrow, auth_url):
    narrow.goto(stack.url)
    narrow.wait_for_selector("#jobs-table")
    no_sideways_scroll(narrow)
    expect(narrow.locator(".topbar")).to_have_js_property("offsetWidth", 360)   # the top bar spans the page
    assert axe_violations(narrow) == []
    narrow.goto(f"{auth_url}/login")
    no_sideways_scroll(narrow)
    card = narrow.locator(".login-card").bounding_box()
    assert card["x"] >= 0 and card["x"] + card["width"] <= 360
    narrow.fill("#login-token", TOKEN)
    narrow.press("#login-token", "Enter")
    narrow.wait_for_url(f"{auth_url}/")


def test_every_control_is_reached_by_tab_with_a_visible_focus(stack, failed_job, browser):
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.goto(f"{stack.url}/jobs/{failed_job}")
    page.wait_for_selector("#job-sections li")
    wanted = {"restart-btn", "search-input", "search-prev", "search-next", "ts-mode", "sec-Test", "link-Compare",
              "link-Download"}
    reached = set()
    for _ in range(40):
        page.keyboard.press("Tab")
        focused = page.evaluate("""() => {
            const el = document.activeElement;
            const style = getComputedStyle(el);
            const visible = style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0;
            const sec = el.classList.contains('sec-link');
            const label = sec ? 'sec-' + el.querySelector('.sec-title').textContent : 'link-' + el.textContent.trim();
            const name = el.id || label;
            return [name, visible];
        }""")
        if focused[0] in wanted:
            assert focused[1], f"{focused[0]} shows no focus outline"
            reached.add(focused[0])
    context.close()
    assert reached == wanted


def test_no_favicon_404(stack):
    assert requests.get(f"{stack.url}/favicon.ico", timeout=10).status_code == 200
    assert Path(ROOT / "tailapp" / "static" / "favicon.svg").read_text().startswith("<svg")
