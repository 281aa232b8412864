"""Secret masking: every text a job sends out of the worker passes `Masker.mask` first.

A secret is caught as the viewer, a terminal (`tailapp logs`, `tailapp tail`) or a reader of the raw text
would see it: written whole, split by escape sequences (an SGR colour code in the middle), reassembled by
`\\r` or backspace overwriting earlier characters, or spread over several lines (each line of a multi-line
value, such as a PEM key, is a secret of its own).

The seam is the worker's store for a job (`MaskedStore`, built in tasks.run_job with the job's `Masker`):
log lines are masked by the writer with the store's masker (before long lines are cut, so a cut cannot
split a secret) and the job fields it writes (`error`, `progress`, states) by the store itself (before they
are clipped, so a clip cannot leave half a secret). Secret parameters never reach the job's `params`
(params.split_secrets).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

MASK = "***"
MIN_SECRET_CHARS = 4  # shorter values would mask ordinary words
MAX_FIELD_CHARS = 500  # a text field of a job (error, progress message) is clipped to this, after masking
MAX_PASSES = 8  # overwrite tricks that keep reassembling a secret after this many passes: the whole line goes

# What the viewer drops (tailapp/static/js/ansi.js, CONTROL): escape sequences and C0 controls but \t, \n, \r.
C0 = r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]"
ESCAPE = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\|$)|\x1b[PX^_][^\x1b]*(?:\x1b\\|$)"
                    r"|\x1b[ -/]*[0-~]?|" + C0)
# Terminals read a malformed or unsupported escape in other ways; a secret is masked for each of them:
# the viewer's; one that takes ESC and one more character and ends CSI at an intermediate; one that prints
# all but ESC and intermediates.
ESCAPES = (ESCAPE,
           re.compile(r"\x1b\[[0-?]*[ $]*(?:[^0-? $]|$)|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\?|$)|\x1b[^\[\]]?|" + C0),
           re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b[ -/]*|" + C0))
NOT_PLAIN = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")  # what makes a line render otherwise than its text
SGR = re.compile(r"\x1b\[[0-9;]*m")  # colours: every reading of escapes agrees on them


def secret_values(values: Iterable[str]) -> list[str]:
    """The values to look for, long enough to be secrets: each value, each of its lines, and it on one line."""
    found = set()
    for value in values:
        if not value:
            continue
        found.add(value)
        found.add(" ".join(value.split()))  # as progress() and one-line messages write it
        found.update(line.strip("\r") for line in value.split("\n"))
    return sorted((v for v in found if len(v) >= MIN_SECRET_CHARS), key=len, reverse=True)


class Masker:
    """Replaces secret values by `***` in text, in every way the text can be rendered."""

    def __init__(self, secrets: Iterable[str] = ()):
        values = secret_values(secrets)
        self.pattern = re.compile("|".join(map(re.escape, values))) if values else None

    def __bool__(self) -> bool:
        return self.pattern is not None

    def mask(self, text: str) -> str:
        """`text` with every secret replaced; multi-line text is masked line by line too."""
        if self.pattern is None:
            return text
        text = self.pattern.sub(MASK, text)
        if not NOT_PLAIN.search(text):  # most lines: shown as they are written
            return text
        if "\n" not in text:  # a log line
            return self._mask_rendered(text)
        return "\n".join(self._mask_rendered(line) for line in text.split("\n"))

    def value(self, value: object) -> object:
        """A JSON-like value with every string in it masked and clipped to MAX_FIELD_CHARS."""
        if isinstance(value, str):
            return self.mask(value)[:MAX_FIELD_CHARS]
        if isinstance(value, dict):
            return {k: self.value(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.value(v) for v in value]
        return value

    def _mask_rendered(self, line: str) -> str:
        plain = SGR.sub("", line)
        if not NOT_PLAIN.search(plain) and not self.pattern.search(plain):
            return line  # coloured text without a secret across its colours: most lines with escapes
        for _ in range(MAX_PASSES):
            hits = self._hits(line)
            if not hits:
                return line
            line = _blank(line, hits)
        return MASK  # a line that keeps rebuilding a secret out of its own pieces is not worth keeping

    def _hits(self, line: str) -> set[int]:
        """Indices in `line` of the characters that make up a secret in one of its renderings."""
        hits: set[int] = set()
        colours_only = not NOT_PLAIN.search(SGR.sub("", line).replace("\r", ""))
        for escape in (ESCAPE,) if colours_only else ESCAPES:  # the common case: coloured text, progress bars
            if not self._may_reveal(line, escape):
                continue
            printed = _printed(line, escape)  # (index, char) of each character outside escapes, "\r", "\b" too
            hits |= self._find([cell for cell in printed if cell[1] not in "\r\x08"])
            for screen in _screens(printed):
                hits |= self._find(screen)
        return hits

    def _may_reveal(self, line: str, escape: re.Pattern) -> bool:
        """A quick check on strings: whether a rendering of `line` can show a secret."""
        plain = escape.sub("", line)
        if self.pattern.search(plain.replace("\r", "")):
            return True
        if "\x08" in line:
            return True  # rare enough to leave to the character-by-character check
        if "\r" not in plain:
            return False
        screen = ""
        for segment in plain.split("\r"):
            screen = segment + screen[len(segment):]  # a terminal writes over the line from its start
            if self.pattern.search(screen):
                return True
        return False

    def _find(self, cells: list[tuple[int, str]]) -> set[int]:
        text = "".join(char for _, char in cells)
        return {cells[k][0] for m in self.pattern.finditer(text) for k in range(m.start(), m.end())}


def _printed(line: str, escape: re.Pattern = ESCAPE) -> list[tuple[int, str]]:
    """Each character of `line` outside escape sequences, with its index ("\\r" and "\\b" kept)."""
    out, pos = [], 0
    for m in escape.finditer(line):
        out.extend((i, line[i]) for i in range(pos, m.start()))
        if m.group() == "\x08":
            out.append((m.start(), "\x08"))
        pos = m.end()
    out.extend((i, line[i]) for i in range(pos, len(line)))
    return out


def _screens(printed: list[tuple[int, str]]) -> Iterator[list[tuple[int, str]]]:
    """What a terminal shows of the line before each \\r and \\b and at its end, as (index, char) cells."""
    screen: list[tuple[int, str]] = []
    col = 0
    for cell in printed:
        if cell[1] == "\r":
            yield screen
            col = 0
        elif cell[1] == "\x08":
            yield screen  # what the next characters overwrite was on screen until then
            col = max(col - 1, 0)
        else:
            screen[col:col + 1] = [cell]
            col += 1
    yield screen


def _blank(line: str, hits: set[int]) -> str:
    """`line` without the characters at `hits`: one MASK per run of them (escapes inside a run are kept)."""
    printed = {i for i, _ in _printed(line)}
    out, in_run = [], False
    for i, char in enumerate(line):
        if i in hits:
            if not in_run:
                out.append(MASK)
            in_run = True
            continue
        if i in printed:
            in_run = False
        out.append(char)
    return "".join(out)


class MaskedStore:
    """The worker's store for one job: the job fields it writes are masked (and clipped) first."""

    def __init__(self, store, masker: Masker):
        self._store = store
        self.masker = masker

    def set_fields(self, job_id: str, fields: dict, only_from: tuple[str, ...] = ()) -> dict | None:
        return self._store.set_fields(job_id, self.masker.value(fields), only_from)

    def __getattr__(self, name: str):
        return getattr(self._store, name)
