"""Generated payloads (hypothesis): every Socket.IO message and HTTP request gets a clear answer, the server
never crashes, and a viewer watching a job meanwhile still gets every line exactly once."""

from __future__ import annotations

import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

EXAMPLES = 1_500
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=50),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=10), inner, max_size=5),
    max_leaves=20,
)
job_ids = st.one_of(st.text(max_size=40), st.from_regex(r"[0-9a-f]{32}", fullmatch=True), json_values)
subscribe_payloads = st.one_of(
    json_values,
    st.fixed_dictionaries({"job": job_ids, "after": json_values}),
    st.fixed_dictionaries({"job": job_ids}),
)
fuzz = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)


def test_fuzzed_socket_payloads_get_clear_acks_and_spare_other_viewers(stack):
    job_id = stack.start_job(lines=2_000, interval=0.005)
    watcher = stack.viewer().connect()
    assert watcher.subscribe(job_id)["ok"]
    fuzzer = stack.viewer().connect()
    tried = []

    @fuzz
    @given(event=st.sampled_from(["subscribe", "unsubscribe", "watch_jobs", "nonsense"]), payload=subscribe_payloads)
    def one(event, payload):
        tried.append(event)
        ack = fuzzer.call(event, payload, timeout=10) if event != "nonsense" else None
        if event in ("subscribe", "unsubscribe") and ack is not None:
            assert isinstance(ack, dict) and isinstance(ack.get("ok"), bool)
            assert ack["ok"] or (isinstance(ack["error"], str) and "Traceback" not in ack["error"])

    one()
    assert len(tried) == EXAMPLES
    watcher.wait_done(60)
    assert watcher.seqs == list(range(1, 2_001))
    assert stack.server.poll() is None
    for viewer in (watcher, fuzzer):
        viewer.disconnect()


def test_fuzzed_http_requests_get_json_errors_never_a_crash(stack):
    created = []
    bodies = st.one_of(json_values, st.fixed_dictionaries(
        {"task": st.sampled_from(["demo", "Demo", "", "../demo"]) | json_values,
         "params": st.dictionaries(st.sampled_from(["lines", "interval", "fail", "x"]), json_values, max_size=4)
         | json_values}))
    paths = st.sampled_from(["/api/jobs/{}", "/api/jobs/{}/log", "/api/jobs/{}/cancel", "/jobs/{}"])

    @fuzz
    @given(body=bodies | st.binary(max_size=200), path=paths, ident=job_ids.map(str), after=st.text(max_size=8))
    def one(body, path, ident, after):
        sent = {"data": body, "headers": {"Content-Type": "application/json"}} if isinstance(body, bytes) else {
            "json": body}
        response = requests.post(f"{stack.url}/api/jobs", timeout=10, **sent)
        assert response.status_code in (201, 400), response.text
        if response.status_code == 201:
            created.append(response.json()["id"])
        else:
            assert set(response.json()) == {"error"}
        url = stack.url + path.format(requests.utils.quote(ident, safe=""))
        method = requests.post if path.endswith("cancel") else requests.get
        other = method(url, params={"after": after}, json={}, timeout=10)
        assert other.status_code in (200, 202, 400, 404, 405, 409), (url, other.status_code)
        assert "Traceback" not in other.text

    one()
    for job_id in created:  # valid bodies may start long jobs: stop them
        requests.post(f"{stack.url}/api/jobs/{job_id}/cancel", json={}, timeout=10)
    assert stack.server.poll() is None
