"""Finished jobs stay viewable after they leave Redis: the archive behind the page, the log API and replay."""

from __future__ import annotations

import gzip
from pathlib import Path

import requests

from tailapp import jobs
from tailapp.archive import Archive
from tailapp.store import Store, key


def test_archive_round_trip_on_disk_and_in_fsspec_memory(tmp_path):
    for url in (str(tmp_path / "archive"), "memory://tailapp-test/archive"):
        archive = Archive(url)
        job = {"id": "ab" * 16, "state": "succeeded", "lines": 3}
        archive.save(job, ["1 one", "2 two \x1b[31mred\x1b[0m", "3 three"])
        assert archive.job(job["id"]) == job
        assert archive.read_lines(job["id"], 1, 5) == (["two \x1b[31mred\x1b[0m", "three"], [2, 3])
        archive.delete(job["id"])
        assert archive.job(job["id"]) is None and archive.read_lines(job["id"], 0, 5) == ([], [])


def test_archive_reads_any_page_of_a_log_in_members_with_bounded_memory(tmp_path):
    for url in (str(tmp_path / "archive"), "memory://tailapp-test/members"):
        archive = Archive(url, member_lines=3, member_chars=40, cache_chars=300)
        job = {"id": "cd" * 16, "state": "succeeded", "lines": 10}
        elements = [f"{1000 + n} line {n}" + (" long" * 10 if n == 4 else "") for n in range(1, 11)]
        archive.save(job, iter(elements))
        with archive.fs.open(archive._path(job["id"], ".log.gz"), "rb") as src:
            assert gzip.decompress(src.read()).decode() == "".join(e + "\n" for e in elements)  # plain .log.gz
        assert archive._index(job["id"]).starts == [0, 3, 4, 7, 10]  # 3 lines, or one long line, a member
        for after in range(12):
            for count in range(1, 12):
                part = elements[after : after + count]
                assert archive.read_lines(job["id"], after, count) == (
                    [e.split(" ", 1)[1] for e in part], [int(e.split(" ")[0]) for e in part]), (after, count)
                assert 0 < archive.cached_chars <= 300
        archive.delete(job["id"])
        assert archive.read_lines(job["id"], 0, 5) == ([], []) and archive.cached_chars == 0


def test_archive_reads_empty_logs_and_logs_written_without_an_index(tmp_path):
    archive = Archive(str(tmp_path / "archive"))
    empty = {"id": "ef" * 16, "state": "succeeded", "lines": 0}
    archive.save(empty, [])
    assert archive.read_lines(empty["id"], 0, 5) == ([], [])
    assert gzip.decompress((tmp_path / "archive" / "ef" / f"{empty['id']}.log.gz").read_bytes()) == b""

    old = "12" * 16  # one gzip member and no index file, as the first release wrote them
    (tmp_path / "archive" / "12").mkdir()
    (tmp_path / "archive" / "12" / f"{old}.log.gz").write_bytes(gzip.compress(b"5 a\n6 b\n7 c\n"))
    assert archive.read_lines(old, 1, 5) == (["b", "c"], [6, 7])


def test_archive_deleted_through_another_server_reads_as_gone(tmp_path):
    here, there = Archive(str(tmp_path), member_lines=3), Archive(str(tmp_path), member_lines=3)
    job = {"id": "34" * 16, "state": "succeeded", "lines": 6}
    here.save(job, [f"{n} line {n}" for n in range(1, 7)])
    assert here.read_lines(job["id"], 0, 3)[0] == ["line 1", "line 2", "line 3"]  # its index is now cached
    there.delete(job["id"])
    assert here.read_lines(job["id"], 3, 3) == ([], []) and here.job(job["id"]) is None


def expire_now(stack, job_id: str) -> None:
    """What the Redis TTL does after a week, done at once."""
    stack.redis.delete(key.job(job_id), key.lines(job_id))


