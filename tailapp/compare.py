"""Compare a job's log with another run's: what changed, with what changes on every run ignored.

Both logs are compared as the viewer shows them: the rendered rows of the terminal model
(tailapp/terminal.py), numbered as the viewer numbers them. Each row is normalised by a list of rules that
replace volatile parts — times, durations, ids, temporary paths, counters, sizes — with placeholders. The
normalised rows are diffed (Myers' algorithm, through diff-match-patch); the hunks show the rows as they
are, with both runs' row numbers.

Rules are configurable: a TOML file (TAILAPP_COMPARE_FILE) may disable built-in rules and add its own:

    disable = ["counters"]
    [[rule]]
    name = "build numbers"
    pattern = "build #\\d+"
    replace = "build #<n>"
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

import fast_diff_match_patch

CONTEXT = 3  # unchanged lines shown around a change
DIFF_SECONDS = 1.0  # past this, the diff is correct but may be less than minimal


@dataclass(frozen=True)
class Rule:
    """A pattern whose matches are replaced before lines are compared."""

    name: str
    pattern: str
    replace: str


# At each place in a line the first rule that matches wins: a timestamp holds numbers a later rule would
# take apart. Case is spelled out: a case-insensitive pattern costs the regex engine three times the time.
BUILT_IN = (
    Rule("timestamps", r"\b\d{4}-\d{2}-\d{2}[T ]\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?", "<time>"),
    Rule("timestamps", r"\b\d{1,2}:\d{2}:\d{2}(?:[.,]\d+)?\b", "<time>"),
    Rule("ids", r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b", "<id>"),
    Rule("ids", r"\b0x[0-9a-fA-F]+\b", "<addr>"),
    Rule("ids", r"\b(?=[0-9a-f]*\d)(?=[0-9a-f]*[a-f])[0-9a-f]{7,}\b", "<id>"),
    Rule("temp paths", r"(?:/private)?/(?:tmp|var/tmp|var/folders)/[^\s'\":,;)\]]*", "<tmp>"),
    Rule("durations", r"\b\d+(?:\.\d+)?[ ]?(?:ns|µs|us|ms|s|sec|secs|seconds?|m|min|mins|minutes?|h|hours?)\b",
         "<duration>"),
    Rule("sizes", r"\b\d+(?:\.\d+)?[ ]?(?:[kKMGT]i?B|[kmg]b|bytes?|B)\b", "<size>"),
    Rule("counters", r"\b\d+(?:\.\d+)?%", "<pct>"),
    Rule("counters", r"\b\d+[ ]?/[ ]?\d+\b", "<n>/<n>"),
)


BUILT_IN_START = r"(?=[\d/a-fA-F])"  # where any built-in rule can match: a guard that halves the scanning time


class Normaliser:
    """Applies rules to lines: one regex of all of them, so each line is scanned once."""

    def __init__(self, rules: list[Rule]):
        self.rules = rules
        named = {rule: f"(?P<_rule{i}>{rule.pattern})" for i, rule in enumerate(rules)}
        ours = "|".join(named[rule] for rule in rules if rule in BUILT_IN)
        theirs = [named[rule] for rule in rules if rule not in BUILT_IN]
        self._pattern = re.compile("|".join(([f"{BUILT_IN_START}(?:{ours})"] if ours else []) + theirs))
        self._replacement = {f"_rule{i}": rule.replace for i, rule in enumerate(rules)}

    @property
    def names(self) -> list[str]:
        return list(dict.fromkeys(rule.name for rule in self.rules))

    def __call__(self, text: str) -> str:
        text = self._pattern.sub(lambda m: self._replacement[m.lastgroup], text)
        return " ".join(text.split())  # runs of spaces (column alignment) differ with the numbers they pad


class CompareError(ValueError):
    """The comparison settings are wrong; the message says which and why."""


def normaliser(path: str | None) -> Normaliser:
    """The built-in rules, less those the file at `path` disables, plus the file's own."""
    if not path:
        return Normaliser(list(BUILT_IN))
    try:
        config = tomllib.loads(Path(path).read_text())
        disabled = set(config.get("disable", []))
        own = [Rule(r["name"], r["pattern"], r.get("replace", f"<{r['name']}>")) for r in config.get("rule", [])]
        for rule in own:
            re.compile(rule.pattern)
    except (OSError, tomllib.TOMLDecodeError, KeyError, TypeError, re.error) as exc:
        raise CompareError(f"TAILAPP_COMPARE_FILE {path}: {exc}") from None
    unknown = disabled - {rule.name for rule in BUILT_IN}
    if unknown:
        raise CompareError(f"TAILAPP_COMPARE_FILE {path}: no built-in rule named {', '.join(sorted(unknown))}")
    return Normaliser([rule for rule in BUILT_IN if rule.name not in disabled] + own)


