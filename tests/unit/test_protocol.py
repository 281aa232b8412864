"""Payload checks and packet splitting of tailapp/protocol.py, in-process."""

from __future__ import annotations

import pytest

from tailapp import protocol as p

JOB = "ab" * 16


def test_a_subscribe_payload_gives_the_job_and_after():
    assert p.parse_subscribe({"job": JOB, "after": 7}) == (JOB, 7)
    assert p.parse_subscribe({"job": JOB}) == (JOB, 0)
    assert p.parse_unsubscribe({"job": JOB}) == JOB


@pytest.mark.parametrize(("payload", "message"), [
    (None, "payload must be an object"),
    ([JOB], "payload must be an object"),
    ({"job": "AB" * 16}, '"job" must be a job id (32 hex characters)'),
    ({"job": JOB[:-1]}, '"job" must be a job id (32 hex characters)'),
    ({"job": 12}, '"job" must be a job id (32 hex characters)'),
    ({"job": JOB, "after": -1}, f'"after" must be an integer from 0 to {p.MAX_SEQ}'),
    ({"job": JOB, "after": True}, f'"after" must be an integer from 0 to {p.MAX_SEQ}'),
    ({"job": JOB, "after": 1.0}, f'"after" must be an integer from 0 to {p.MAX_SEQ}'),
    ({"job": JOB, "after": p.MAX_SEQ + 1}, f'"after" must be an integer from 0 to {p.MAX_SEQ}'),
])
def test_a_bad_subscribe_payload_is_refused_with_a_sentence(payload, message):
    with pytest.raises(p.BadRequest) as refused:
        p.parse_subscribe(payload)
    assert str(refused.value) == message


def test_line_bytes_count_utf8():
    assert p.line_bytes("abc") == 3 and p.line_bytes("\u00e9") == 2 and p.line_bytes("\U0001f600") == 4
    assert p.text_bytes(["ab", "\u00e9"]) == 4


def test_split_lines_keeps_seq_and_order_and_sends_a_long_line_alone():
    payload = {"job": JOB, "seq": 10, "lines": ["aaaa", "bbbb", "cccccccccc", "dd"], "times": [1, 2, 3, 4]}
    parts = list(p.split_lines(payload, max_bytes=8))
    assert [(part["seq"], part["lines"], part["times"]) for part in parts] == [
        (10, ["aaaa", "bbbb"], [1, 2]), (12, ["cccccccccc"], [3]), (13, ["dd"], [4])]
    assert list(p.split_lines(payload)) == [payload]  # under the limit: the payload itself, not a copy
