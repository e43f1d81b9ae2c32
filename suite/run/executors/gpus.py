"""``--executor gpus``: one worker subprocess per GPU slot, each with its own CUDA_VISIBLE_DEVICES.

``--gpus 0,1,3`` (default: every visible GPU) x ``--jobs-per-gpu`` (default 1) slots. The driver never
initialises CUDA; the worker machinery (start, restart, events, kill safety) is ``pool.WorkerPool``.
"""

from __future__ import annotations

import os

from .pool import SlotSpec, WorkerPool


class GpusExecutor(WorkerPool):
    name = "gpus"

    def __init__(self, *, gpus: list[str], jobs_per_gpu: int = 1, threads: int | None = None,
                 log_dir: str | os.PathLike | None = None, env: dict | None = None):
        self.gpus = [str(g) for g in gpus]
        self.jobs_per_gpu = int(jobs_per_gpu)
        specs = [SlotSpec(f"gpu{g}-{i}", {"CUDA_VISIBLE_DEVICES": g}) for g in self.gpus
                 for i in range(self.jobs_per_gpu)]
        # Every worker gets its share of the CPU, set explicitly (the engine's data path is on the device).
        super().__init__(specs, threads=threads or max(1, (os.cpu_count() or 1) // max(len(specs), 1)),
                         log_dir=log_dir, env=env)

    def describe(self) -> dict:
        return {"name": self.name, "slots": self.slots, "gpus": self.gpus, "jobs_per_gpu": self.jobs_per_gpu,
                "threads_per_worker": self.threads, "slot_specs": self.slot_specs()}

    def slots_text(self) -> str:
        return f"{self.slots} slot(s): GPU {', '.join(self.gpus)} x {self.jobs_per_gpu} job(s) each"
