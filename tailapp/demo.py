"""The demo task: a fake build log that shows what the viewer handles."""

from __future__ import annotations

import time
from typing import Annotated

from tailapp.params import Param
from tailapp.tasks import tail_task

BOLD, GREEN, YELLOW, CYAN, RED, DIM, RESET = (f"\x1b[{c}m" for c in (1, 32, 33, 36, 31, 2, 0))


def script(total: int, fail: bool) -> list[str]:
    """The first lines of the demo log; the rest are numbered steps."""
    head = [
        f"{BOLD}tailapp demo build{RESET} \u2014 {total} lines",
        "::group::Install dependencies",
        f"{DIM}$ pip install -r requirements.txt{RESET}",
        f"Collecting flask {GREEN}\u2713{RESET}",
        f"Collecting celery {GREEN}\u2713{RESET}",
        "::endgroup::",
        "".join(f"\rDownloading [{'#' * i}{'.' * (10 - i)}] {i * 10}%" for i in range(11)).lstrip("\r"),
        "HTML stays text: <b>&amp;</b> <script>alert(1)</script>",
    ]
    tail = f"{RED}{BOLD}Build failed{RESET}" if fail else f"{GREEN}{BOLD}Build succeeded{RESET}"
    return [*head[: max(total - 1, 0)], tail]


@tail_task(title="Demo build")
def demo(
    lines: Annotated[int, Param(min=1, max=1_000_000, help="how many lines to print")] = 40,
    interval: Annotated[float, Param(min=0, max=60, help="seconds between lines")] = 0.25,
    fail: Annotated[bool, Param(help="finish as failed")] = False,
) -> int:
    """Print a fake build log with colours, a section, a progress bar and HTML-like text."""
    head = script(lines, fail)
    last = head.pop()
    for n in range(1, lines + 1):
        if n <= len(head):
            print(head[n - 1])
        elif n < lines:
            print(f"{CYAN}step {n}/{lines}{RESET} compiling module_{n % 97:02d} {YELLOW}ok{RESET}")
        else:
            print(last)
        if interval and n < lines:
            time.sleep(interval)
    return 1 if fail else 0