def test_finished_job_is_archived_and_viewable_after_redis_forgets_it(stack):
    job_id = stack.start_job(lines=2_000, interval=0)
    job = stack.wait_job(job_id)
    # The worker archives right after publishing the terminal state: wait for it.
    stack.wait(lambda: stack.redis.ttl(key.lines(job_id)) > 0, "the archive and the TTL", 10)
    assert stack.redis.ttl(key.lines(job_id)) <= 7 * 24 * 3600  # Redis keeps it a week
    archived = Path(stack.env["TAILAPP_DATA_DIR"]) / "archive" / job_id[:2]
    assert (archived / f"{job_id}.json").exists() and (archived / f"{job_id}.log.gz").exists()
    before = requests.get(f"{stack.url}/api/jobs/{job_id}/log", timeout=5).text

    expire_now(stack, job_id)
    assert requests.get(f"{stack.url}/api/jobs/{job_id}", timeout=5).json() == job
    after = requests.get(f"{stack.url}/api/jobs/{job_id}/log", timeout=5)
    assert after.text == before and after.headers["X-Next-Seq"] == "2000" and "X-More-Data" not in after.headers
    paged = requests.get(f"{stack.url}/api/jobs/{job_id}/log?after=1990", timeout=5).text
    assert paged.split("\n")[:-1] == before.split("\n")[1990:2000]
    assert job_id in [j["id"] for j in requests.get(f"{stack.url}/api/jobs?limit=50", timeout=5).json()["jobs"]]
    assert requests.get(f"{stack.url}/jobs/{job_id}", timeout=5).status_code == 200

    viewer = stack.viewer().connect()
    assert viewer.subscribe(job_id, after=0)["ok"]
    viewer.wait_done(20)
    assert viewer.seqs == list(range(1, 2001))
    assert [viewer.texts[n] for n in range(1, 2001)] == before.split("\n")[:-1]
    viewer.disconnect()


def test_delete_removes_a_finished_job_everywhere(stack):
    job_id = stack.start_job(lines=5, interval=0)
    stack.wait_job(job_id)
    stack.wait(lambda: stack.redis.ttl(key.lines(job_id)) > 0, "the archive", 10)
    response = requests.delete(f"{stack.url}/api/jobs/{job_id}", json={}, timeout=5)
    assert response.status_code == 204
    assert requests.get(f"{stack.url}/api/jobs/{job_id}", timeout=5).status_code == 404
    assert not (Path(stack.env["TAILAPP_DATA_DIR"]) / "archive" / job_id[:2] / f"{job_id}.json").exists()
    assert stack.redis.zscore(key.jobs, job_id) is None


def test_delete_running_job_is_refused(stack):
    job_id = stack.start_job(lines=100, interval=0.05)
    stack.wait_job(job_id, states={"running"})
    response = requests.delete(f"{stack.url}/api/jobs/{job_id}", json={}, timeout=5)
    assert response.status_code == 409 and "cancel it first" in response.json()["error"]
    requests.post(f"{stack.url}/api/jobs/{job_id}/cancel", json={}, timeout=5)


def test_retention_deletes_finished_jobs_beyond_the_limit(stack, tmp_path):
    store = Store(stack.redis, Archive(str(tmp_path / "archive")))
    ids = [jobs.create(store, "demo", {})["id"] for _ in range(3)]
    for job_id in ids[:2]:
        jobs.finish(store, job_id, "succeeded", 0)
    stack.redis.zadd(key.jobs, {ids[0]: 1})  # very old
    removed = jobs.prune(store, keep_days=30, keep_jobs=0)
    assert removed == 1 and jobs.get(store, ids[0]) is None and Archive(str(tmp_path / "archive")).job(ids[0]) is None
    assert jobs.get(store, ids[1]) is not None
    still_queued = ids[2]
    stack.redis.zadd(key.jobs, {still_queued: 1})
    jobs.prune(store, keep_days=30, keep_jobs=0)
    assert jobs.get(store, still_queued) is not None  # only finished jobs are ever deleted
