"""Logs of any size in the browser (issue 16): download, the size-limit marker, errors, groups, time, wrap.
Real Chromium on the real stack; fixtures from test_viewer."""

from __future__ import annotations

import re
import time
from pathlib import Path

import redis

from tailapp import jobs
from tailapp.store import Store
from tailapp.writer import LogWriter
from tests.e2e.test_viewer import browser, open_job, page, row, wait_lines  # fixtures and helpers

__all__ = ["browser", "page"]


def write_job(stack, texts: list[str], task: str = "bench", pauses: dict[int, float] | None = None,
              **writer) -> str:
    """A job whose log is `texts`, written by the real LogWriter into the stack's Redis (sleeping
    pauses[k] seconds before text k); left running."""
    store = Store(redis.Redis.from_url(stack.redis_url, decode_responses=True))
    job_id = jobs.create(store, task, {})["id"]
    jobs.start(store, job_id)
    out = LogWriter(store, job_id, **writer)
    for k, text in enumerate(texts):
        if pauses and k in pauses:
            out.flush()
            time.sleep(pauses[k])
        out.write(text + "\n")
    out.close()
    return job_id


def finish(stack, job_id: str, state: str = "succeeded", code: int = 0) -> None:
    store = Store(redis.Redis.from_url(stack.redis_url, decode_responses=True))
    jobs.finish(store, job_id, state, code)


def test_download_link_saves_the_whole_log_under_the_jobs_name(stack, page):
    job_id = stack.start_job(lines=3000, interval=0)
    stack.wait_job(job_id)
    open_job(page, stack, job_id)
    with page.expect_download() as info:
        page.click("text=Download")
    download = info.value
    assert download.suggested_filename == f"demo-{job_id[:8]}.log"
    lines = Path(download.path()).read_bytes().decode().split("\n")[:-1]
    assert len(lines) == 3000 and lines[-1].endswith("Build succeeded\x1b[0m")


def test_size_limit_marker_row_between_head_and_tail(stack, page):
    texts = [f"line {n:04d}" for n in range(1, 2001)] + ["FAILED: the summary at the end"]
    job_id = write_job(stack, texts, max_log_bytes=1_000, tail_bytes=200)
    finish(stack, job_id, "failed", 1)
    job = stack.job(job_id)
    assert job["truncated"] is True and job["skipped_lines"] > 1000 and job["skipped_bytes"] > 10_000
    open_job(page, stack, job_id)
    wait_lines(page, job["lines"])
    marker = row(page, 101)
    assert f"{job['skipped_lines']:,} lines" in marker.inner_text() and "skipped" in marker.inner_text()
    assert row(page, 100).inner_text().endswith("line 0100")
    assert "FAILED: the summary at the end" in page.evaluate("tailapp.store.plain(tailapp.store.length - 1)")


def error_log() -> list[str]:
    texts = [f"step {n} ok" for n in range(1, 601)]
    texts[199] = "src/a.c:12: error: expected ';'"                # row 200
    texts[299] = "::warning file=a.py,line=3::old call"            # row 300
    texts[339] = "::group::Tests"                                  # rows 340..360, collapsed when it ends
    texts[349] = "\x1b[31m::error::test_b failed\x1b[0m"           # row 350, inside the group
    texts[359] = "::endgroup::"
    texts[499] = "\u25a0 Job lost: its worker stopped sending heartbeats (killed or crashed)."  # row 500
    return texts


def in_sight(page, n: int) -> bool:
    return page.evaluate(f"tailapp.errors.inSight({n - 1}) && !tailapp.sections.headerAt({n - 1})")


def count_colour(page) -> str:
    """The navigator's count colour: red for errors, amber for warnings only, the toolbar's for none."""
    return page.evaluate("getComputedStyle(document.getElementById('err-count')).color")


