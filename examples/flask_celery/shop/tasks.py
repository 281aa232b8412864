"""The shop's Celery task, made tailable: everything it prints, logs and runs shows on the job page."""

from __future__ import annotations

import logging
import sys

from tailapp import progress, run, section, tail_task

log = logging.getLogger(__name__)


@tail_task(title="Build report")
def build_report(pages: int = 3) -> int:
    """Collect the data and render a report, page by page."""
    with section("Collect"):
        run([sys.executable, "-c", "print('collected 42 orders')"])
    for page in range(1, pages + 1):
        log.info("rendering page %d", page)
        progress(page / pages, f"page {page} of {pages}")
    print("report ready")
    return 0
