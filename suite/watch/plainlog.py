"""Progress as plain lines, for a stdout that is not a terminal (a log file, CI): one line per finished epoch
and per finished job, flushed at once, with the model, seed, epoch k/n, test error, images/s and an ETA."""

from __future__ import annotations

import time
from typing import TextIO


class PlainProgress:
    """The run's events (``Runner(events=...)``) as lines; ETAs from the epochs and jobs seen so far."""

    def __init__(self, out: TextIO, total: int):
        self.out, self.total = out, total
        self.done = 0
        self.t0 = time.perf_counter()
        self.started: dict[tuple[str, int], float] = {}

    def _line(self, text: str) -> None:
        print(text, file=self.out, flush=True)

    def _run_eta(self) -> str:
        if not self.done:
            return "?"
        left = (time.perf_counter() - self.t0) / self.done * (self.total - self.done)
        return _duration(left)

    def __call__(self, event: str, info: dict) -> None:
        key = (str(info.get("model")), int(info.get("seed") or 0))
        if event == "note":
            self._line(f"note   {info['text']}")
        elif event == "begin":
            self.started.setdefault(key, time.perf_counter())
        elif event == "epoch":
            k, n = info.get("epoch"), info.get("epochs")
            err, ips, sec = info.get("test_error_pct"), info.get("images_per_s"), info.get("seconds")
            eta = _duration((n - k) * sec) if isinstance(k, int) and isinstance(n, int) and sec else "?"
            self._line(f"epoch  {info['model']} seed {info['seed']} epoch {k}/{n or '?'}"
                       f" error {'-' if err is None else f'{err:.2f} %'}"
                       f" {'-' if ips is None else f'{ips:.0f}'} images/s, job ETA {eta}")
        elif event == "end":
            self.done += 1
            took = time.perf_counter() - self.started.pop(key, time.perf_counter())
            self._line(f"job    {info['model']} seed {info['seed']}: {info.get('status')} in {_duration(took)}"
                       f" ({self.done}/{self.total} jobs, run ETA {self._run_eta()})")


def _duration(seconds: float) -> str:
    seconds = max(0.0, float(seconds))
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"