def opcodes(a: list[str], b: list[str], seconds: float = DIFF_SECONDS) -> list[tuple[str, int, int, int, int]]:
    """difflib-style opcodes of a line diff of `a` and `b`.

    Each distinct line becomes one character and diff-match-patch (Google's C++ implementation of Myers'
    algorithm) diffs the two strings: the "line mode" its documentation describes. It is fast when two runs
    differ little, however often lines repeat (normalised build logs repeat a lot), and past `seconds` it
    returns a correct but less minimal diff instead of taking longer.
    """
    codes: dict[str, int] = {}

    def encode(lines: list[str]) -> str:
        return "".join(chr(_code_point(codes.setdefault(line, len(codes)))) for line in lines)

    ops = fast_diff_match_patch.diff(encode(a), encode(b), timelimit=seconds, checklines=False, cleanup="No")
    out, i, j = [], 0, 0
    for op, n in ops:
        if op == "=":
            out.append(("equal", i, i + n, j, j + n))
        elif op == "-":
            out.append(("delete", i, i + n, j, j))
        else:
            out.append(("insert", i, i, j, j + n))
        i, j = i + (n if op != "+" else 0), j + (n if op != "-" else 0)
    return out


def _code_point(n: int) -> int:
    """The n-th usable character: past the controls, around the surrogates (no valid text holds those)."""
    n += 0x100
    if n >= 0xD800:
        n += 0x800
    if n > 0x10FFFF:
        raise CompareError("too many distinct lines to compare")
    return n


def hunks_of(codes: list[tuple], context: int) -> list[list[tuple]]:
    """The changes with `context` equal lines around them; changes closer than twice that share a hunk."""
    hunks: list[list[tuple]] = []
    for tag, i1, i2, j1, j2 in codes:
        if tag == "equal":
            continue
        start = (tag, i1, i2, j1, j2)
        if hunks and i1 - hunks[-1][-1][2] <= 2 * context:
            hunks[-1].append(start)
        else:
            hunks.append([start])
    return hunks


def diff(old: list[str], new: list[str], normalise: Normaliser, context: int = CONTEXT) -> dict:
    """Hunks of changes between two logs' rendered rows: each row as (op, old row, new row, text), op " ", "-"
    or "+" (row numbers from 1)."""
    codes = opcodes([normalise(t) for t in old], [normalise(t) for t in new])
    hunks, added, removed = [], 0, 0
    for changes in hunks_of(codes, context):
        i, j = max(0, changes[0][1] - context), max(0, changes[0][3] - context)
        lines = []
        for _, i1, i2, j1, j2 in changes:
            lines += [(" ", i + k + 1, j + k + 1, new[j + k]) for k in range(i1 - i)]  # context, then changes
            lines += [("-", n + 1, None, old[n]) for n in range(i1, i2)]
            lines += [("+", None, n + 1, new[n]) for n in range(j1, j2)]
            removed, added, i, j = removed + i2 - i1, added + j2 - j1, i2, j2
        tail = min(context, len(old) - i, len(new) - j)
        lines += [(" ", i + k + 1, j + k + 1, new[j + k]) for k in range(tail)]
        hunks.append({"old_start": lines[0][1] or changes[0][1] + 1, "new_start": lines[0][2] or changes[0][3] + 1,
                      "lines": lines})
    return {"added": added, "removed": removed, "hunks": hunks}
