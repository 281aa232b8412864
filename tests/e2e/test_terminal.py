"""The Python terminal model (tailapp/terminal.py) against pyte, the oracle, and on hand-made cases."""

from __future__ import annotations

import io
import json
import subprocess
from pathlib import Path

import pytest

from tailapp.terminal import PlainOutput, Terminal, render
from tests.oracle import oracle_rows, visible_rows
from tests.stress import stress_log


def rows(log: str) -> list[str]:
    return visible_rows(render(log.split("\n")[:-1]))


CASES = {
    "carriage return keeps what it does not cover": ("abcdef\rXY\n", ["XYcdef"]),
    "progress redrawn with \\r": ("Downloading 10%\rDownloading 50%\n", ["Downloading 50%"]),
    "backspace": ("ab\bc\n", ["ac"]),
    "cursor up and erase line redraw a row": ("1\n2\n3\n\x1b[2A\x1b[2Kx\n\x1b[1Bz\n", ["1", "x", "3", "z"]),
    "cursor back": ("abc\x1b[2Dx\n", ["axc"]),
    "cursor down makes rows": ("q\x1b[5Bw\n", ["q", "", "", "", "", " w"]),
    "absolute position within the log": ("\x1b[3;5Hhi\n", ["", "", "    hi"]),
    "previous and next line": ("a\nb\n\x1b[2F-\x1b[1E+\n", ["-", "+"]),
    "column absolute": ("abcdef\x1b[3Gx\n", ["abxdef"]),
    "cursor up stops at the first row": ("a\n\x1b[9Ab\n", ["b"]),
    "erase to end of line": ("abcdef\x1b[3G\x1b[K\n", ["ab"]),
    "erase to start of line": ("abcdef\x1b[3G\x1b[1K\n", ["   def"]),
    "erase line": ("abcdef\x1b[2K\n", []),
    "erase display above": ("one\ntwo\nthree\x1b[1J\n", []),
    "erase display below": ("one\ntwo\nthree\x1b[2A\x1b[J\n", ["one"]),
    "erase display keeps the rows": ("one\ntwo\x1b[2J\nthree\n", ["", "", "three"]),
    "save and restore, DEC": ("x\x1b7y\n\x1b8z\n", ["xz"]),
    "save and restore, ANSI": ("x\x1b[sy\nw\n\x1b[uz\n", ["xz", "w"]),
    "tab": ("a\tb\n", ["a       b"]),
    "wide characters take two cells": ("中文ab\x1b[5GZ\n", ["中文Zb"]),
    "combining marks take none": ("e\u0301x\rE\n", ["Ex"]),
    "everything else is swallowed": ("\x1b]0;title\x07t\x1b[?25l\x1b(B\x1b=\x07o\x1b[6n\x1b[>0ck\n", ["tok"]),
    "links show their text": ("\x1b]8;;https://x.org\x1b\\site\x1b]8;;\x1b\\\n", ["site"]),
}


@pytest.mark.parametrize("name", CASES)
def test_case_matches_expectation_and_pyte(name):
    log, expected = CASES[name]
    assert rows(log) == expected
    assert oracle_rows(log) == expected


def test_strings_and_scroll_regions_are_swallowed():
    # pyte prints DCS strings and homes the cursor on DECSTBM: ours alone. A log has no scroll region.
    assert rows("a\x1bPq#0;2\x1b\\b\x1b[1;24rc\x1b_apc\x1b\\\n") == ["abc"]


def test_half_overwritten_wide_character_leaves_a_blank():
    # xterm's behaviour; pyte keeps a stub here, so this case is ours alone.
    assert rows("中文ab\rX\n") == ["X 文ab"]


@pytest.mark.parametrize("seed", range(6))
def test_random_cursor_stress_matches_pyte(seed):
    log = stress_log(600, seed)
    assert rows(log) == oracle_rows(log)


def test_redrawn_rows_are_reported_and_new_rows_are_not():
    term = Terminal().feed(["a", "b", "c"])
    assert term.changed == set()
    term.write("\x1b[2A\x1b[2Kx")
    assert term.changed == {1}
    assert term.rows == ["a", "x", "c"]


def test_plain_output_writes_a_row_once_it_settled_and_the_rest_on_close():
    out = io.BytesIO()
    plain = PlainOutput(out, window=2)
    plain.write(b"head\n0%\n")
    for n in range(10, 101, 10):
        plain.write(f"\x1b[1A\x1b[2K{n}%\n".encode())
    assert out.getvalue() == b""  # the bar is still being redrawn
    plain.write(b"\x1b[32ma\x1b[0m\nb\nc\n")
    assert out.getvalue() == b"head\n100%\na\n"  # rows 2 above the cursor are final
    plain.close()
    assert out.getvalue() == b"head\n100%\na\nb\nc\n"


FIXTURES = Path(__file__).parent.parent / "fixtures" / "terminal"
FIXTURE_NAMES = sorted(p.stem for p in FIXTURES.glob("*.raw"))


def fixture_text(name: str) -> str:
    return (FIXTURES / f"{name}.raw").read_bytes().decode("utf-8", errors="replace")


def test_the_corpus_is_all_there():
    assert FIXTURE_NAMES == ["apt", "curl", "git", "npm", "pip", "rich", "stress", "tqdm", "traceback"]


@pytest.mark.parametrize("name", FIXTURE_NAMES)
def test_fixture_golden_text_is_what_pyte_shows(name):
    golden = (FIXTURES / f"{name}.txt").read_text().splitlines()
    assert oracle_rows(fixture_text(name)) == golden


@pytest.mark.parametrize("name", FIXTURE_NAMES)
def test_fixture_renders_as_pyte_shows_it(name):
    assert rows(fixture_text(name)) == oracle_rows(fixture_text(name))


# Cases where pyte is no oracle (it differs from xterm there): the two models must still agree.
BEYOND_PYTE = ["中文ab\rX\n", "a中b\x1b[2G\x1b[1@x\n", "x\x1b7y\x1b7\n\x1b8z\x1b8w\n", "q\x1bPdcs\x1b\\r\x1b[1;24rs\n",
               "\x1b[1:2Aa\x1b[38:2::1:2:3mb\n", "top\n\x1bMup\x1bMagain\n", "\x1b[5Xabc\x1b[3D\x1b[2P\n",
               "😀x\x1b[1G\x1b[1C!\n", "e\u0301\u0302z\x1b[1Pq\n", "\x1b]8;;https://x\x07L\x1b]8;;\x07\tT\x0bV\x0cF\n"]


def test_browser_model_renders_as_the_python_model():
    logs = [*BEYOND_PYTE, *(log for log, _ in CASES.values()), stress_log(400, 99)]
    out = subprocess.run(["node", "--import", "./tests/js/register.mjs", "tests/js/rows.mjs"], check=True,
                         input=json.dumps(logs).encode(), capture_output=True, cwd=Path(__file__).parents[2])
    for log, rows in zip(logs, json.loads(out.stdout), strict=True):
        assert rows == render(log.split("\n")[:-1]), repr(log)
