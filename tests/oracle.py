"""The test oracle for terminal rendering: pyte, a terminal emulator library, fed the same bytes on a screen
wide and tall enough that nothing wraps or scrolls away."""

from __future__ import annotations

import pyte
from pyte import modes

COLUMNS = 400


def screen_for(text: str, columns: int = COLUMNS) -> pyte.Screen:
    """A pyte screen after `text` (a log: "\\n" is a new line, as a tty's onlcr makes it)."""
    screen = pyte.Screen(columns, text.count("\n") + 8)
    screen.set_mode(modes.LNM)
    # pyte knows DECSC/DECRC (ESC 7/8) but not their ANSI spelling CSI s/u, which xterm treats alike.
    pyte.Stream(screen).feed(text.replace("\x1b[s", "\x1b7").replace("\x1b[u", "\x1b8"))
    return screen


def visible_rows(rows: list[str]) -> list[str]:
    """Rows without trailing spaces, trailing blank rows dropped: the text a reader sees."""
    out = [row.rstrip() for row in rows]
    while out and not out[-1]:
        out.pop()
    return out


def oracle_rows(text: str, columns: int = COLUMNS) -> list[str]:
    """What the emulator shows for `text`, row by row."""
    return visible_rows(screen_for(text, columns).display)


def oracle_cell(screen: pyte.Screen, row: int, column: int):
    """The emulator's cell at (row, column): data, fg, bg, bold, italics, underscore, strikethrough, reverse."""
    return screen.buffer[row][column]
