"""``--executor local --jobs N``: N trainings at once, each in a worker process pinned to its own cores.

Training goes to the worker slots (``pool.WorkerPool``; ``suite.run.slots`` decides the count, the threads
and the core sets). Timing and plain calls (the estimate's steps) run in the driver, as with one slot: the
runner times only while no job trains, so a measurement has the whole machine and the same threads as a
``--jobs 1`` run, whatever the slots.
"""

from __future__ import annotations

import os

from ..job import Task
from ..slots import JobSlots
from .base import Done
from .local import LocalExecutor
from .pool import SlotSpec, WorkerPool


class CpuSlotsExecutor(WorkerPool):
    name = "local"

    def __init__(self, plan, backends, slots: JobSlots, *, log_dir: str | os.PathLike | None = None,
                 env: dict | None = None, progress=None):
        # CUDA hidden: a slot trains on its cores even where the machine has a GPU
        specs = [SlotSpec(name, {"CUDA_VISIBLE_DEVICES": ""}, slots.cores[i] if slots.cores else ())
                 for i, name in enumerate(slots.names())]
        assert slots.threads is not None  # a pooled JobSlots states its threads
        super().__init__(specs, threads=slots.threads, log_dir=log_dir, env=env)
        self.job_slots = slots
        self.inline = LocalExecutor(plan, backends, progress=progress)

    def start(self, emit) -> None:
        super().start(emit)
        self.inline.start(emit)

    def free(self) -> int:
        return 0 if self.inline.queue else super().free()

    def submit(self, task: Task) -> None:
        if task.phase == "train":
            super().submit(task)
        else:
            self.inline.submit(task)

    def wait(self, timeout: float) -> list[Done]:
        done = self.inline.wait(timeout) if self.inline.queue else []
        return done + super().wait(0.0 if done else timeout)

    def call(self, fn, *args):
        return fn(*args)

    def describe(self) -> dict:
        return {**self.job_slots.describe(), "name": self.name, "slots": self.slots,
                "threads_per_worker": self.threads, "slot_specs": self.slot_specs()}

    def slots_text(self) -> str:
        return self.job_slots.text()
