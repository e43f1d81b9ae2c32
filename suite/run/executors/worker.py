"""A worker of a slot pool (``pool.WorkerPool``: GPU slots, CPU job slots): ``python -m suite.run.executors.worker``,
started by the driver, one per slot.

It reads tasks from the socket named by $SUITE_WORKER_FD, runs ``suite.run.job.execute`` on each and sends
back events and the result. CUDA_VISIBLE_DEVICES, the thread count and the cores ($SUITE_WORKER_CORES) are
set before torch is imported; the worker dies with the driver (PR_SET_PDEATHSIG), so a killed driver leaves
no job running.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import traceback
from multiprocessing.connection import Connection


def die_with_parent() -> None:
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass  # not Linux: the worker still exits when its socket closes between tasks


def pin() -> None:
    """The cores named by the driver ($SUITE_WORKER_CORES), set before torch starts its threads."""
    cores = [int(c) for c in os.environ.get("SUITE_WORKER_CORES", "").split(",") if c.strip()]
    if cores and hasattr(os, "sched_setaffinity"):
        try:
            os.sched_setaffinity(0, cores)
        except OSError:
            os.environ["SUITE_WORKER_CORES"] = ""  # recorded as unpinned
            print(f"could not pin this worker to cores {cores}; it runs unpinned", file=sys.stderr, flush=True)


def main() -> int:
    die_with_parent()
    pin()
    conn = Connection(int(os.environ["SUITE_WORKER_FD"]))
    # imported once the worker is tied to its parent: loading torch takes seconds, and a driver killed meanwhile
    # must not leave this process behind
    from suite.core.errors import one_line
    from suite.run.job import execute, set_threads

    threads = int(os.environ.get("SUITE_WORKER_THREADS") or 0)
    if threads:
        set_threads(threads)

    def emit(event: dict) -> None:
        conn.send(("event", event))

    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return 0
        if message[0] != "task":
            return 0
        task = message[1]
        try:
            value = execute(task, emit)
        except Exception as exc:  # noqa: BLE001 - reported to the driver as this task's failure
            traceback.print_exc()
            sys.stderr.flush()
            conn.send(("error", task.id, one_line(exc)))
        else:
            conn.send(("done", task.id, value))


if __name__ == "__main__":
    sys.exit(main())
