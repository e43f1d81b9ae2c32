"""`suite doctor [--hardware gpu,cpu,rpi4@host,...] [--data-dir D] [--executor ray] [--precision P,...] [--json]
[--quick]`.

A readiness check of about a minute, run before a long `suite run`: the machine's load first (on a busy machine
the rates are not evidence and the long checks are shortened), versions, each requested device, each training
device's peak FLOP/s (the CPU's measured and stored for `suite run`, a GPU's declared), a few training
steps of two zoo models in every mode on each training device (images/s and the ratio to the authors' loop), the
timing protocol, the three complexity counters, the data set, Ray. One progress line per check on stderr as it
ends. Exit 1 when a check fails.
"""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING

from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from suite.core.errors import SuiteError, unknown
from suite.run.executor_check import executor_name

if TYPE_CHECKING:  # suite.doctor imports torch: loaded when the command runs
    from suite.doctor import Check


def register(sub) -> None:
    p = sub.add_parser("doctor", help="is this machine ready for a long run? versions, devices, training modes, "
                                      "timing, counters, data, Ray", description=__doc__)
    p.add_argument("--hardware", help="devices to check, as `suite run --hardware` takes them: cpu, gpu, rpi4, "
                                      "rpi4@[user@]host[:port], ssh://[user@]host[:port] (default: cpu, and gpu "
                                      "where torch sees one)")
    p.add_argument("--data-dir", help="dataset directory to read (default $SUITE_DATA_DIR, else ./data)")
    p.add_argument("--dataset", default="cifar10", help="dataset to read from it (default cifar10)")
    p.add_argument("--executor", default="local", help="local, gpus or ray (ray: start or reach Ray, run a task)")
    p.add_argument("--ray-address", help="a Ray cluster to reach (default: start a local instance)")
    p.add_argument("--precision", default="fp32",
                   help="training precisions whose peak FLOP/s to show, comma-separated: fp32, bf16, fp16 "
                        "(default fp32; the CPU's is measured and stored for `suite run`)")
    p.add_argument("--quick", action="store_true", help="fewer steps and a short timing protocol; skips "
                                                        "torch.compile on the CPU")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=run)


def parse_precisions(text: str) -> tuple[str, ...]:
    """Checked before any check runs: an unknown precision is the user's error (exit 2)."""
    from suite.core.precision import PRECISIONS

    names = tuple(dict.fromkeys(n.strip().lower() for n in str(text).split(",")))
    for name in names:
        if name not in PRECISIONS:
            raise unknown("precision", name, PRECISIONS)
    return names


def _table(checks: list[Check]) -> Table:
    from suite.doctor import BUSY, FAIL, PASS

    table = Table(title="suite doctor", box=box.SIMPLE_HEAD, title_justify="left")
    for col in ("check", "", "status", "detail", "s"):
        table.add_column(col, overflow="fold", justify="right" if col == "s" else "left")
    style = {PASS: "green", FAIL: "bold red", BUSY: "bold yellow"}
    for c in checks:
        status = f"[{style[c.status]}]{c.status}[/]" if c.status in style else f"[dim]{c.status}[/]"
        table.add_row(c.group, c.name, status, c.detail, f"{c.seconds:.1f}" if c.seconds else "")
    return table


def run(args) -> int:
    from suite.doctor import BUSY, FAIL, Options, parse_hardware, run_checks

    executor = executor_name(args.executor)
    if args.ray_address is not None and executor != "ray":
        raise SuiteError("--ray-address needs --executor ray")
    from suite.data.catalog import DATASETS  # loaded when this command runs: the CLI's parsers stay light

    dataset = str(args.dataset).strip().lower()
    if dataset not in DATASETS:
        raise unknown("dataset", dataset, DATASETS)
    options = Options(hardware=parse_hardware(args.hardware), data_dir=args.data_dir, dataset=dataset,
                      executor=executor, ray_address=args.ray_address, quick=args.quick,
                      precisions=parse_precisions(args.precision))
    tty = sys.stdout.isatty()
    console = Console(width=None if tty else 160, no_color=not tty, highlight=False)
    checks = run_checks(options, echo=_progress(sys.stderr.isatty()))
    failed = [c for c in checks if c.status == FAIL]
    if args.json:
        print(json.dumps({"ok": not failed, "checks": [c.to_dict() for c in checks]}, default=str))
    else:
        console.print(_table(checks))
        busy = next((c for c in checks if c.status == BUSY), None)
        if busy is not None:
            console.print(f"[bold yellow]warning:[/] {escape(busy.detail)}")
        console.print(f"{len(failed)} failed: " + "; ".join(f"{c.group} {c.name}" for c in failed) if failed
                      else "ready: every requested check passed" + (" (rates not evidence: busy machine)"
                                                                      if busy is not None else ""))
    return 1 if failed else 0


def _progress(tty: bool):
    """One line per check on stderr as it ends: rich on a terminal, a plain flushed line otherwise."""
    from suite.doctor import BUSY, FAIL, PASS

    console = Console(stderr=True, highlight=False) if tty else None
    count = 0

    def echo(check: Check) -> None:
        nonlocal count
        count += 1
        took = f" ({check.seconds:.1f} s)" if check.seconds else ""
        note = f": {check.detail}" if check.status in (FAIL, BUSY) else ""
        if console is not None:
            colour = {PASS: "green", FAIL: "bold red", BUSY: "bold yellow"}.get(check.status, "dim")
            console.print(f"[dim]doctor {count}: {escape(check.group)} {escape(check.name)}:[/] "
                          f"[{colour}]{check.status}[/][dim]{took}[/]{escape(note)}")
        else:
            print(f"doctor {count}: {check.group} {check.name}: {check.status}{took}{note}", file=sys.stderr,
                  flush=True)

    return echo
