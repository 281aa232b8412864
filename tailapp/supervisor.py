"""Watches a running job from inside the worker: heartbeat, cancel requests, child process groups.

A thread beside the task refreshes the job's heartbeat key (servers mark a job `lost` when it expires)
and polls the cancel flag. On cancel it kills the process groups the task started and interrupts the
task itself: with a signal when the task runs in the main thread (prefork: this interrupts time.sleep
and blocking calls), by killing the task's greenlet in a gevent pool, else with an asynchronous
exception in the task's thread (threads pool).
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextvars import ContextVar

import redis

from tailapp.store import Store

log = logging.getLogger(__name__)
HEARTBEAT_SECONDS = 10  # a job whose heartbeat is older than this is lost
TICK_SECONDS = 0.25  # how often the cancel flag is read
CANCEL_SIGNAL = signal.SIGUSR2
_current: ContextVar[Supervisor | None] = ContextVar("tailapp_supervisor", default=None)


class JobCancelled(BaseException):
    """Raised inside a task whose job was cancelled."""


def current() -> Supervisor | None:
    """The supervisor of the job running in this context, if any."""
    return _current.get()


class Supervisor:
    """Heartbeat and cancel handling for one running job."""

    def __init__(self, store: Store, job_id: str):
        self.store = store
        self.job_id = job_id
        self.cancelled = threading.Event()
        self._interrupted = False  # JobCancelled sent to the task already: it must arrive once
        self._interrupt_lock = threading.Lock()
        self._stop = threading.Event()
        self._groups: set[int] = set()
        self._task_thread = threading.current_thread()
        self._task_greenlet = _gevent_task()
        self._thread = threading.Thread(target=self._run, name=f"tailapp-supervisor-{job_id[:8]}", daemon=True)

    # -- for the task (and the command runner) ----------------------------------------------------
    def track(self, pgid: int) -> None:
        """Kill this process group if the job is cancelled."""
        self._groups.add(pgid)
        if self.cancelled.is_set():
            self._kill_groups()

    def untrack(self, pgid: int) -> None:
        self._groups.discard(pgid)

    def raise_if_cancelled(self) -> None:
        """Raise JobCancelled in the task, unless the cancel already interrupted it (or is about to)."""
        if self.cancelled.is_set() and self._claim_interrupt():
            raise JobCancelled()

    def _claim_interrupt(self) -> bool:
        """True for the first caller only: the one that delivers JobCancelled to the task."""
        with self._interrupt_lock:
            first, self._interrupted = not self._interrupted, True
            return first

    # -- lifecycle ----------------------------------------------------------------------------------
    @contextlib.contextmanager
    def watching(self) -> Iterator[Supervisor]:
        """Run the block with heartbeat and cancel handling; JobCancelled leaves it when cancelled."""
        token = _current.set(self)
        restore = self._install_signal()
        self.beat()
        self._thread.start()
        try:
            yield self
        finally:
            self._stop.set()
            self._thread.join()
            if restore is not None:
                signal.signal(CANCEL_SIGNAL, restore)
            _current.reset(token)
            self._kill_groups()  # nothing the job started outlives it

    def beat(self) -> None:
        self.store.beat(self.job_id, HEARTBEAT_SECONDS)

    def _run(self) -> None:
        ticks = 0
        while not self._stop.wait(TICK_SECONDS):
            ticks += 1
            try:
                if ticks % 8 == 0:
                    self.beat()
                if not self.cancelled.is_set() and self.store.cancel_requested(self.job_id):
                    self._cancel()
            except redis.RedisError as exc:  # Redis away: the writer retries; keep watching
                log.warning("supervisor of %s: %s", self.job_id, exc)

    def _cancel(self) -> None:
        self.cancelled.set()
        self._kill_groups()
        if self._task_greenlet is None and self._task_thread is threading.main_thread():
            signal.pthread_kill(self._task_thread.ident, CANCEL_SIGNAL)  # its handler claims the interrupt
        elif not self._claim_interrupt():
            return  # the task saw its command killed and raised JobCancelled itself
        elif self._task_greenlet is not None:
            self._task_greenlet.kill(JobCancelled, block=False)
        else:
            ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(self._task_thread.ident),
                                                       ctypes.py_object(JobCancelled))

    def _kill_groups(self) -> None:
        for pgid in list(self._groups):
            kill_group(pgid)
        self._groups.clear()

    def _install_signal(self):
        if threading.current_thread() is not threading.main_thread():
            return None
        return signal.signal(CANCEL_SIGNAL, self._on_signal)

    def _on_signal(self, signum, frame) -> None:
        self.raise_if_cancelled()


def _gevent_task():
    """The gevent greenlet running this task in a worker with the gevent pool; None elsewhere."""
    if "gevent" not in sys.modules:
        return None
    import gevent
    from gevent import monkey

    current = gevent.getcurrent()
    return current if monkey.is_module_patched("threading") and isinstance(current, gevent.Greenlet) else None


def kill_group(pgid: int, grace: float = 1.0, leader: subprocess.Popen | None = None) -> None:
    """SIGTERM a process group, wait up to `grace` seconds (for `leader` to exit when given, else for the
    group to be gone), then SIGKILL whatever of the group is left; `leader` is reaped."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        if leader is None or leader.poll() is None:
            os.killpg(pgid, signal.SIGTERM)
            _wait_gone(pgid, grace, leader)
        os.killpg(pgid, signal.SIGKILL)  # stragglers the leader left behind, or the leader itself
    if leader is not None:
        leader.wait()


def _wait_gone(pgid: int, grace: float, leader: subprocess.Popen | None) -> None:
    if leader is not None:
        with contextlib.suppress(subprocess.TimeoutExpired):
            leader.wait(grace)
        return
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        os.killpg(pgid, 0)  # raises ProcessLookupError once the group is gone
        time.sleep(0.05)
