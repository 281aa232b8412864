"""The worker's log writer against a real Redis: numbering, batching, masking, limits."""

from __future__ import annotations

import time

import pytest
import redis

from tailapp import jobs
from tailapp.capture import capture
from tailapp.embedded import EmbeddedRedis
from tailapp.masking import Masker
from tailapp.store import Store, key
from tailapp.writer import CUT_MARKER, LINE_OVERHEAD, LogWriter, cut_utf8


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    server = EmbeddedRedis(tmp_path_factory.mktemp("redis"), appendonly=False).start()
    client = redis.Redis.from_url(server.url, decode_responses=True)
    yield Store(client)
    client.close()
    server.stop()


def new_job(store: Store) -> str:
    return jobs.create(store, "demo", {})["id"]


def lines(store: Store, job_id: str) -> list[str]:
    return store.read_lines(job_id, 0, 1_000_000)[0]


def test_lines_numbered_and_partial_lines_joined(store):
    job_id = new_job(store)
    writer = LogWriter(store, job_id)
    writer.write("one\ntw")
    writer.write("o\nthree")
    writer.flush()
    assert lines(store, job_id) == ["one", "two"]  # "three" waits for its newline
    writer.close()
    assert lines(store, job_id) == ["one", "two", "three"]
    assert jobs.get(store, job_id)["lines"] == 3


def test_fast_producer_gets_batches_and_every_line_in_order(store):
    job_id = new_job(store)
    pubsub = store.redis.pubsub()
    pubsub.subscribe(key.channel(job_id))
    pubsub.get_message(timeout=1)
    writer = LogWriter(store, job_id)
    for n in range(1, 50_001):
        writer.write(f"line {n}\n")
    writer.close()
    assert lines(store, job_id) == [f"line {n}" for n in range(1, 50_001)]
    messages = []
    while (message := pubsub.get_message(timeout=0.5)) is not None:
        messages.append(message["data"])
    pubsub.close()
    assert len(messages) < 5_000  # batched: far fewer publishes than lines
    assert messages[0].startswith("L1\n")


def test_printed_lines_reach_redis_one_by_one_without_a_flush(store):
    # The task's writes wake the flusher only when it waits for lines: no line may wait for the next one.
    job_id = new_job(store)
    writer = LogWriter(store, job_id)
    with capture(writer):
        for n in range(1, 6):
            print(f"line {n}")
            deadline = time.monotonic() + 5
            while len(lines(store, job_id)) < n and time.monotonic() < deadline:
                time.sleep(0.001)
            assert lines(store, job_id) == [f"line {i}" for i in range(1, n + 1)]
        print()  # an empty line, then one printed in parts
        print("a", "b", sep="-")
    writer.close()
    assert lines(store, job_id)[-2:] == ["", "a-b"]


def test_secrets_masked_even_when_written_in_two_parts(store):
    job_id = new_job(store)
    writer = LogWriter(store, job_id, masker=Masker(["hunter2-token", "abc", ""]))
    writer.write("token=hunter2")
    writer.write("-token ok\n")
    writer.write("abc stays: too short to be a secret\n")
    writer.close()
    assert lines(store, job_id) == ["token=*** ok", "abc stays: too short to be a secret"]


def test_long_line_split_with_marker_and_nothing_lost(store):
    job_id = new_job(store)
    writer = LogWriter(store, job_id, max_line_bytes=100)
    text = "".join(chr(65 + i % 26) for i in range(250))
    writer.write(text + "\n")
    writer.close()
    pieces = lines(store, job_id)
    assert len(pieces) == 3 and all(p.endswith(CUT_MARKER) for p in pieces[:2])
    assert "".join(p.removesuffix(CUT_MARKER) for p in pieces) == text


def _limited(store: Store, texts: list[str], limit: int, tail: int) -> tuple[list[str], dict]:
    job_id = new_job(store)
    writer = LogWriter(store, job_id, max_log_bytes=limit, tail_bytes=tail)
    for text in texts:
        writer.write(text + "\n")
    writer.close()
    return lines(store, job_id), jobs.get(store, job_id)


def test_log_size_limit_keeps_head_marker_and_rolling_tail(store):
    texts = [f"line {n:04d}" for n in range(1, 501)] + ["FINAL ERROR: disk full"]  # 10 bytes a line
    got, job = _limited(store, texts, limit=1_000, tail=100)
    assert got[:100] == texts[:100]  # the head: 100 lines of 10 bytes fill 1,000 bytes exactly
    marker = got[100]
    assert got[101:] == texts[-len(got) + 101 :] and got[-1] == "FINAL ERROR: disk full"
    kept = len(got) - 101
    assert sum(len(t) + 1 for t in got[101:]) <= 100 < sum(len(t) + 1 for t in texts[-kept - 1 :])
    skipped = len(texts) - 100 - kept
    assert f"{skipped:,} lines (" in marker and f"the last {kept:,} lines follow" in marker
    assert sum("\u2702" in line for line in got) == 1  # one marker row
    assert job["truncated"] is True and job["skipped_lines"] == skipped
    assert job["skipped_bytes"] == sum(len(t) + 1 for t in texts[100 : 100 + skipped])


