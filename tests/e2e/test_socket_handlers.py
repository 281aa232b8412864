"""The /tail namespace refuses malformed payloads with a clear ack and keeps serving everyone else."""

from __future__ import annotations

import pytest

BAD_SUBSCRIBES = [
    (None, "payload must be an object"),
    ("job", "payload must be an object"),
    ([1, 2], "payload must be an object"),
    (42, "payload must be an object"),
    ({}, '"job" must be a job id'),
    ({"job": 7}, '"job" must be a job id'),
    ({"job": "../../etc"}, '"job" must be a job id'),
    ({"job": "a" * 1_000_000}, '"job" must be a job id'),
    ({"job": "0" * 32, "after": -1}, '"after" must be an integer'),
    ({"job": "0" * 32, "after": "3"}, '"after" must be an integer'),
    ({"job": "0" * 32, "after": True}, '"after" must be an integer'),
    ({"job": "0" * 32, "after": 1.5}, '"after" must be an integer'),
    ({"job": "0" * 32}, "unknown job"),
]


@pytest.mark.parametrize(("payload", "error"), BAD_SUBSCRIBES)
def test_bad_subscribe_gets_error_ack(stack, payload, error):
    viewer = stack.viewer().connect()
    try:
        ack = viewer.call("subscribe", payload)
        assert ack["ok"] is False and ack["error"].startswith(error), ack
        assert viewer.client.connected
    finally:
        viewer.disconnect()


def test_bad_unsubscribe_and_one_megabyte_strings(stack):
    viewer = stack.viewer().connect()
    try:
        assert viewer.call("unsubscribe", {"job": "x" * 1_000_000})["ok"] is False
        assert viewer.call("unsubscribe", "nope") == {"ok": False, "error": "payload must be an object"}
        assert viewer.call("subscribe", {"job": "0" * 32, "after": 0, "extra": "y" * 1_000_000})["ok"] is False
    finally:
        viewer.disconnect()


def test_bad_payloads_do_not_disturb_other_viewers(stack):
    job_id = stack.start_job(lines=300, interval=0.005)
    good = stack.viewer().connect()
    assert good.subscribe(job_id)["ok"]
    noisy = stack.viewer().connect()
    for payload, _ in BAD_SUBSCRIBES * 3:
        assert noisy.call("subscribe", payload)["ok"] is False
    good.wait_done(30)
    assert good.seqs == list(range(1, 301))
    for v in (good, noisy):
        v.disconnect()


def test_unsubscribe_stops_the_stream(stack):
    job_id = stack.start_job(lines=200, interval=0.01)
    viewer = stack.viewer().connect()
    assert viewer.subscribe(job_id)["ok"]
    viewer.wait_for(5)
    assert viewer.call("unsubscribe", {"job": job_id}) == {"ok": True}
    stopped_at = len(viewer.seqs)
    stack.wait_job(job_id)
    assert len(viewer.seqs) - stopped_at < 5  # at most what was already on the wire
    viewer.disconnect()


def test_garbage_on_a_job_channel_is_skipped_and_viewers_keep_their_stream(stack):
    job_id = stack.start_job(lines=400, interval=0.005)
    viewer = stack.viewer().connect()
    assert viewer.subscribe(job_id)["ok"]
    for garbage in ("", "Lnot-a-number\nx", "J{not json", "Jnull", "?", "L5"):
        stack.redis.publish(f"tailapp:ch:{job_id}", garbage)
    viewer.wait_done(30)
    assert viewer.seqs == list(range(1, 401)) and viewer.resyncs == 0
    viewer.disconnect()