def test_failed_job_opens_at_its_first_error_and_e_steps_through_marks(stack, page):
    job_id = write_job(stack, error_log())
    finish(stack, job_id, "failed", 1)
    open_job(page, stack, job_id)
    page.wait_for_function("tailapp.store.length === 600 && tailapp.errors.opened")
    assert in_sight(page, 200) and not page.evaluate("tailapp.view.follow")
    assert page.locator("#err-count").inner_text() == "3 errors · 1 warning"
    assert count_colour(page) == "rgb(255, 123, 114)"  # errors found: red
    assert "err" in row(page, 200).get_attribute("class").split()
    for expected, mark in ((300, "warn"), (350, "err"), (500, "err"), (200, "err")):  # wraps round
        page.keyboard.press("e")  # the group around row 350 was collapsed: it opens
        assert in_sight(page, expected), expected
        assert mark in page.locator(f'.log .row[data-i="{expected - 1}"]').get_attribute("class").split()
    page.keyboard.press("Shift+E")
    assert in_sight(page, 500)
    page.click("#err-first")
    assert in_sight(page, 200)
    ticks = page.evaluate("""() => {
        const c = document.getElementById('err-map'); const d = c.getContext('2d').getImageData(0, 0, 1, c.height).data;
        const red = []; for (let y = 0; y < c.height; y++) if (d[4 * y] > 200 && d[4 * y + 1] < 120) red.push(y);
        return {red, height: c.height, rows: tailapp.sections.rowCount};
    }""")
    assert ticks["red"], ticks
    first = ticks["red"][0] / ticks["height"]
    assert abs(first - 199 / ticks["rows"]) < 0.02, ticks  # the first tick sits at row 200's place


def test_failed_job_without_errors_opens_at_its_end(stack, page):
    job_id = write_job(stack, [f"step {n} ok" for n in range(1, 400)])
    finish(stack, job_id, "failed", 3)
    open_job(page, stack, job_id)
    page.wait_for_function("tailapp.store.length === 399 && tailapp.errors.opened")
    page.wait_for_function("tailapp.view.atBottom()", timeout=5_000)  # followEnd() scrolls on the next frame
    assert page.locator("#err-count").inner_text() == "no errors" and page.locator("#err-map").is_hidden()
    assert count_colour(page) == page.evaluate("getComputedStyle(document.querySelector('.log-toolbar')).color")


NESTED = ["::group::Build", "compile a", "::group::Tests", "test x", "::group::Slow suite", "needle deep inside",
          "::group::Level four", "deeper", "::endgroup::", "::endgroup::", "::endgroup::", "::endgroup::",
          *[f"after {n}" for n in range(1, 200)]]


def visible(page, n: int) -> bool:
    return page.evaluate(f"tailapp.sections.isVisible({n - 1})")


def test_nested_groups_durations_search_permalink_and_expand_all(stack, page):
    job_id = write_job(stack, NESTED, pauses={5: 0.5})
    finish(stack, job_id)
    open_job(page, stack, job_id)
    wait_lines(page, len(NESTED))
    page.wait_for_function("tailapp.sections.rowCount === 1 + 199")  # every group ended, so collapsed
    assert page.locator("#groups-expand").is_enabled()
    page.click("#groups-expand")
    assert page.evaluate("tailapp.sections.rowCount") == len(NESTED)
    slow = row(page, 5)
    assert re.search(r"Slow suite 4 lines · 0\.[5-9]s", slow.inner_text()), slow.inner_text()
    assert re.search(r"Build 10 lines · 0\.[5-9]s", row(page, 1).inner_text())
    depth = page.evaluate("[1, 3, 5, 7, 8].map((n) => tailapp.sections.depthOf(n - 1))")
    assert depth == [0, 1, 2, 3, 4]
    page.click("#groups-collapse")
    assert page.evaluate("tailapp.sections.rowCount") == 1 + 199 and not visible(page, 6)
    page.fill("#search-input", "needle")
    page.keyboard.press("Enter")
    page.wait_for_function("tailapp.sections.isVisible(5)")  # the three groups around it opened
    assert page.locator("#search-count").inner_text() == "1 of 1" and not visible(page, 8)
    assert page.locator('.log .row[data-i="5"] mark').inner_text() == "needle"
    page.click("#groups-collapse")
    open_job(page, stack, job_id, "#L8")  # a permalink into the innermost group of collapsed ones
    page.wait_for_function(f"tailapp.store.length === {len(NESTED)} && tailapp.sections.isVisible(7)")
    assert "hl" in page.locator('.log .row[data-i="7"]').get_attribute("class").split()


