"""A gpus-executor worker: ``python -m suite.run.executors.worker``, started by the driver, one per slot.

It reads tasks from the socket named by $SUITE_WORKER_FD, runs ``suite.run.job.execute`` on each and sends
back events and the result. CUDA_VISIBLE_DEVICES and the thread count are set by the driver before torch is
imported; the worker dies with the driver (PR_SET_PDEATHSIG), so a killed driver leaves no job running.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import traceback
from multiprocessing.connection import Connection


def _die_with_parent() -> None:
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass  # not Linux: the worker still exits when its socket closes between tasks


def main() -> int:
    _die_with_parent()
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