def test_log_size_limit_edges(store):
    texts = [f"line {n:04d}" for n in range(1, 101)]  # exactly 1,000 bytes
    got, job = _limited(store, texts, limit=1_000, tail=100)
    assert got == texts and not job["truncated"] and job["skipped_lines"] == 0
    got, job = _limited(store, [*texts, "one more!"], limit=1_000, tail=100)  # over, but the tail holds it
    assert got == [*texts, "one more!"] and not job["truncated"] and job["skipped_bytes"] == 0
    got, job = _limited(store, [*texts, "é" * 60, "x" * 10], limit=1_000, tail=100)  # 121 bytes: bytes, not chars
    assert got[:100] == texts and got[-1] == "x" * 10 and "1 line (121 bytes) skipped" in got[100]
    assert job["truncated"] is True and (job["skipped_lines"], job["skipped_bytes"]) == (1, 121)


def test_writer_continues_after_existing_lines(store):
    job_id = new_job(store)
    first = LogWriter(store, job_id)
    first.write("a\n")
    first.close()
    second = LogWriter(store, job_id)
    second.write("b\n")
    second.close()
    assert lines(store, job_id) == ["a", "b"]


EMOJI = "\U0001f600"  # 1 character, 4 bytes in UTF-8


def test_long_emoji_line_split_in_bytes_never_inside_a_character(store):
    job_id = new_job(store)
    writer = LogWriter(store, job_id, max_line_bytes=102)
    writer.write("a" + EMOJI * 60 + "\n")  # 61 characters, 241 bytes
    writer.close()
    pieces = lines(store, job_id)
    assert all(len(p.encode()) <= 102 for p in pieces) and len(pieces) == 3
    assert "".join(p.removesuffix(CUT_MARKER) for p in pieces) == "a" + EMOJI * 60


def test_cut_utf8_keeps_characters_whole():
    text = "\u00e9" * 5 + EMOJI * 3 + "abc"
    for size in range(4, 20):
        pieces = cut_utf8(text, size)
        assert "".join(pieces) == text and all(len(p.encode()) <= size for p in pieces), size


def write_lines_until_truncated(store, limit: int, line: str, count: int) -> list[str]:
    job_id = new_job(store)
    writer = LogWriter(store, job_id, max_log_bytes=limit, tail_bytes=0)
    for _ in range(count):
        writer.write(line + "\n")
    writer.close()
    return lines(store, job_id)


@pytest.mark.parametrize("extra", [0, 1])
def test_emoji_log_truncated_at_the_byte_limit_to_the_byte(store, extra):
    line = EMOJI * 25  # 25 characters, 100 bytes: a limit in characters would let four times as much in
    per_line = 100 + LINE_OVERHEAD
    got = write_lines_until_truncated(store, 40 * per_line - extra, line, 100)
    fit = 40 - extra  # exactly 40 lines fill the limit; one byte less and the 40th does not fit
    assert got[:fit] == [line] * fit
    assert "skipped: the log passed its" in got[fit]
    assert sum(len(t.encode()) + LINE_OVERHEAD for t in got[:fit]) <= 40 * per_line - extra


def test_empty_lines_count_against_the_limit(store):
    got = write_lines_until_truncated(store, 100 * LINE_OVERHEAD, "", 1_000)
    assert got[:100] == [""] * 100 and "899 lines (899 bytes) skipped" in got[100]
    assert len(got) == 102  # the head, one marker row, and the last line (always kept)


def test_lone_surrogate_is_replaced_and_nothing_is_lost(store):
    job_id = new_job(store)
    writer = LogWriter(store, job_id)
    name = b"caf\xff.txt".decode("utf-8", "surrogateescape")  # how Python reads a non-UTF-8 file name
    writer.write("before\n")
    writer.write(f"opening {name}\n")
    writer.write("half \udcff")  # in a partial line too
    writer.write(" done\nafter\n")
    writer.close()
    assert lines(store, job_id) == ["before", "opening caf\ufffd.txt", "half \ufffd done", "after"]


class RefusesPoison(Store):
    """A store whose sends fail, as an encoding error would, for any batch holding "poison"."""

    def append_lines(self, job_id, elements, before):
        if any("poison" in e for e in elements):
            raise ValueError("cannot encode this line")
        return super().append_lines(job_id, elements, before)


def test_a_line_that_cannot_be_sent_becomes_a_notice_and_later_lines_are_kept(store):
    poisoned = RefusesPoison(store.redis)
    job_id = new_job(poisoned)
    writer = LogWriter(poisoned, job_id)
    writer.write("".join(f"line {n}\n" for n in range(1, 6)) + "poison\n" + "line 7\n")
    writer.flush()
    writer.write("line 8\n")
    writer.close()
    got = lines(store, job_id)
    assert got[:5] == [f"line {n}" for n in range(1, 6)] and got[6:] == ["line 7", "line 8"]
    assert "could not store this line (ValueError)" in got[5]