def test_time_modes_and_slowest_gaps(stack, page):
    texts = [f"line {n}" for n in range(1, 201)]
    job_id = write_job(stack, texts, pauses={50: 0.6, 120: 0.3, 180: 1.2})
    finish(stack, job_id)
    open_job(page, stack, job_id)
    wait_lines(page, 200)
    page.select_option("#ts-mode", "delta")
    assert re.fullmatch(r"\+1\.[2-9]s", row(page, 181).locator(".ts").inner_text())
    assert re.fullmatch(r"\+\d{1,2}ms", row(page, 182).locator(".ts").inner_text())
    page.select_option("#ts-mode", "rel")
    assert re.fullmatch(r"\+00:0[2-9]\.\d{3}", row(page, 200).locator(".ts").inner_text())
    page.select_option("#ts-mode", "abs")
    assert re.fullmatch(r"\d\d:\d\d:\d\d\.\d{3}", row(page, 1).locator(".ts").inner_text())
    page.evaluate("tailapp.view.scrollToRow(0, 'start')")
    page.click("#gaps summary")
    page.wait_for_selector("#gaps-list .gap")  # the list is filled on the details' toggle event, a task later
    items = page.locator("#gaps-list .gap")
    assert 3 <= items.count() <= 10  # silences of 0 ms are not listed
    first = items.nth(0).inner_text()
    assert re.match(r"\+1\.[2-9]s before line 181", first) and "line 181" in first
    assert re.match(r"\+(6[0-9]{2}|[7-9][0-9]{2})ms before line 51", items.nth(1).inner_text())
    assert re.match(r"\+[3-5][0-9]{2}ms before line 121", items.nth(2).inner_text())
    items.nth(0).click()
    assert in_sight(page, 181) and page.locator("#gaps-list").is_hidden()
    assert "hl" in page.locator('.log .row[data-i="180"]').get_attribute("class").split()


def test_wrap_is_remembered_and_keeps_a_permalinked_range(stack, page):
    long = "word " * 120  # 600 characters: several lines at 1280 px
    texts = [f"line {n} " + (long if n % 7 == 0 else "") for n in range(1, 301)]
    job_id = write_job(stack, texts)
    finish(stack, job_id)
    open_job(page, stack, job_id, "#L100-L140")
    wait_lines(page, 300)
    page.wait_for_function("tailapp.view.inSight(99)")
    assert page.locator('.log .row[data-i="118"]').get_attribute("class").split().count("hl") == 1
    height = page.evaluate("tailapp.view.spacer.offsetHeight")
    page.check("#wrap-toggle")
    page.wait_for_function("tailapp.view.inSight(99)")
    tall = page.locator('.log .row[data-i="104"]')  # line 105 wraps
    assert tall.bounding_box()["height"] >= 3 * 20 and page.evaluate("tailapp.view.spacer.offsetHeight") > height
    below = page.locator('.log .row[data-i="105"]').bounding_box()
    assert abs(below["y"] - (tall.bounding_box()["y"] + tall.bounding_box()["height"])) < 1  # no overlap, no gap
    text_height = page.evaluate("""() => { const r = document.createRange();
        r.selectNodeContents(document.querySelector('.log .row[data-i="104"] .txt'));
        return r.getBoundingClientRect().height; }""")
    assert round(text_height / 20) == tall.bounding_box()["height"] / 20, text_height  # as many lines as its text
    assert page.evaluate("location.hash") == "#L100-L140"
    assert "hl" in page.locator('.log .row[data-i="139"]').get_attribute("class").split()
    open_job(page, stack, job_id, "#L100-L140")  # remembered across pages
    wait_lines(page, 300)
    assert page.is_checked("#wrap-toggle") and page.evaluate("tailapp.view.layout.wrap")
    page.uncheck("#wrap-toggle")
    page.wait_for_function("tailapp.view.inSight(99)")
    assert page.locator('.log .row[data-i="104"]').bounding_box()["height"] == 20


def test_wrapped_rows_of_wide_characters_take_the_lines_they_need(stack, page):
    texts = ["\u6f22\u5b57" * 120, "\U0001f680 ok " * 60, "e\u0301" * 300, "next row"]  # 480, 300+, 300 cells
    job_id = write_job(stack, texts)
    finish(stack, job_id)
    open_job(page, stack, job_id)
    wait_lines(page, 4)
    page.check("#wrap-toggle")
    page.wait_for_function("tailapp.view.layout.wrap")
    for i in range(3):
        box = page.locator(f'.log .row[data-i="{i}"]').bounding_box()
        below = page.locator(f'.log .row[data-i="{i + 1}"]').bounding_box()
        text_height = page.evaluate("""(i) => { const r = document.createRange();
            r.selectNodeContents(document.querySelector(`.log .row[data-i="${i}"] .txt`));
            return r.getBoundingClientRect().height; }""", i)
        assert abs(below["y"] - (box["y"] + box["height"])) < 1
        assert text_height <= box["height"] + 1, (i, text_height, box)  # its text stays inside its box


