"""``--executor ray``: one Ray task per job phase, on a cluster (``--ray-address`` / $RAY_ADDRESS) or a local
Ray instance started for the run.

A task asks for ``num_gpus=1`` where the cluster has GPUs (and --device is not cpu), else ``num_cpus`` =
--threads (default: one per physical core of the driver, capped by the smallest node, as ``--executor local``
uses, so both train to the same weights); it runs in a fresh worker process (``max_calls=1``) that sets its
thread count explicitly. Ray retries a task whose worker or node died (``max_retries`` = --max-attempts - 1); a Python
exception inside a job is that job's failed line, never a retry. Results are collected as they finish
(``ray.wait``); per-epoch events come back through a Ray queue. Workers read and write the run directory
directly, so on a cluster ``--out`` must be a path every node sees; the driver checks that on start.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from suite.core.errors import SuiteError, one_line

from ..executor_check import RAY_INSTALL
from ..job import Task, execute, set_threads
from .base import Done, Executor


def _run_task(task: Task, queue, threads: int):
    """Inside a Ray worker: the same ``execute`` as every other executor."""
    import ray

    os.environ["SUITE_RAY_NODE_ID"] = ray.get_runtime_context().get_node_id()
    set_threads(threads)  # Ray sets OMP_NUM_THREADS from num_cpus on its own: say it explicitly

    def emit(event: dict) -> None:
        try:
            queue.put_nowait(event)
        except Exception:  # noqa: BLE001 - progress is best effort, the result is not
            pass

    try:
        return ("ok", execute(task, emit))
    except Exception as exc:  # noqa: BLE001 - a Python error is the job's failed line, not a Ray retry
        return ("error", one_line(exc))


def _probe(path: str):
    import socket

    return socket.gethostname(), Path(path).is_file()


class RayExecutor(Executor):
    name = "ray"

    def __init__(self, *, address: str | None = None, threads: int | None = None, max_attempts: int = 3,
                 device: str | None = None, init_kwargs: dict | None = None):
        self.address = address
        self.threads = int(threads) if threads else None  # None: decided in connect(), from the nodes
        self.max_attempts = int(max_attempts)
        self.device = device
        self.init_kwargs = dict(init_kwargs or {})
        self.running: dict = {}  # ObjectRef -> Task
        self.started_local = False
        self.emit = lambda event: None

    # --- connection -----------------------------------------------------------------------------------------
    def connect(self) -> RayExecutor:
        try:
            import ray
        except ImportError:  # checked in prepare; kept for direct use
            raise SuiteError(f"--executor ray needs Ray, which is not installed: {RAY_INSTALL}") from None
        from ray.util.queue import Queue

        kwargs = {"logging_level": logging.WARNING, "log_to_driver": False, **self.init_kwargs}
        if self.address:
            target = self.address
        else:
            target = "local"
            kwargs.setdefault("num_cpus", os.cpu_count() or 1)
            kwargs.setdefault("include_dashboard", False)
            kwargs.setdefault("object_store_memory", 256 * 1024**2)
        try:
            ray.init(address=target, **kwargs)
        except Exception as exc:  # noqa: BLE001 - whatever Ray says, one line
            raise SuiteError(f"cannot start or reach Ray at {target}: {one_line(exc)}") from None
        self.started_local = not self.address
        resources = ray.cluster_resources()
        self.cluster_gpus = int(resources.get("GPU", 0))
        self.cluster_cpus = int(resources.get("CPU", 0))
        self.use_gpu = self.cluster_gpus > 0 and self.device != "cpu"
        if self.device and self.device.startswith("cuda") and not self.use_gpu:
            self.close()
            raise SuiteError(f"--device {self.device}: the Ray cluster at {target} has no GPU (resources: "
                             f"{self.cluster_cpus} CPU); leave --device out to train on its CPUs")
        if self.threads is None:
            # As many threads as `--executor local` uses here (one per physical core), capped by the smallest
            # node so that every task can be placed: the same thread count trains to the same weights.
            from suite.timing.hardware import physical_cores

            node_cpus = [int(n.get("Resources", {}).get("CPU", 0)) for n in ray.nodes() if n.get("Alive")]
            self.threads = max(1, min([physical_cores(), *[c for c in node_cpus if c > 0]]))
        self.slots = self.cluster_gpus if self.use_gpu else max(1, self.cluster_cpus // self.threads)
        self.queue = Queue(actor_options={"num_cpus": 0})
        options: dict[str, Any] = {"num_cpus": self.threads, "max_retries": self.max_attempts - 1,
                                   "retry_exceptions": False}
        # Training: a fresh worker process per job (nothing carried over from another model's run).
        self._train = ray.remote(**options, max_calls=1, num_gpus=1 if self.use_gpu else 0)(_run_task)
        # Timing: whole GPUs only (never a fraction), and only while no job of this run trains (runner.py);
        # one worker may time several models, which saves a process start (and a dataset load) per job.
        self._time_cpu = ray.remote(**options, num_gpus=0)(_run_task)
        self._time_gpu = ray.remote(**options, num_gpus=1)(_run_task) if self.cluster_gpus else self._time_cpu
        return self

    def start(self, emit) -> None:
        self.emit = emit

    def check_shared(self, run_dir: Path) -> None:
        """Every alive node must see the run directory (--out on a shared filesystem); else one line, exit 2."""
        import ray
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

        if self.started_local:
            return  # one machine: the driver's own disk
        probe = ray.remote(num_cpus=0, max_retries=0)(_probe)
        nodes = [n for n in ray.nodes() if n.get("Alive")]
        refs = [probe.options(scheduling_strategy=NodeAffinitySchedulingStrategy(n["NodeID"], soft=False))
                .remote(str(run_dir / "manifest.json")) for n in nodes]
        blind = []
        for node, ref in zip(nodes, refs, strict=True):
            try:
                host, seen = ray.get(ref, timeout=120)
            except Exception as exc:  # noqa: BLE001 - a node that cannot answer cannot run jobs either
                host, seen = node.get("NodeManagerHostname") or node["NodeID"][:8], False
                del exc
            if not seen:
                blind.append(host)
        if blind:
            raise SuiteError(f"--out: {run_dir} is not visible on {', '.join(sorted(set(blind)))}; on a Ray "
                             "cluster --out must be a path every node sees (a shared filesystem mounted at the "
                             "same path)")

    def describe(self) -> dict:
        return {"name": self.name, "slots": self.slots, "address": self.address or "local instance",
                "cluster_cpus": self.cluster_cpus, "cluster_gpus": self.cluster_gpus,
                "task_resources": {"num_cpus": self.threads, "num_gpus": 1 if self.use_gpu else 0},
                "max_attempts": self.max_attempts}

    def slots_text(self) -> str:
        where = self.address or "a local Ray instance"
        if self.use_gpu:
            return f"{self.slots} slot(s): {self.cluster_gpus} GPU(s) of {where}, one per job"
        return f"{self.slots} slot(s): {self.cluster_cpus} CPU(s) of {where}, {self.threads} per job"

    # --- the Executor interface -----------------------------------------------------------------------------
    def free(self) -> int:
        return max(0, self.slots - len(self.running))

    def _remote(self, task: Task):
        if task.phase == "time":
            return self._time_gpu if "gpu" in task.profiles else self._time_cpu
        return self._train

    def submit(self, task: Task) -> None:
        ref = self._remote(task).remote(task, self.queue, self.threads)
        self.running[ref] = task

    def _events(self) -> None:
        try:
            size = self.queue.qsize()
            events = self.queue.get_nowait_batch(size) if size else []
        except Exception:  # noqa: BLE001 - progress only
            return
        for event in events:
            self.emit(event)

    def wait(self, timeout: float) -> list[Done]:
        import ray
        from ray.exceptions import RayError

        self._events()
        if not self.running:
            return []
        refs = list(self.running)
        ready, rest = ray.wait(refs, num_returns=1, timeout=timeout)
        if ready and rest:
            more, _ = ray.wait(rest, num_returns=len(rest), timeout=0)
            ready += more
        done = []
        for ref in ready:
            task = self.running.pop(ref)
            try:
                kind, value = ray.get(ref)
            except RayError as exc:  # the worker or its node died, after Ray's own retries
                done.append(Done(task, error=f"Ray gave up after {self.max_attempts} attempt(s): "
                                              f"{one_line(exc)}", crashed=True))
                continue
            done.append(Done(task, value) if kind == "ok" else Done(task, error=value))
        self._events()
        return done

    def call(self, fn, *args):
        import ray

        assert self.threads is not None  # decided in connect()
        kind, value = ray.get(self._train.remote(Task("call", fn=fn, args=args), self.queue, self.threads))
        if kind != "ok":
            raise RuntimeError(value)
        return value

    def close(self) -> None:
        import ray

        if ray.is_initialized():
            ray.shutdown()
