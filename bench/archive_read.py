"""Reading a big archived log: time and memory for the first page, a page deep inside, and a replay.

    .venv/bin/python bench/archive_read.py [lines]      # default 1,000,000 lines (~100 MB of text)

Archives a log of build-like lines to a temporary directory, then reads it back the way the server
does: the log API's first page, a page from the middle, and a replay in 5,000-line chunks. Prints the
time of each and the growth of this process's peak RSS.
"""

from __future__ import annotations

import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tailapp.archive import Archive  # noqa: E402


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def elements(count: int):
    for n in range(1, count + 1):
        module = f"module_{n % 997:03d}"
        yield f"{1_700_000_000_000 + n} [{n:07d}] compiling src/{module}.c -> build/obj/{module}.o \x1b[32mok\x1b[0m"


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    job = {"id": "be" * 16, "state": "succeeded", "lines": count}
    with tempfile.TemporaryDirectory() as tmp:
        base = peak_rss_mb()
        started = time.perf_counter()
        Archive(tmp).save(job, elements(count))
        saved = time.perf_counter() - started
        size = sum(p.stat().st_size for p in Path(tmp).rglob("*.log.gz")) / 1024 / 1024
        print(f"{count:,} lines archived in {saved:.2f} s ({size:.1f} MB gzip); "
              f"peak RSS +{peak_rss_mb() - base:.0f} MB")

        archive = Archive(tmp)  # a server that has not read this job yet
        for name, after, limit in (("first page (10,000 lines)", 0, 10_000),
                                   ("page in the middle (10,000 lines)", count // 2, 10_000)):
            started = time.perf_counter()
            texts, _ = archive.read_lines(job["id"], after, limit)
            assert len(texts) == min(limit, count - after)
            print(f"{name}: {(time.perf_counter() - started) * 1000:.1f} ms; peak RSS +{peak_rss_mb() - base:.0f} MB")

        started, after, longest = time.perf_counter(), 0, 0.0
        while True:
            step = time.perf_counter()
            texts, _ = archive.read_lines(job["id"], after, 5_000)
            longest = max(longest, time.perf_counter() - step)
            if not texts:
                break
            after += len(texts)
        assert after == count
        print(f"replay in 5,000-line chunks: {time.perf_counter() - started:.2f} s, longest read "
              f"{longest * 1000:.1f} ms (the server's loop waits that long); peak RSS +{peak_rss_mb() - base:.0f} MB")


if __name__ == "__main__":
    main()
