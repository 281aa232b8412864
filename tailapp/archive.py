"""Durable copies of finished jobs: the job object as JSON and the log as gzip, under any fsspec URL.

The default is a directory under the data dir; `s3://bucket/prefix` and the like work when the matching
fsspec backend is installed. The log is a series of gzip members of at most MEMBER_LINES lines or
MEMBER_CHARS characters, so the file is a plain .log.gz (zcat reads it whole) and a read of lines n..m
decompresses only the members holding them; where each member starts goes to a small index file. The
log and the index are written first and the JSON last, so a job that has JSON has a complete log; each file
is written under a temporary name and renamed when complete, so a full disk leaves no partial file.
"""

from __future__ import annotations

import gzip
import json
import sys
import uuid
from bisect import bisect_right
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import fsspec

from tailapp.store import decode_elements

MEMBER_LINES = 10_000  # a member ends at this many lines ...
MEMBER_CHARS = 1024 * 1024  # ... or once it holds this much text, whichever comes first
CACHE_CHARS = 32 * 1024 * 1024  # decompressed text kept in memory across all jobs (replays read in pages)
LINE_OVERHEAD = 64  # what a kept line costs beyond its characters, counted against CACHE_CHARS
CACHE_INDEXES = 256  # jobs whose member index is kept in memory


@dataclass(frozen=True)
class _Index:
    """Where a log's members start: member k holds line elements starts[k] .. starts[k+1]-1 (0-based),
    at bytes offsets[k] .. offsets[k+1]-1 of the file."""

    starts: list[int]
    offsets: list[int]