def test_copy_takes_the_log_text_only_in_log_order(stack, page):
    job_id = write_job(stack, [f"alpha {n} beta" for n in range(1, 301)])
    finish(stack, job_id)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    open_job(page, stack, job_id)  # opens at the end: the last rows are drawn first
    wait_lines(page, 300)
    page.select_option("#ts-mode", "abs")  # times in the gutter must not be copied either
    page.evaluate("tailapp.view.revealLine(234)")  # rows above the first drawn ones come after them in the DOM
    page.wait_for_timeout(100)
    first, last = page.locator('.log .row[data-i="224"] .txt'), page.locator('.log .row[data-i="231"] .txt')
    box_a, box_b = first.bounding_box(), last.bounding_box()
    char = box_a["width"] / len("alpha 225 beta")
    page.mouse.move(box_a["x"] + 2 * char + 1, box_a["y"] + 10)  # inside "alpha", after "al"
    page.mouse.down()
    page.mouse.move(box_b["x"] + 7 * char + 1, box_b["y"] + 10, steps=5)
    page.mouse.up()
    page.keyboard.press("Control+C")
    copied = page.evaluate("navigator.clipboard.readText()")
    expected = "\n".join(["pha 225 beta", *[f"alpha {n} beta" for n in range(226, 232)], "alpha 2"])
    assert copied == expected


def test_search_over_a_big_log_is_exact_and_lets_the_page_respond(stack, page):
    count = 200_000
    job_id = write_job(stack, [f"row {n} compiling module_{n % 97:02d}" for n in range(1, count + 1)])
    finish(stack, job_id)
    open_job(page, stack, job_id)
    wait_lines(page, count, timeout=90_000)
    found = page.evaluate("""async () => {
        tailapp.search.sliceMs = 1;  // however fast this machine is, the scan takes several slices
        let ticks = 0; const timer = setInterval(() => ticks++, 0);
        await tailapp.search.run('MODULE_42'.toLowerCase());
        clearInterval(timer);
        return [tailapp.search.lines.length, ticks, document.getElementById('search-count').textContent];
    }""")
    assert found[0] == sum(1 for n in range(1, count + 1) if n % 97 == 42)
    assert found[1] >= 2, found  # timers ran while it searched: it yields between slices
    assert re.fullmatch(rf"\d+ of {found[0]}", found[2]), found


def test_a_running_log_past_its_limit_says_output_is_held_back(stack, page):
    store = Store(redis.Redis.from_url(stack.redis_url, decode_responses=True))
    job_id = jobs.create(store, "bench", {})["id"]
    jobs.start(store, job_id)
    store.redis.set(f"tailapp:hb:{job_id}", 1, ex=120)  # a live job: the lost-job check leaves it alone
    out = LogWriter(store, job_id, max_log_bytes=500, tail_bytes=100)
    for n in range(1, 201):
        out.write(f"line {n:04d}\n")
    out.flush()
    open_job(page, stack, job_id)
    wait_lines(page, 50)
    held = page.locator("#log-held")
    held.wait_for(state="visible")
    out.close()
    finish(stack, job_id)
    held.wait_for(state="hidden")
    page.wait_for_function("tailapp.store.length > 51")
    assert "skipped" in page.evaluate("tailapp.store.plain(50)")


def test_an_annotation_naming_a_file_shows_its_file_and_line(stack, page):
    texts = ["compiling", "::error file=src/app.py,line=12,col=5::name 'x' is not defined",
             "::warning file=setup.cfg::deprecated key", "::error::no file here", "done"]
    job_id = write_job(stack, texts)
    finish(stack, job_id, "failed", 1)
    open_job(page, stack, job_id)
    wait_lines(page, 5)
    assert row(page, 2).locator(".annot-loc").inner_text() == "src/app.py:12:5"
    assert row(page, 3).locator(".annot-loc").inner_text() == "setup.cfg"
    assert row(page, 4).locator(".annot-loc").count() == 0 and row(page, 1).locator(".annot-loc").count() == 0
    assert row(page, 2).locator(".txt").inner_text() == texts[1]  # the log text itself is unchanged
