"""A synthetic terminal stress log: random cursor motion, erases, save/restore, colours and links over a
growing set of rows, then wide characters on rows of their own. Deterministic for a seed.

Wide characters stay out of the random part on purpose: pyte (the oracle) keeps the stub of a wide
character that is half overwritten, where xterm and tailapp blank it, so only aligned overwrites compare.
"""

from __future__ import annotations

import random

WORDS = ["build", "step", "ok", "fetch", "layer", "done", "warning", "error:", "[1/3]", "100%", "⠋", "└─"]
COLOURS = ["\x1b[31m", "\x1b[1;32m", "\x1b[38;5;208m", "\x1b[48;5;24m", "\x1b[38;2;10;200;90m", "\x1b[3;4m",
           "\x1b[2m", "\x1b[7m", "\x1b[9m", "\x1b[0m", "\x1b[m", "\x1b[94;103m", "\x1b[22;23;24;27;29m"]
WIDE = ["中文", "日本語", "한국어", "😀", "🚀 ok", "表"]


def _move(rng: random.Random, rows: int) -> str:
    n = rng.randint(1, 4)
    return rng.choice([f"\x1b[{n}A", f"\x1b[{n}B", f"\x1b[{n}C", f"\x1b[{n}D", f"\x1b[{n}E", f"\x1b[{n}F",
                       f"\x1b[{rng.randint(1, 60)}G", f"\x1b[{rng.randint(1, rows + 1)};{rng.randint(1, 60)}H",
                       f"\x1b[{rng.randint(1, rows + 1)};{rng.randint(1, 60)}f", "\r", "\b", "\t"])


def _piece(rng: random.Random, rows: int, saved: list[bool]) -> str:
    roll = rng.random()
    if roll < 0.35:
        return rng.choice(WORDS) + " " * rng.randint(0, 2)
    if roll < 0.6:
        return _move(rng, rows)
    if roll < 0.7:
        return rng.choice(COLOURS)
    if roll < 0.78:
        return rng.choice(["\x1b[K", "\x1b[0K", "\x1b[1K", "\x1b[2K"])
    if roll < 0.84:  # pairs only: pyte keeps a stack of saved cursors where xterm keeps one
        saved[0] = not saved[0]
        return rng.choice(["\x1b7", "\x1b[s"] if saved[0] else ["\x1b8", "\x1b[u"])
    if roll < 0.88:
        return rng.choice(["\x1b]8;;https://example.com/x\x1b\\link\x1b]8;;\x1b\\", "\x1b]0;title\x07",
                           "\x1b[?25l", "\x1b[?25h", "\x1b(B", "\x1b]8;;file:///etc/passwd\x07file\x1b]8;;\x07"])
    if roll < 0.8802:  # rare, and never above the cursor: that wipes the log (unit tests cover it)
        return "\x1b[J"
    return "#" * rng.randint(1, 30)


def stress_log(lines: int = 2000, seed: int = 15) -> str:
    """`lines` lines of random terminal drawing, then wide characters; ends with a newline."""
    rng = random.Random(seed)
    out = []
    saved = [False]
    for n in range(lines):
        out.append("".join(_piece(rng, n, saved) for _ in range(rng.randint(0, 8))))
    out.append("\x1b[0m")
    for n in range(40):
        text = " ".join(rng.choice(WIDE) for _ in range(rng.randint(1, 5)))
        out.append(f"{n:02d} {text}\r{n:02d}" + ("\x1b[1C" + "中" if n % 3 == 0 else ""))
    return "\n".join(out) + "\n"
