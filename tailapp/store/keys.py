"""The key layout: every Redis key and channel name tailapp uses, all under the `tailapp:` prefix.

Every key of one job comes from `job_keys(job_id)`, the one place that writes a job id into a key: to keep
all of a job's keys on one Redis Cluster slot, a hash tag goes there and nowhere else.
"""

from __future__ import annotations

from typing import NamedTuple

PREFIX = "tailapp:"
CHANNEL = f"{PREFIX}ch:"  # a job's channel is CHANNEL + its id


class JobKeys(NamedTuple):
    """The keys of one job."""

    hash: str  # the job's fields
    lines: str  # its log, one element per line
    channel: str  # where its lines, state changes and subscription markers are published
    heartbeat: str  # refreshed by its worker while it runs
    reaping: str  # held by the server that marks it lost
    cancel: str  # set to ask its worker to stop
    secrets: str  # its secret parameters while it is queued


def job_keys(job_id: str) -> JobKeys:
    """Every key of job `job_id`."""
    heartbeat = f"{PREFIX}hb:{job_id}"
    return JobKeys(hash=f"{PREFIX}job:{job_id}", lines=f"{PREFIX}lines:{job_id}", channel=CHANNEL + job_id,
                   heartbeat=heartbeat, reaping=f"{heartbeat}:reaping", cancel=f"{PREFIX}cancel:{job_id}",
                   secrets=f"{PREFIX}secrets:{job_id}")


def tagged_job_keys(job_id: str) -> JobKeys:
    """Every key of job `job_id` on Redis Cluster: the id as a hash tag ("{<id>}"), so all of them (and the
    job's shard channel) hash to one slot, and one script can change them together."""
    return job_keys("{" + job_id + "}")


def job_of_channel(channel: str) -> str:
    """The job id of a job channel's name (tagged or not)."""
    return channel[len(CHANNEL) :].strip("{}")


def _one_job(name: str) -> staticmethod:
    """key.<kind>(job_id): that field of job_keys(job_id)."""
    return staticmethod(lambda job_id: getattr(job_keys(job_id), name))


class key:  # noqa: N801 - used as a namespace: key.lines(job_id)
    """Key names by kind: one job's (from job_keys) and the installation's."""

    job = _one_job("hash")
    lines = _one_job("lines")
    channel = _one_job("channel")
    heartbeat = _one_job("heartbeat")
    cancel = _one_job("cancel")
    secrets = _one_job("secrets")
    job_from_channel = staticmethod(job_of_channel)

    @staticmethod
    def session(session_id: str) -> str:
        return f"{PREFIX}session:{session_id}"

    @staticmethod
    def signin(kind: str, who: str | int) -> str:
        """Failed sign-in counting: kind "count" or "wait" of a client address, "global" of a minute."""
        return f"{PREFIX}signin:{kind}:{who}"

    jobs_channel = f"{PREFIX}jobfeed"  # every job change, for the job list (job channels carry only their own)
    jobs = f"{PREFIX}jobs"  # sorted set of job ids by created_at
    running = f"{PREFIX}running"  # set of running job ids, for the lost-job check
    unarchived = f"{PREFIX}unarchived"  # set of finished job ids not in the archive yet (retried until they are)
    workers = f"{PREFIX}workers"  # sorted set of live Celery workers, scored by when they expire
