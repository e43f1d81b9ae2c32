"""``--executor gpus``: one worker subprocess per GPU slot, each with its own CUDA_VISIBLE_DEVICES.

``--gpus 0,1,3`` (default: every visible GPU) x ``--jobs-per-gpu`` (default 1) slots. The driver never
initialises CUDA: it starts ``python -m suite.run.executors.worker`` per slot and talks to it over a socket
pair (pickled messages). A worker runs one task at a time and keeps the run's dataset between jobs. A worker
that dies is restarted at the next submit; the driver runs its job again (up to --max-attempts in all), and the
engine resumes from the job's last epoch checkpoint.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import IO

from ..job import Task
from .base import Done, Executor


@dataclass
class Slot:
    gpu: str
    index: int  # which of the GPU's --jobs-per-gpu slots
    proc: subprocess.Popen | None = None
    conn: Connection | None = None
    task: Task | None = None
    log: IO[str] | None = None

    @property
    def name(self) -> str:
        return f"gpu{self.gpu}-{self.index}"


def _exit_text(code: int | None) -> str:
    if code is None:
        return "closed its connection"
    if code < 0:
        try:
            return f"was killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"was killed by signal {-code}"
    return f"exited with code {code}"


class GpusExecutor(Executor):
    name = "gpus"

    def __init__(self, *, gpus: list[str], jobs_per_gpu: int = 1, threads: int | None = None,
                 log_dir: str | os.PathLike | None = None, env: dict | None = None):
        self.gpus = [str(g) for g in gpus]
        self.jobs_per_gpu = int(jobs_per_gpu)
        self.slot_list = [Slot(g, i) for g in self.gpus for i in range(self.jobs_per_gpu)]
        self.slots = len(self.slot_list)
        # Every worker gets its share of the CPU, set explicitly (the engine's data path is on the device).
        self.threads = threads or max(1, (os.cpu_count() or 1) // max(self.slots, 1))
        self.log_dir = Path(log_dir) if log_dir else None
        self.env = dict(env or {})
        self.emit = lambda event: None

    def describe(self) -> dict:
        return {"name": self.name, "slots": self.slots, "gpus": self.gpus, "jobs_per_gpu": self.jobs_per_gpu,
                "threads_per_worker": self.threads}

    def slots_text(self) -> str:
        return f"{self.slots} slot(s): GPU {', '.join(self.gpus)} x {self.jobs_per_gpu} job(s) each"

    # --- workers --------------------------------------------------------------------------------------------
    def _spawn(self, slot: Slot) -> None:
        parent, child = socket.socketpair()
        env = {**os.environ, **self.env, "CUDA_VISIBLE_DEVICES": slot.gpu, "SUITE_WORKER_FD": str(child.fileno()),
               "SUITE_WORKER_SLOT": slot.name, "SUITE_WORKER_THREADS": str(self.threads),
               "OMP_NUM_THREADS": str(self.threads), "MKL_NUM_THREADS": str(self.threads)}
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
