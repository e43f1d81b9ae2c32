"""Worker processes in slots: the machinery behind ``--executor gpus`` (a GPU per slot) and ``local --jobs N``
(a core set per slot).

The driver starts ``python -m suite.run.executors.worker`` per slot and talks to it over a socket pair (pickled
messages); a worker runs one task at a time, keeps the run's dataset between jobs and dies with the driver
(PR_SET_PDEATHSIG). A worker that dies is restarted at the next submit; the driver runs its job again (up to
--max-attempts in all), and the engine resumes from the job's last epoch checkpoint. Each slot states its
environment (``SlotSpec.env``: CUDA_VISIBLE_DEVICES for a GPU) and the cores it is pinned to, if any.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import IO

from ..job import Task
from .base import Done, Executor


@dataclass(frozen=True)
class SlotSpec:
    """What makes a slot: its name, the environment its worker starts with, the cores it is pinned to."""

    name: str
    env: dict[str, str] = field(default_factory=dict)
    cores: tuple[int, ...] = ()  # () unpinned

    def describe(self, threads: int) -> dict:
        return {"name": self.name, "threads": threads, "cores": list(self.cores) or None, **self.env}


@dataclass
class Slot:
    spec: SlotSpec
    proc: subprocess.Popen | None = None
    conn: Connection | None = None
    task: Task | None = None
    log: IO[str] | None = None

    @property
    def name(self) -> str:
        return self.spec.name


def _exit_text(code: int | None) -> str:
    if code is None:
        return "closed its connection"
    if code < 0:
        try:
            return f"was killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"was killed by signal {-code}"
    return f"exited with code {code}"


class WorkerPool(Executor):
    """Executor over worker subprocesses, one per ``SlotSpec``, each with ``threads`` intra-op threads."""

    threads: int

    def __init__(self, specs: list[SlotSpec], *, threads: int, log_dir: str | os.PathLike | None = None,
                 env: dict | None = None):
        self.slot_list = [Slot(s) for s in specs]
        self.slots = len(self.slot_list)
        self.threads = int(threads)
        self.log_dir = Path(log_dir) if log_dir else None
        self.env = dict(env or {})
        self.emit = lambda event: None

    def slot_specs(self) -> list[dict]:
        return [s.spec.describe(self.threads) for s in self.slot_list]

    # --- workers --------------------------------------------------------------------------------------------
    def _spawn(self, slot: Slot) -> None:
        parent, child = socket.socketpair()
        threads = str(self.threads)
        env = {**os.environ, **self.env, **slot.spec.env, "SUITE_WORKER_FD": str(child.fileno()),
               "SUITE_WORKER_SLOT": slot.name, "SUITE_WORKER_THREADS": threads,
               "SUITE_WORKER_CORES": ",".join(map(str, slot.spec.cores)),
               "OMP_NUM_THREADS": threads, "MKL_NUM_THREADS": threads}
        if self.log_dir is not None:
            self.log_dir.mkdir(parents=True, exist_ok=True)
            slot.log = (self.log_dir / f"worker-{slot.name}.log").open("a")
        out = slot.log if slot.log is not None else subprocess.DEVNULL
        slot.proc = subprocess.Popen([sys.executable, "-m", f"{__package__}.worker"], env=env,
                                     pass_fds=(child.fileno(),), stdin=subprocess.DEVNULL, stdout=out,
                                     stderr=subprocess.STDOUT)
        child.close()
        slot.conn = Connection(parent.detach())

    def _bury(self, slot: Slot) -> str:
        code = None
        if slot.proc is not None:
            try:
                code = slot.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                slot.proc.kill()
                code = slot.proc.wait()
        if slot.conn is not None:
            slot.conn.close()
        if slot.log is not None:
            slot.log.close()
        slot.proc, slot.conn, slot.log = None, None, None
        return _exit_text(code)

    # --- the Executor interface -----------------------------------------------------------------------------
    def free(self) -> int:
        return sum(1 for s in self.slot_list if s.task is None)

    def submit(self, task: Task) -> None:
        slot = next(s for s in self.slot_list if s.task is None)
        if slot.proc is None:
            self._spawn(slot)
        slot.task = task
        assert slot.conn is not None  # a started worker is connected
        try:
            slot.conn.send(("task", task))
        except OSError:
            pass  # a worker that died idle: wait() reports it and the task is run again

    def wait(self, timeout: float) -> list[Done]:
        busy = {s.conn: s for s in self.slot_list if s.task is not None and s.conn is not None}
        if not busy:
            return []
        done: list[Done] = []
        for conn in wait(list(busy), timeout):
            assert isinstance(conn, Connection)  # wait() returns some of the connections it was given
            slot = busy[conn]
            try:
                while conn.poll(0):
                    kind, *payload = conn.recv()
                    if kind == "event":
                        self.emit({**payload[0], "slot": slot.name})
                    elif kind in ("done", "error"):
                        task, slot.task = slot.task, None
                        assert task is not None  # busy slots only
                        if kind == "done":
                            done.append(Done(task, payload[1]))
                        else:
                            done.append(Done(task, error=payload[1]))
                        break
            except (EOFError, OSError):
                task, slot.task = slot.task, None
                assert task is not None
                how = self._bury(slot)
                done.append(Done(task, error=f"worker {slot.name} {how}", crashed=True, retry=True))
        return done

    def call(self, fn, *args):
        task = Task("call", fn=fn, args=args, id=-1)
        self.submit(task)
        while True:
            for d in self.wait(1.0):
                if d.error:
                    raise RuntimeError(d.error)
                return d.value

    def close(self) -> None:
        for slot in self.slot_list:
            if slot.conn is not None:
                try:
                    slot.conn.send(("stop",))
                except OSError:
                    pass
        deadline = time.monotonic() + 10
        for slot in self.slot_list:
            if slot.proc is not None:
                try:
                    slot.proc.wait(timeout=max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    slot.proc.kill()
            self._bury(slot)
