"""Masking cost per log line: `tailapp.masking.Masker.mask`, in process (the writer's CPU layer, no Redis).

Prints microseconds per line for typical shapes of output, with the secrets a default worker masks (two
values) and with a PEM key besides, next to a plain `re.sub` over the line (what masking cost before it
looked at renderings).

    .venv/bin/python -m bench.masking
"""

from __future__ import annotations

import timeit

from tailapp.masking import MASK, Masker

SECRETS = ["key-a83b55e0c4", "tok-7d1f0c9e2b"]
PEM = "-----BEGIN KEY-----\n" + "\n".join("b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ" + str(n) for n in range(25)) + \
      "\n-----END KEY-----\n"
SHAPES = {
    "plain": "2026-11-23 18:00:00 INFO building target 42 of 100: compiling src/module_42.c",
    "coloured": "\x1b[32m✓\x1b[0m test_module_42 \x1b[2m(12 ms)\x1b[0m \x1b[1;34mPASS\x1b[0m some/path/file.py",
    "progress bar": "".join(f"\r  {n:3d}% |{'#' * (n // 5):20s}| {n * 12} kB" for n in range(0, 101, 5)),
    "secret in colour": "\x1b[32mtoken\x1b[0m tok-7d1f\x1b[01;31m0c9e2b\x1b[m used",
}


def micros(fn, line: str) -> float:
    """Microseconds per fn(line): the best of 7 rounds (the least disturbed by other load)."""
    return min(timeit.repeat(lambda: fn(line), number=2000, repeat=7)) / 2000 * 1e6


def main() -> None:
    maskers = {"2 secrets": Masker(SECRETS), "2 secrets + PEM (27 lines)": Masker([*SECRETS, PEM])}
    print(f"{'shape':18} {'masker':28} {'re.sub only':>12} {'Masker.mask':>12}  (microseconds per line)")
    for shape, line in SHAPES.items():
        for name, masker in maskers.items():
            before = micros(lambda text, m=masker: m.pattern.sub(MASK, text), line)
            print(f"{shape:18} {name:28} {before:12.2f} {micros(masker.mask, line):12.2f}")


if __name__ == "__main__":
    main()
