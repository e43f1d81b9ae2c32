"""What every executor is to the driver: an ``Executor`` that takes ``Task`` objects and hands back ``Done``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..job import Task


@dataclass
class Done:
    task: Task
    value: Any = None
    error: str | None = None  # one line: the task raised, or its worker died
    crashed: bool = False  # the worker (or its node) died: not a Python exception inside the job
    retry: bool = False  # the driver may run it again; Ray retries a dead worker or node on its own


class Executor:
    """The driver's side of an executor. ``slots``: jobs at once; ``wait`` returns finished tasks."""

    name = "executor"
    slots = 1
    threads: int | None = None  # intra-op threads of each job, where the executor sets them (None: torch's)
    in_process = False  # jobs run in the driver: the engine draws its own progress bars

    def start(self, emit: Callable[[dict], None]) -> None:
        self.emit = emit

    def free(self) -> int:
        raise NotImplementedError

    def submit(self, task: Task) -> None:
        raise NotImplementedError

    def wait(self, timeout: float) -> list[Done]:
        raise NotImplementedError

    def call(self, fn: Callable, *args) -> Any:
        """Run one module-level function where the jobs run (the paper estimate's step timing)."""
        raise NotImplementedError

    def describe(self) -> dict:
        return {"name": self.name, "slots": self.slots}

    def check_shared(self, run_dir: Path) -> None:
        """Before the first job: whether every worker sees ``run_dir`` (only a cluster's may not)."""

    def slots_text(self) -> str:
        return f"{self.slots} slot(s)"

    def close(self) -> None:
        pass
