"""Durable copies of finished jobs: the job object as JSON and the log as gzip, under any fsspec URL.

The default is a directory under the data dir; `s3://bucket/prefix` and the like work when the matching
fsspec backend is installed. The log file is written first and the JSON last, so a job that has JSON
has a complete log.
"""

from __future__ import annotations

import gzip
import json
from collections import OrderedDict
from collections.abc import Iterable

import fsspec

from tailapp.store import decode_elements

CACHE_JOBS = 4  # decoded logs kept in memory, for replays that read a big log in chunks


class Archive:
    """Finished jobs in files: <root>/<id[:2]>/<id>.json and <id>.log.gz."""

    def __init__(self, url: str):
        self.fs, self.root = fsspec.core.url_to_fs(url)
        self._cache: OrderedDict[str, list[str]] = OrderedDict()

    def _path(self, job_id: str, suffix: str) -> str:
        return f"{self.root}/{job_id[:2]}/{job_id}{suffix}"

    def save(self, job: dict, elements: Iterable[str]) -> None:
        """Write a finished job's log, then its object."""
        self.fs.makedirs(f"{self.root}/{job['id'][:2]}", exist_ok=True)
        with self.fs.open(self._path(job["id"], ".log.gz"), "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb") as gz:
            for element in elements:
                gz.write(element.encode() + b"\n")
        with self.fs.open(self._path(job["id"], ".json"), "w") as out:
            json.dump(job, out)

    def job(self, job_id: str) -> dict | None:
        try:
            with self.fs.open(self._path(job_id, ".json"), "r") as src:
                return json.load(src)
        except FileNotFoundError:
            return None

    def read_lines(self, job_id: str, after: int, count: int) -> tuple[list[str], list[int]]:
        """Lines with seq in (after, after + count] of an archived job."""
        return decode_elements(self._elements(job_id)[after : after + count])

    def _elements(self, job_id: str) -> list[str]:
        if job_id in self._cache:
            self._cache.move_to_end(job_id)
            return self._cache[job_id]
        try:
            with self.fs.open(self._path(job_id, ".log.gz"), "rb") as raw, gzip.GzipFile(fileobj=raw) as gz:
                elements = gz.read().decode().split("\n")[:-1]
        except FileNotFoundError:
            elements = []
        self._cache[job_id] = elements
        if len(self._cache) > CACHE_JOBS:
            self._cache.popitem(last=False)
        return elements

    def delete(self, job_id: str) -> None:
        self._cache.pop(job_id, None)
        for suffix in (".json", ".log.gz"):
            path = self._path(job_id, suffix)
            if self.fs.exists(path):
                self.fs.rm(path)
