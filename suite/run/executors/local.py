"""``--executor local``: every job in the driver's own process, one after another (the default)."""

from __future__ import annotations

from collections import deque

from suite.core.errors import one_line

from ..job import Task, Workspace, execute
from .base import Done, Executor


class LocalExecutor(Executor):
    name = "local"
    slots = 1
    in_process = True

    def __init__(self, plan, backends, *, progress=None):
        self.plan, self.backends, self.progress = plan, backends, progress
        self.queue: deque[Task] = deque()
        self.workspace: Workspace | None = None
        self.emit = lambda event: None

    def free(self) -> int:
        return 0 if self.queue else 1

    def submit(self, task: Task) -> None:
        self.queue.append(task)

    def wait(self, timeout: float) -> list[Done]:
        if not self.queue:
            return []
        task = self.queue.popleft()
        if task.phase != "call" and self.workspace is None:
            self.workspace = Workspace.from_plan(self.plan, self.backends, task.parts()[0], progress=self.progress)
        try:
            return [Done(task, execute(task, self.emit, self.workspace))]
        except Exception as exc:  # noqa: BLE001 - a bug in one job is that job's failed line
            return [Done(task, error=one_line(exc))]

    def call(self, fn, *args):
        return fn(*args)

    def describe(self) -> dict:
        return {**self.plan.slots.describe(), "name": self.name, "slots": 1}

    def slots_text(self) -> str:
        return self.plan.slots.text()
