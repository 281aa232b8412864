"""Secret masking: no rendering of anything a job stores or sends shows a secret (unit layer and real stack)."""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path

import pyte
import requests
from hypothesis import given, settings
from hypothesis import strategies as st

from tailapp.masking import MASK, MAX_FIELD_CHARS, Masker
from tests.conftest import SAMPLE_PEM, SAMPLE_TOKEN

# The oracle, written apart from tailapp.masking: what a reader can see of a stored line.
ESCAPES = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)|[^\[\]])"
                     r"|[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
PEM_LINES = [line for line in SAMPLE_PEM.splitlines() if line]
SECRETS = [SAMPLE_TOKEN, *PEM_LINES]
COLOURS = st.sampled_from(["", "\x1b[31m", "\x1b[01;31m", "\x1b[m", "\x1b[0K", "\x1b]0;title\x07", "\x00"])


def terminal(line: str) -> list[str]:
    """What a terminal (pyte) shows of `line` after each carriage return and at its end."""
    screen = pyte.Screen(len(line) + 8, 1)
    stream = pyte.Stream(screen)
    shown = []
    for n, part in enumerate(line.split("\r")):
        stream.feed(("\r" if n else "") + part)
        shown.append(screen.display[0])
    return shown


def renderings(text: str) -> list[str]:
    """The raw text; per line: escapes removed, the viewer's display (what follows the last \\r), a terminal."""
    shown = [text]
    for line in text.split("\n"):
        plain = ESCAPES.sub("", line)
        shown += [plain.replace("\r", ""), plain.rstrip("\r").rsplit("\r", 1)[-1], *terminal(line)]
    return shown


def revealed(text: str, secrets=SECRETS) -> list[str]:
    return [secret for secret in secrets for shown in renderings(text) if secret in shown]


def strings(value):
    """Every string in a JSON value, keys included."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield k
            yield from strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from strings(v)


# -- unit layer -------------------------------------------------------------------------------------
@settings(deadline=None)  # pyte is slow on a loaded machine; a time limit per example would only add flakes
@given(data=st.data())
def test_a_secret_cut_by_escapes_or_overwritten_into_place_is_masked_in_every_rendering(data):
    secret = SAMPLE_TOKEN
    cuts = sorted(data.draw(st.sets(st.integers(1, len(secret) - 1), min_size=1, max_size=4)))
    pieces = [secret[a:b] for a, b in zip([0, *cuts], [*cuts, len(secret)], strict=True)]
    k = cuts[0]
    line = data.draw(st.sampled_from([
        "".join(piece + data.draw(COLOURS) for piece in pieces),  # grep --color, a highlighter
        "x" * k + secret[k:] + "\r" + secret[:k],  # a terminal draws the start over the x's
        secret[:k] + "\r" + secret[k:],
        secret[:k] + "?\b" + secret[k:],  # a backspace erases the "?"
        "x" * (len(secret) + 2) + "\r" + "".join(piece + data.draw(COLOURS) for piece in pieces),
    ]))
    assert MASK in Masker([secret]).mask(line)
    # Text around it: plain characters, overwrites, escapes and stray ESCs (not cursor moves, not a CSI or OSC
    # cut short by more text, which every terminal reads its own way).
    around = st.lists(st.sampled_from(["a", "b", " ", "-", "[", "P", "\r", "\x08", "\x1b", "\x1b-", "\x1b[31m",
                                       "\x1b[m", "\x1b]0;t\x07", "\x07"]), max_size=5).map("".join)
    line = data.draw(around) + line + data.draw(around)
    masked = Masker([secret]).mask(line)
    assert not revealed(masked, [secret]), (line, masked)


def test_lines_without_a_secret_are_left_alone():
    masker = Masker([SAMPLE_TOKEN, SAMPLE_PEM])
    for line in ("plain \x1b[32mgreen\x1b[0m", " 50%\r100%", "tok-7d1f", "abc\x08d", "-----BEGIN", ""):
        assert masker.mask(line) == line


def test_a_multi_line_secret_is_masked_line_by_line_and_whole():
    masker = Masker([SAMPLE_PEM])
    assert [masker.mask(line) for line in SAMPLE_PEM.splitlines()] == [MASK] * 4
    assert masker.mask(f"key: {SAMPLE_PEM}end") == f"key: {MASK}end"
    assert masker.mask(PEM_LINES[1][:20] + "\x1b[1m" + PEM_LINES[1][20:]) == MASK + "\x1b[1m"
    assert masker.mask("progress: " + " ".join(SAMPLE_PEM.split())) == f"progress: {MASK}"


def test_short_values_are_not_secrets():
    assert Masker(["abc", ""]).mask("abc abc") == "abc abc"
    assert not Masker(["abc", ""])


def test_job_fields_are_masked_before_they_are_clipped():
    """A clip before masking would keep the first characters of a secret at the end of a long error."""
    masker = Masker([SAMPLE_TOKEN])
    fields = masker.value({"error": "x" * (MAX_FIELD_CHARS - 5) + SAMPLE_TOKEN,
                           "progress": {"fraction": 0.5, "message": f"at {SAMPLE_TOKEN}"}})
    assert fields == {"error": "x" * (MAX_FIELD_CHARS - 5) + MASK[:5],
                      "progress": {"fraction": 0.5, "message": f"at {MASK}"}}


# -- the real stack ---------------------------------------------------------------------------------
def test_no_text_of_a_job_reveals_a_secret(stack):
    """Error, progress, section title, PEM key, coloured and overwritten secrets: Redis, API, events, page, archive."""
    viewer = stack.viewer().connect()
    try:
        assert viewer.call("watch_jobs") == {"ok": True}
        job_id = stack.start_job("leaky_fields")
        viewer.subscribe(job_id)
        job = stack.wait_job(job_id)
        viewer.wait_done()
    finally:
        viewer.disconnect()
    assert job["state"] == "failed" and job["error"].startswith(f"ValueError: login failed for {MASK} with key")
    assert job["progress"] == {"fraction": 0.5, "message": f"pushing with {MASK}"}
    log = requests.get(f"{stack.url}/api/jobs/{job_id}/log", timeout=5).text
    assert log.split("\n")[:6] == [f"::group::Deploy with {MASK}", *[MASK] * 4, f"grep: {MASK}\x1b[01;31m\x1b[m"]
    archived = Path(stack.env["TAILAPP_DATA_DIR"]) / "archive" / job_id[:2]
    texts = {
        "log API": log,
        "lines in Redis": "\n".join(stack.redis.lrange(f"tailapp:lines:{job_id}", 0, -1)),
        "lines to viewers": "\n".join(viewer.texts.values()),
        "job page": requests.get(f"{stack.url}/jobs/{job_id}", timeout=5).text,
        "index page": requests.get(stack.url, timeout=5).text,
        "archived log": gzip.decompress((archived / f"{job_id}.log.gz").read_bytes()).decode(),
    }
    fields = {
        "job hash": stack.redis.hgetall(f"tailapp:job:{job_id}"),
        "job API": job,
        "job list API": requests.get(f"{stack.url}/api/jobs", timeout=5).json(),
        "job events": viewer.jobs,
        "archived job": json.loads((archived / f"{job_id}.json").read_text()),
    }
    texts.update({f"{where}: {s!r}": s for where, value in fields.items() for s in strings(value)})
    assert len(viewer.jobs) >= 3 and len(viewer.texts) > 6
    leaks = {where: revealed(text) for where, text in texts.items() if revealed(text)}
    assert not leaks
