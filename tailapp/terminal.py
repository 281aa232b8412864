"""The terminal model on the Python side: raw log lines in, the plain text of the rendered rows out.

The browser runs the same model (`static/js/term.js`, with colours); this one serves the plain-text view
(`/api/jobs/<id>/log?ansi=0`) and `tailapp tail` into a pipe. The terminal is as wide and as tall as the
log: rows are only added, never removed, the cursor moves anywhere within them, nothing wraps.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import BinaryIO

from wcwidth import wcwidth

TAB = 8
SETTLE_ROWS = 50  # rows below which a row counts as final for a pipe (a tall terminal's height)
# One token: printable text, CSI, OSC, DCS/SOS/PM/APC string, other ESC sequence, or one control.
TOKEN = re.compile(r"([^\x00-\x1f\x7f-\x9f]+)|\x1b\[([0-?]*)([ -/]*)([@-~])|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\|$)"
                   r"|\x1b[PX^_][^\x1b]*(?:\x1b\\|$)|\x1b([ -/]*)([0-~]?)|([\x00-\x1f\x7f-\x9f])")
PARAMS = re.compile(r"[0-9;:]*")
SGR = re.compile(r"\x1b\[[0-9;:]*m")


def cell_width(char: str) -> int:
    """Cells a character takes: 0 (combining, format), 1, or 2 (wide CJK, emoji)."""
    if char < "\u0300":
        return 1
    return max(wcwidth(char), 0)


class Terminal:
    """Rows of a log as a terminal draws them, as text. Feed raw lines with write()."""

    def __init__(self):
        self.rows: list[str] = []
        self._open: dict[int, list[str]] = {}  # rows being drawn on during one write(), as cells
        self.x = self.y = 0
        self._saved = (0, 0)
        self.changed: set[int] = set()  # existing rows redrawn since the caller last cleared it

    def write(self, line: str) -> None:
        """Process one raw log line and the newline that ended it."""
        if self.x == 0 and self.y == len(self.rows):
            plain = SGR.sub("", line) if "\x1b" in line else line  # colours change no text
            if plain.isascii() and plain.isprintable():
                self.rows.append(plain)  # the fast path: most build output, coloured or not
                self.y += 1
                return
        for m in TOKEN.finditer(line):
            text, params, inter, final, esc_inter, esc_final, control = m.groups()
            if text is not None:
                self._print(text)
            elif final is not None:
                self._csi(params, inter, final)
            elif control is not None:
                self._control(control)
            elif esc_final is not None and not esc_inter:
                self._esc(esc_final)
        self._newline()
        self._pack()

    def feed(self, lines: Iterable[str]) -> Terminal:
        for line in lines:
            self.write(line)
        return self

    def text(self) -> str:
        """All rows, each ending in a newline."""
        return "".join(row + "\n" for row in self.rows)

    # -- cells ---------------------------------------------------------------------------------------
    def _cells(self, y: int) -> list[str]:
        cells = self._open.get(y)
        if cells is None:
            self.rows.extend([""] * (y + 1 - len(self.rows)))
            cells = self._open[y] = _unpack(self.rows[y])
        return cells

    def _pack(self) -> None:
        for y, cells in self._open.items():
            self.rows[y] = "".join(cells)
            self.changed.add(y)
        self._open.clear()

    def _print(self, text: str) -> None:
        cells = self._cells(self.y)
        for char in text:
            width = cell_width(char)
            x = self.x
            if width == 0:
                if x:
                    cells[x - 1] += char
                continue
            if len(cells) < x + width:
                cells.extend([" "] * (x + width - len(cells)))
            if cells[x] == "" and x:  # over half of a wide character: its other half goes blank
                cells[x - 1] = " "
            if x + width < len(cells) and cells[x + width] == "":
                cells[x + width] = " "
            cells[x] = char
            if width == 2:
                cells[x + 1] = ""
            self.x += width

    def _newline(self) -> None:
        if len(self.rows) <= self.y:
            self._cells(self.y)
        self.y += 1
        self.x = 0

    def _erase_line(self, mode: int) -> None:
        if self.y >= len(self.rows) and self.y not in self._open:
            return
        cells = self._cells(self.y)
        if mode == 0:
            del cells[self.x :]
        elif mode == 1:
            cells[: self.x + 1] = [" "] * min(self.x + 1, len(cells))
        else:
            cells.clear()

    def _erase_display(self, mode: int) -> None:
        end = len(self.rows)
        span = {0: range(self.y + 1, end), 1: range(min(self.y, end))}.get(mode, range(end))
        for y in span:
            if self.rows[y] or y in self._open:
                self._open.pop(y, None)
                self.rows[y] = ""
                self.changed.add(y)
        if mode in (0, 1):
            self._erase_line(mode)

    # -- sequences -----------------------------------------------------------------------------------
    def _control(self, char: str) -> None:
        if char == "\r":
            self.x = 0
        elif char == "\b":
            self.x = max(0, self.x - 1)
        elif char == "\t":
            self.x = (self.x // TAB + 1) * TAB
        elif char in "\x0b\x0c":
            self._newline()

    def _esc(self, final: str) -> None:
        if final == "7":
            self._saved = (self.x, self.y)
        elif final == "8":
            self.x, self.y = self._saved
        elif final == "D":
            self.y += 1
        elif final == "E":
            self._newline()
        elif final == "M":
            self.y = max(0, self.y - 1)

    def _csi(self, params: str, inter: str, final: str) -> None:
        if inter or not PARAMS.fullmatch(params) or final == "m":
            return  # private modes and colours: nothing to draw in plain text
        p = [int(v) if v.isdigit() else 0 for v in params.split(";")]  # as term.js: "1:2" counts as 0
        n = max(1, p[0])
        handler = _MOVES.get(final)
        if handler is not None:
            handler(self, n, p)
        elif final == "K":
            self._erase_line(p[0])
        elif final == "J":
            self._erase_display(p[0])
        elif final in "XP@":
            self._edit_chars(final, n)

    def _edit_chars(self, final: str, n: int) -> None:
        cells = self._cells(self.y)
        if final == "X":
            end = min(self.x + n, len(cells))
            cells[self.x : end] = [" "] * max(0, end - self.x)
        elif final == "P":
            del cells[self.x : self.x + n]
        elif self.x < len(cells):
            cells[self.x : self.x] = [" "] * n


def _up(t: Terminal, n: int, p: list[int]) -> None:
    t.y = max(0, t.y - n)


def _down(t: Terminal, n: int, p: list[int]) -> None:
    t.y += n


def _set(**fields):
    def move(t: Terminal, n: int, p: list[int]) -> None:
        for name, value in fields.items():
            setattr(t, name, value(t, n, p))
    return move


_MOVES = {
    "A": _up, "B": _down, "e": _down,
    "C": _set(x=lambda t, n, p: t.x + n), "a": _set(x=lambda t, n, p: t.x + n),
    "D": _set(x=lambda t, n, p: max(0, t.x - n)),
    "E": _set(y=lambda t, n, p: t.y + n, x=lambda t, n, p: 0),
    "F": _set(y=lambda t, n, p: max(0, t.y - n), x=lambda t, n, p: 0),
    "G": _set(x=lambda t, n, p: n - 1), "`": _set(x=lambda t, n, p: n - 1),
    "d": _set(y=lambda t, n, p: n - 1),
    "H": _set(y=lambda t, n, p: n - 1, x=lambda t, n, p: max(1, p[1] if len(p) > 1 else 0) - 1),
    "s": _set(_saved=lambda t, n, p: (t.x, t.y)),
    "u": _set(x=lambda t, n, p: t._saved[0], y=lambda t, n, p: t._saved[1]),
}
_MOVES["f"] = _MOVES["H"]


def _unpack(row: str) -> list[str]:
    cells: list[str] = []
    for char in row:
        width = cell_width(char)
        if width == 0 and cells:
            cells[-1] += char
        else:
            cells.append(char)
            if width == 2:
                cells.append("")
    return cells


def render(lines: Iterable[str]) -> list[str]:
    """The rendered rows of raw log lines."""
    return Terminal().feed(lines).rows


class PlainOutput:
    """A binary stream for following a log into a pipe: raw lines in, rendered rows out as plain text.

    A pipe cannot be rewritten, so a row is written once the cursor is `window` rows below it (where a
    terminal of that height could no longer redraw it) and the rest when the stream is closed.
    """

    def __init__(self, out: BinaryIO, window: int = SETTLE_ROWS):
        self.out, self.window = out, window
        self.term = Terminal()
        self._written = 0
        self._partial = ""

    def write(self, data: bytes) -> int:
        *lines, self._partial = (self._partial + data.decode("utf-8", "replace")).split("\n")
        self.term.feed(lines)
        self._emit(self.term.y - self.window)
        return len(data)

    def flush(self) -> None:
        self.out.flush()

    def close(self) -> None:
        """Write every row not written yet."""
        if self._partial:
            self.term.write(self._partial)
            self._partial = ""
        self._emit(len(self.term.rows))
        self.out.flush()

    def _emit(self, upto: int) -> None:
        rows = self.term.rows[self._written : max(self._written, upto)]
        if rows:
            self.out.write("".join(row.rstrip() + "\n" for row in rows).encode("utf-8"))
            self._written += len(rows)
