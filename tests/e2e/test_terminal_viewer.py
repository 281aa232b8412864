"""Terminal rendering on the real stack: every recorded fixture, replayed by a job in the real worker, must
show in Chromium exactly what pyte (the oracle) shows for the same bytes, live and after a reload, with
sampled cells in the oracle's colours; raw stays raw, the plain view is plain text."""
# ruff: noqa: F811 - `browser` and `page` are the viewer tests' fixtures, imported, then taken as arguments

from __future__ import annotations

import re

import pyte
import pytest
import requests
from pyte.graphics import FG_BG_256

from tests.conftest import ROOT
from tests.e2e.test_terminal import FIXTURE_NAMES, FIXTURES, fixture_text
from tests.e2e.test_viewer import browser, open_job, page  # noqa: F401 - fixtures shared with the viewer tests
from tests.oracle import oracle_rows, screen_for, visible_rows

# Every row the viewer draws, read from the DOM: the pane is virtualised, so scroll through it.
VISIBLE_ROWS_JS = """async () => {
  const view = tailapp.view, n = tailapp.sections.rowCount, out = new Array(n).fill(null);
  const frame = () => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
  view.stopFollow();
  for (let r = 0; r < n; r += 40) {
    view.scrollToRow(r, 'start');
    view.request();
    await frame();
    for (const el of document.querySelectorAll('.log .row')) {
      out[Number(el.dataset.i)] = el.querySelector('.txt').textContent;
    }
  }
  return out;
}"""

# Computed style of the character at a UTF-16 offset of a row.
CELL_STYLE_JS = """async ([i, offset]) => {
  tailapp.view.revealLine(i);
  await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
  const txt = document.querySelector(`.log .row[data-i="${i}"] .txt`);
  const walker = document.createTreeWalker(txt, NodeFilter.SHOW_TEXT);
  let pos = 0;
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (offset < pos + node.data.length) {
      const s = getComputedStyle(node.parentElement);
      return {ch: node.data[offset - pos], color: s.color, background: s.backgroundColor, weight: s.fontWeight};
    }
    pos += node.data.length;
  }
  return null;
}"""

NAMES = ["black", "red", "green", "yellow", "blue", "magenta", "cyan", "white"]
PYTE_NAMES = {"brown": "yellow", "brightbrown": "brightyellow"}


def css_palette() -> dict[str, str]:
    """The viewer's 16 colours by pyte's names ("red", "brightred"), from the stylesheet."""
    css = (ROOT / "tailapp" / "static" / "css" / "tailapp.css").read_text()
    out = {}
    pattern = r"\.ansi-(bright-)?(\w+)-(fg|bg) \{ (?:color|background): (#\w+)"
    for bright, name, kind, colour in re.findall(pattern, css):
        out[(("bright" if bright else "") + name, kind)] = colour
    return out


def rgb(hex_colour: str) -> str:
    h = hex_colour.lstrip("#")
    return f"rgb({int(h[0:2], 16)}, {int(h[2:4], 16)}, {int(h[4:6], 16)})"


def expected_colour(value: str, kind: str, palette: dict) -> str | None:
    """What the viewer must compute for a pyte colour; None for the default."""
    if value == "default":
        return None
    if value in FG_BG_256[:16]:  # 38;5;1 is palette red, which the viewer draws as its red
        index = FG_BG_256.index(value)
        value = ("bright" if index >= 8 else "") + NAMES[index % 8]
    value = PYTE_NAMES.get(value, value)
    return rgb(palette[(value, kind)] if (value, kind) in palette else value)