class Archive:
    """Finished jobs in files: <root>/<id[:2]>/<id>.json, <id>.log.gz and <id>.index.json."""

    def __init__(self, url: str, member_lines: int = MEMBER_LINES, member_chars: int = MEMBER_CHARS,
                 cache_chars: int = CACHE_CHARS):
        self.fs, self.root = fsspec.core.url_to_fs(url)
        self.member_lines, self.member_chars, self.cache_chars = member_lines, member_chars, cache_chars
        self._indexes: OrderedDict[str, _Index] = OrderedDict()
        self._members: OrderedDict[tuple[str, int], tuple[list[str], int]] = OrderedDict()  # lines, cost
        self.cached_chars = 0

    def _path(self, job_id: str, suffix: str) -> str:
        return f"{self.root}/{job_id[:2]}/{job_id}{suffix}"

    # -- writing ------------------------------------------------------------------------------------
    def save(self, job: dict, elements: Iterable[str]) -> None:
        """Write a finished job's log and its index, then its object; each file appears whole or not at all."""
        self.fs.makedirs(f"{self.root}/{job['id'][:2]}", exist_ok=True)
        with self._replacing(self._path(job["id"], ".log.gz"), "wb") as out:
            starts, offsets = self._write_log(out, elements)
        with self._replacing(self._path(job["id"], ".index.json"), "w") as out:
            json.dump({"starts": starts, "offsets": offsets}, out)
        with self._replacing(self._path(job["id"], ".json"), "w") as out:
            json.dump(job, out)

    def _write_log(self, out, elements: Iterable[str]) -> tuple[list[int], list[int]]:
        """Write the elements as gzip members; their first lines and byte offsets, each with the end."""
        starts, offsets = [0], [0]
        for member in self._members_of(elements):
            compressed = gzip.compress("".join(e + "\n" for e in member).encode(), compresslevel=6)
            out.write(compressed)
            starts.append(starts[-1] + len(member))
            offsets.append(offsets[-1] + len(compressed))
        if len(offsets) == 1:  # no lines: still a valid gzip file
            out.write(gzip.compress(b""))
        return starts, offsets

    @contextmanager
    def _replacing(self, path: str, mode: str):
        """A file to write that takes `path`'s place only once complete (a full disk leaves no part)."""
        temporary = f"{path}.{uuid.uuid4().hex[:8]}.part"
        try:
            with self.fs.open(temporary, mode) as out:
                yield out
            self.fs.mv(temporary, path)
        except BaseException:
            try:
                self.fs.rm(temporary)
            except OSError:  # never created
                pass
            raise

    # -- reading ------------------------------------------------------------------------------------
    def job(self, job_id: str) -> dict | None:
        try:
            with self.fs.open(self._path(job_id, ".json"), "r") as src:
                return json.load(src)
        except FileNotFoundError:
            return None

    def read_lines(self, job_id: str, after: int, count: int) -> tuple[list[str], list[int]]:
        """Lines with seq in (after, after + count] of an archived job."""
        index = self._index(job_id)
        elements: list[str] = []
        if index is None:
            return [], []
        member = bisect_right(index.starts, after) - 1
        while len(elements) < count and member < len(index.starts) - 1:
            try:
                lines = self._member(job_id, index, member)
            except FileNotFoundError:  # deleted (through another server) since its index was read
                self._forget(job_id)
                return [], []
            start = after + len(elements) - index.starts[member]
            elements.extend(lines[start : start + count - len(elements)])
            member += 1
        return decode_elements(elements)

    def _index(self, job_id: str) -> _Index | None:
        if job_id in self._indexes:
            self._indexes.move_to_end(job_id)
            return self._indexes[job_id]
        try:
            with self.fs.open(self._path(job_id, ".index.json"), "r") as src:
                raw = json.load(src)
            index = _Index([int(n) for n in raw["starts"]], [int(n) for n in raw["offsets"]])
        except FileNotFoundError:
            index = self._whole_file(job_id)
        if index is not None:  # a miss is not kept: the job may be archived a moment later
            self._indexes[job_id] = index
            if len(self._indexes) > CACHE_INDEXES:
                self._indexes.popitem(last=False)
        return index

    def _whole_file(self, job_id: str) -> _Index | None:
        """A log written without an index, by an earlier tailapp: read it whole, as one member."""
        try:
            size = self.fs.size(self._path(job_id, ".log.gz"))
        except FileNotFoundError:
            return None
        return _Index([0, sys.maxsize], [0, size])

    def _member(self, job_id: str, index: _Index, member: int) -> list[str]:
        """The lines of one member, decompressed once and kept while the cache has room."""
        cached = self._members.get((job_id, member))
        if cached is not None:
            self._members.move_to_end((job_id, member))
            return cached[0]
        start, end = index.offsets[member], index.offsets[member + 1]
        with self.fs.open(self._path(job_id, ".log.gz"), "rb") as src:
            src.seek(start)
            data = src.read(end - start)
        lines = gzip.decompress(data).decode().split("\n")[:-1]
        cost = sum(map(len, lines)) + LINE_OVERHEAD * len(lines)
        self._members[(job_id, member)] = (lines, cost)
        self.cached_chars += cost
        while self.cached_chars > self.cache_chars and len(self._members) > 1:
            self.cached_chars -= self._members.popitem(last=False)[1][1]
        return lines

    def delete(self, job_id: str) -> None:
        self._forget(job_id)
        for suffix in (".json", ".index.json", ".log.gz"):
            path = self._path(job_id, suffix)
            if self.fs.exists(path):
                self.fs.rm(path)

    def _forget(self, job_id: str) -> None:
        self._indexes.pop(job_id, None)
        for cached in [k for k in self._members if k[0] == job_id]:
            self.cached_chars -= self._members.pop(cached)[1]

    def _members_of(self, elements: Iterable[str]) -> Iterator[list[str]]:
        """Elements grouped into members: up to member_lines lines or member_chars characters each."""
        member, chars = [], 0
        for element in elements:
            member.append(element)
            chars += len(element)
            if len(member) >= self.member_lines or chars >= self.member_chars:
                yield member
                member, chars = [], 0
        if member:
            yield member
