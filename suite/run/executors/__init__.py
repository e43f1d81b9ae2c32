"""Where a run's jobs execute: ``local`` (in the driver; with ``--jobs N`` a worker per CPU slot), ``gpus`` (a
worker per GPU slot), ``ray`` (a task each).

Every executor runs ``suite.run.job.execute`` on ``Task`` objects and hands back ``Done`` objects; the driver
(suite.run.runner) decides what runs when, and alone writes results.jsonl.
"""

from __future__ import annotations

from ..executor_check import ray_address, visible_gpus
from .base import Done, Executor
from .cpus import CpuSlotsExecutor
from .gpus import GpusExecutor
from .local import LocalExecutor
from .ray import RayExecutor

__all__ = ["CpuSlotsExecutor", "Done", "Executor", "GpusExecutor", "LocalExecutor", "RayExecutor", "make_executor"]


def make_executor(plan, backends, *, progress=None) -> Executor:
    """The executor the plan asks for, connected and ready (Ray started or reached)."""
    config = plan.config
    if config.executor == "local":
        if plan.slots.pooled:
            return CpuSlotsExecutor(plan, backends, plan.slots, log_dir=plan.run_dir / "logs", progress=progress)
        return LocalExecutor(plan, backends, progress=progress)
    if config.executor == "gpus":
        return GpusExecutor(gpus=list(config.gpus or visible_gpus()), jobs_per_gpu=config.jobs_per_gpu,
                            threads=config.threads, log_dir=plan.run_dir / "logs")
    return RayExecutor(address=ray_address(config), threads=config.threads, max_attempts=config.max_attempts,
                       device=config.device).connect()
