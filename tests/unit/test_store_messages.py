"""The feed format (tailapp/store/messages.py) and the key layout (keys.py), on messages a real Redis
published (tests/fixtures/feed/job.json, made by tests/fixtures/feed/record.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tailapp.store import (
    JobChanged,
    Lines,
    MalformedMessage,
    Marker,
    decode,
    decode_elements,
    encode_line,
    encode_marker,
    job_keys,
    key,
)

JOB = "5" * 32
RECORDED = [m.replace("JOB", JOB) for m in json.loads((Path(__file__).parents[1] / "fixtures" / "feed" / "job.json")
                                                     .read_text())]


def test_a_recorded_job_decodes_to_typed_messages():
    kinds = [type(decode(data)).__name__ for data in RECORDED]
    assert kinds == ["JobChanged", "Lines", "Lines", "JobChanged", "Lines", "JobChanged"]
    lines = [decode(data) for data in RECORDED if data.startswith("L")]
    assert [(m.seq, m.count) for m in lines] == [(1, 2), (3, 3), (6, 2)]
    assert lines[0].texts == ["\x1b[1mBuilding\x1b[0m", "step 1"] and lines[0].times == [1_700_000_000_000] * 2
    assert lines[1].texts[1] == "progress \u2588\u2588 50%" and lines[1].newest_ms == 1_700_000_000_002
    last = decode(RECORDED[-1])
    assert isinstance(last, JobChanged) and last.fields["id"] == JOB and last.fields["state"] == "succeeded"


def test_lines_round_trip_through_the_stored_element():
    elements = [encode_line(1_700_000_000_123, text) for text in ("plain", "with spaces  inside", "", "\u00e9\u2603")]
    assert decode_elements(elements) == (["plain", "with spaces  inside", "", "\u00e9\u2603"], [1_700_000_000_123] * 4)
    message = decode("L41\n" + "\n".join(elements))
    assert isinstance(message, Lines) and message.seq == 41 and message.count == 4
    assert message.texts[1] == "with spaces  inside" and message.newest_ms == 1_700_000_000_123


def test_a_marker_round_trips():
    assert decode(encode_marker("abc123")) == Marker("abc123")


@pytest.mark.parametrize("data", ["", "X1", "Lx\n1 a", "J{not json", 'J["state","running"]', "J[1]"])
def test_what_tailapp_does_not_write_is_refused_by_name(data):
    with pytest.raises(MalformedMessage):
        decode(data)


def test_every_key_of_a_job_comes_from_job_keys_and_names_did_not_change():
    keys = job_keys(JOB)
    assert all(JOB in name for name in keys) and len(set(keys)) == len(keys)
    assert (key.job(JOB), key.lines(JOB), key.channel(JOB), key.heartbeat(JOB), key.cancel(JOB), key.secrets(JOB)) == (
        f"tailapp:job:{JOB}", f"tailapp:lines:{JOB}", f"tailapp:ch:{JOB}", f"tailapp:hb:{JOB}",
        f"tailapp:cancel:{JOB}", f"tailapp:secrets:{JOB}")
    assert keys.reaping == f"tailapp:hb:{JOB}:reaping" and key.job_from_channel(keys.channel) == JOB
