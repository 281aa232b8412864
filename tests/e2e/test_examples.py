"""examples/flask_celery: an existing Flask + Celery app with tailapp added, run by its own worker."""

from __future__ import annotations

import subprocess
import sys

import requests

from tests.conftest import ROOT, TERMINAL, stop_process

EXAMPLE = ROOT / "examples" / "flask_celery"


def test_existing_flask_celery_app_streams_its_task_into_tailapp(stack):
    env = {k: v for k, v in stack.env.items() if k not in ("TAILAPP_TASK_MODULES", "TAILAPP_COMMANDS_FILE")}
    # Another Redis database than tailapp's broker, or tailapp's own worker could take the task.
    env["SHOP_BROKER_URL"] = stack.redis_url.rsplit("/", 1)[0] + "/1"
    env["PYTHONPATH"] = str(EXAMPLE)
    worker = subprocess.Popen([sys.executable, "-m", "celery", "-A", "make_celery", "worker", "-c", "1", "--loglevel",
                               "INFO", "--without-mingle", "--without-gossip"], cwd=EXAMPLE, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        started = subprocess.run([sys.executable, "-c", "from shop import create_app; "
                                  "print(create_app().test_client().post('/reports').json['job'])"],
                                 cwd=EXAMPLE, env=env, capture_output=True, text=True, timeout=60, check=True)
        job_id = started.stdout.strip().replace("-", "")
        # The job exists once the shop's worker picks the task up: it was not started through tailapp's API.
        stack.wait(lambda: stack.job(job_id).get("state") in TERMINAL, "the shop's job to end", 60)
        job = stack.job(job_id)
    finally:
        stop_process(worker)
    assert (job["task"], job["state"], job["progress"]["fraction"]) == ("build_report", "succeeded", 1.0)
    log = requests.get(f"{stack.url}/api/jobs/{job['id']}/log", timeout=10).text.splitlines()
    assert log == ["::group::Collect", "collected 42 orders", "::endgroup::",
                   "INFO shop.tasks: rendering page 1", "::progress::0.3333 page 1 of 3",
                   "INFO shop.tasks: rendering page 2", "::progress::0.6667 page 2 of 3",
                   "INFO shop.tasks: rendering page 3", "::progress::1 page 3 of 3", "report ready"]
