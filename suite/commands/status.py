"""`suite status [RUN ...] [--results DIR] [--json] [--watch [S]]`: each job's state, throughput and the run's ETA.

Throughput: training images/s, achieved GFLOP/s (3 x forward FLOPs per image x images/s) and its share of the
device's peak (suite.run.throughput).

Reads the run directory only (suite/watch/status.py): safe while a driver writes it, and after it was killed.
"""

from __future__ import annotations

import json
import sys
import time

from rich import box
from rich.console import Console, Group
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from suite.core.errors import SuiteError
from suite.watch.status import JobStatus, RunStatus, find_run_dirs, run_status


def register(sub) -> None:
    p = sub.add_parser("status", help="how far a run is: each job's state, throughput, ETA (reads the run "
                                      "directory only)", description=__doc__)
    p.add_argument("runs", nargs="*", metavar="RUN", help="run directories, or run names under --results "
                                                         "(default: every run under --results)")
    p.add_argument("--results", default="results", help="folder holding run directories (default results/)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--watch", nargs="?", type=float, const=10.0, default=None, metavar="SECONDS",
                   help="refresh every SECONDS (default 10) until every run is finished or stopped; Ctrl-C ends")
    p.set_defaults(func=run)


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    hours, rest = divmod(int(round(seconds)), 3600)
    minutes, secs = divmod(rest, 60)
    if hours >= 48:
        return f"{hours / 24:.1f} d"
    return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min {secs:02d} s"


def _num(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def _rate(job: JobStatus) -> tuple[str, str]:
    """Achieved GFLOP/s and its share of the device's peak ("?" where the peak is unknown)."""
    rate = job.throughput
    if rate is None or rate.achieved_gflops is None:
        return "-", "-"
    share = "?" if rate.share_of_peak is None else f"{100 * rate.share_of_peak:.1f}"
    return _num(rate.achieved_gflops), share


def left_text(job: JobStatus) -> str:
    """The time a job still needs: measured, estimated (*), a lower bound (>= ...*) or "unknown"."""
    if job.state in ("done", "failed"):
        return ""
    if job.remaining_s is None:
        return "unknown"
    return (">= " if job.lower_bound else "") + duration(job.remaining_s) + ("*" if job.estimate else "")


def render(status: RunStatus) -> Group:
    counts = {k: v for k, v in status.counts().items() if v}
    title = (f"{status.name} ({status.table or '?'}): driver {status.driver}; "
             + ", ".join(f"{v} {k}" for k, v in counts.items()))
    table = Table(title=title, box=box.SIMPLE_HEAD, title_justify="left")
    for col, right in (("row", False), ("model", False), ("seed", True), ("state", False),
                       ("test err %", True), ("img/s", True), ("GFLOP/s", True), ("% peak", True),
                       ("s/epoch", True), ("left", True)):
        table.add_column(col, justify="right" if right else "left", overflow="fold")
    style = {"failed": "red", "training": "cyan", "timing": "magenta", "stopped": "yellow", "done": "green"}
    for job in status.jobs:
        state = f"[{style[job.state]}]{job.text}[/]" if job.state in style else job.text
        row = job.row or ("(yours)" if job.user_model else "-")
        table.add_row(escape(row), escape(job.model), str(job.seed), state, _num(job.test_error_pct, 2),
                      _num(job.images_per_s), *_rate(job), _num(job.epoch_s), left_text(job))
    eta = f"ETA {duration(status.eta_s)} ({status.eta_basis})" if status.eta_s is not None else \
        f"ETA unknown ({status.eta_basis})"
    throughput = f"; training {status.images_per_s:,.0f} img/s now" if status.images_per_s else ""
    notes: list = [eta + throughput, *(Text(f"warning: {note}") for note in status.notes)]  # paths: no markup
    rated = [j.throughput for j in status.jobs if j.throughput is not None]
    if rated:
        peaks = sorted({f"{t.peak_precision}: {t.peak_source}" for t in rated})
        notes.append(Text(f"GFLOP/s: {rated[0].rule}. Peak: " + "; ".join(peaks)))  # sources: no markup
    if any(j.estimate for j in status.jobs):
        notes.append("* estimated: " + "; ".join(sorted({f"{j.model}: {j.estimate}" for j in status.jobs
                                                          if j.estimate})))
    return Group(table, *notes)


def _all(args) -> list[RunStatus]:
    return [run_status(path) for path in find_run_dirs(args.runs, args.results)]


def run(args) -> int:
    if args.watch is not None and args.watch <= 0:
        raise SuiteError(f"--watch takes a positive number of seconds, got {args.watch:g}")
    statuses = _all(args)  # bad RUN names fail here, before anything is printed
    tty = sys.stdout.isatty()
    console = Console(width=None if tty else 160, no_color=not tty, highlight=False)
    while True:
        if args.json:
            print(json.dumps([s.to_dict() for s in statuses], default=str), flush=True)
        else:
            if args.watch is not None and tty:
                console.clear()
            for status in statuses:
                console.print(render(status))
        if args.watch is None or all(s.driver != "running" for s in statuses):
            return 0  # a report, not a verdict: failed jobs are in the output
        time.sleep(args.watch)
        statuses = _all(args)
