"""The worker's log writer against a real Redis: numbering, batching, masking, limits."""

from __future__ import annotations

import pytest
import redis

from tailapp import jobs
from tailapp.embedded import EmbeddedRedis
from tailapp.masking import Masker
from tailapp.store import Store, key
from tailapp.writer import CUT_MARKER, LogWriter


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
    writer = LogWriter(store, job_id, max_line_chars=100)
    text = "".join(chr(65 + i % 26) for i in range(250))
    writer.write(text + "\n")
    writer.close()
    pieces = lines(store, job_id)
    assert len(pieces) == 3 and all(p.endswith(CUT_MARKER) for p in pieces[:2])
    assert "".join(p.removesuffix(CUT_MARKER) for p in pieces) == text


def test_log_size_limit_truncates_visibly_and_keeps_the_tail(store):
    job_id = new_job(store)
    writer = LogWriter(store, job_id, max_log_chars=1_000, tail_chars=100)
    for n in range(1, 501):
        writer.write(f"line {n:04d}\n")  # 9 characters a line
    writer.write("FINAL ERROR: disk full\n")
    writer.close()
    got = lines(store, job_id)
    assert got[0] == "line 0001"
    notice = next(i for i, line in enumerate(got) if "log truncated at" in line)
    assert notice == 1000 // 9 + 0  # the lines that fit, then the notice
    assert "lines omitted" in got[notice + 1]
    assert got[-1] == "FINAL ERROR: disk full" and got[-2] == "line 0500"
    assert jobs.get(store, job_id)["truncated"] is True


def test_writer_continues_after_existing_lines(store):
    job_id = new_job(store)
    first = LogWriter(store, job_id)
    first.write("a\n")
    first.close()
    second = LogWriter(store, job_id)
    second.write("b\n")
    second.close()
    assert lines(store, job_id) == ["a", "b"]
