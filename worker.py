"""Run a tailapp Celery worker: python worker.py [celery worker options]; same as celery -A tailapp.celery worker."""

import sys

from tailapp import celery

if __name__ == "__main__":
    celery.worker_main(["worker", *sys.argv[1:]])