def sampled_cells(screen: pyte.Screen, count: int = 24) -> list[tuple[int, int, object]]:
    """Up to `count` styled cells spread over the screen: (row, UTF-16 offset in the row's text, cell)."""
    styled = []
    for y in sorted(screen.buffer):
        offset = 0
        line = screen.buffer[y]
        for x in range(max(line, default=-1) + 1):
            cell = line[x]
            if cell.data and cell.data != " " and (cell.fg != "default" or cell.bg != "default" or cell.bold):
                styled.append((y, offset, cell))
            offset += len(cell.data.encode("utf-16-le")) // 2 if cell.data else 0
    step = max(1, len(styled) // count)
    return styled[::step][:count]


def finished(stack, page, job_id: str) -> None:
    job = stack.wait_job(job_id)
    assert job["state"] == "succeeded", job
    page.wait_for_function(f"tailapp.store.rawCount === {job['lines']} && tailapp.store.pending === 0",
                           timeout=30_000)


def shown_rows(page) -> list[str]:
    rows = page.evaluate(VISIBLE_ROWS_JS)
    assert None not in rows, "a row was never drawn"
    return visible_rows(rows)


def check_colours(page, name: str) -> int:
    screen = screen_for(fixture_text(name))
    palette = css_palette()
    default_fg, default_bg = rgb("#d1d7e0"), rgb("#0d1117")
    checked = 0
    for y, offset, cell in sampled_cells(screen):
        got = page.evaluate(CELL_STYLE_JS, [y, offset])
        assert got and got["ch"] == cell.data[0], (name, y, offset, got, cell)
        if cell.reverse:  # the colours swap places, each drawn in the palette of its new place
            fg = expected_colour(cell.bg, "fg", palette) or default_bg
            bg = expected_colour(cell.fg, "bg", palette) or default_fg
        else:
            fg, bg = expected_colour(cell.fg, "fg", palette), expected_colour(cell.bg, "bg", palette)
        assert got["color"] == (fg or default_fg), (name, y, offset, cell, got)
        assert got["background"] == (bg or "rgba(0, 0, 0, 0)"), (name, y, offset, cell, got)
        assert (got["weight"] == "700") == cell.bold, (name, y, offset, cell, got)
        checked += 1
    return checked


@pytest.mark.parametrize("name", FIXTURE_NAMES)
def test_fixture_shows_what_the_emulator_shows_live_and_after_reload(stack, page, name):
    expected = oracle_rows(fixture_text(name))
    job_id = stack.start_job("replay", fixture=name, chunk=512, interval=0.002)
    open_job(page, stack, job_id)
    finished(stack, page, job_id)
    assert shown_rows(page) == expected
    page.reload()
    page.wait_for_function("window.tailapp && window.tailapp.feed")
    finished(stack, page, job_id)
    assert shown_rows(page) == expected
    if name in ("pip", "npm", "rich", "traceback", "stress"):
        assert check_colours(page, name) >= 10


def test_redraws_arrive_in_place_while_the_job_runs(stack, page, tmp_path):
    gate = tmp_path / "watching"
    job_id = stack.start_job("replay", fixture="tqdm", chunk=64, interval=0.01, gate=str(gate))
    open_job(page, stack, job_id)
    page.evaluate("""() => {
      window.seen = {maxRows: 0, changes: 0, firstRow: new Set()};
      tailapp.store.onChange(() => { seen.changes++; });
      tailapp.view.onFrame(() => {
        seen.maxRows = Math.max(seen.maxRows, tailapp.store.length);
        const el = document.querySelector('.log .row[data-i="0"] .txt');
        if (el) seen.firstRow.add(el.textContent.replace(/\\s+/g, ' ').slice(0, 16));
      });
    }""")
    gate.touch()  # the job starts writing only now that the page watches
    finished(stack, page, job_id)
    seen = page.evaluate("({maxRows: seen.maxRows, changes: seen.changes, firstRow: [...seen.firstRow]})")
    raw_lines = stack.job(job_id)["lines"]
    assert raw_lines > 50
    assert seen["maxRows"] <= 4, seen  # three bars and the cursor's row: redrawn, never scrolled
    assert seen["changes"] > 5, seen
    assert len(seen["firstRow"]) >= 3, seen  # the drawn top row changed while we watched (0%, 33%, …)
    assert shown_rows(page) == oracle_rows(fixture_text("tqdm"))


def test_permalink_points_at_the_same_rendered_row_after_reload(stack, page):
    job_id = stack.start_job("replay", fixture="rich", chunk=4096, interval=0)
    stack.wait_job(job_id)
    expected = oracle_rows(fixture_text("rich"))
    target = next(n for n, row in enumerate(expected, 1) if "tailapp" in row)
    for _ in range(2):
        open_job(page, stack, job_id, f"#L{target}")
        finished(stack, page, job_id)
        page.wait_for_selector(".log .row.hl")
        assert page.locator(".log .row.hl .txt").text_content().rstrip() == expected[target - 1]
        assert page.locator(".log .row.hl .num").text_content() == str(target)


def test_raw_log_is_byte_for_byte_and_plain_view_is_rendered_text(stack):
    for name in ("tqdm", "stress", "rich"):
        job_id = stack.start_job("replay", fixture=name, chunk=4096, interval=0)
        stack.wait_job(job_id)
        url = f"{stack.url}/api/jobs/{job_id}/log"
        raw = requests.get(url, timeout=10)
        assert raw.content == (FIXTURES / f"{name}.raw").read_bytes()
        assert requests.get(url, params={"raw": 1}, timeout=10).content == raw.content
        plain = requests.get(url, params={"ansi": 0}, timeout=10)
        assert plain.status_code == 200
        assert "\x1b" not in plain.text and "\r" not in plain.text
        assert visible_rows(plain.text.split("\n")[:-1]) == oracle_rows(fixture_text(name))


def test_progress_called_200_times_redraws_one_row(stack, page):
    job_id = stack.start_job("redraws", count=200, interval=0.001)
    open_job(page, stack, job_id)
    finished(stack, page, job_id)
    assert stack.job(job_id)["lines"] == 202  # the raw log keeps every call
    rows = ["before", "::progress::1 item 200", "after"]
    plain = requests.get(f"{stack.url}/api/jobs/{job_id}/log", params={"ansi": 0}, timeout=10).text
    assert plain.splitlines() == rows
    assert page.evaluate("tailapp.store.length") == 3
    assert page.locator(".log .row.progress-line").count() == 1
    assert "100% item 200" in page.locator(".log .row.progress-line .prog-text").text_content()


def test_plain_view_pages_by_rows_and_rejects_bad_flags(stack):
    job_id = stack.start_job("replay", fixture="rich", chunk=4096, interval=0)
    stack.wait_job(job_id)
    url = f"{stack.url}/api/jobs/{job_id}/log"
    rows = oracle_rows(fixture_text("rich"))
    page = requests.get(url, params={"ansi": 0, "after": 4, "limit": 3}, timeout=10)
    assert page.text.splitlines() == rows[4:7]
    assert page.headers["X-Next-Seq"] == "7" and "X-More-Data" in page.headers
    last = requests.get(url, params={"ansi": 0, "after": 10}, timeout=10)
    assert last.text.splitlines() == rows[10:] and "X-More-Data" not in last.headers
    bad = requests.get(url, params={"ansi": "yes"}, timeout=10)
    assert (bad.status_code, bad.json()) == (400, {"error": "'ansi' must be an integer"})
