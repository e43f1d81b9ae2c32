"""`suite doctor [--hardware gpu,cpu,rpi4@host,...] [--data-dir D] [--executor ray] [--json] [--quick]`.

A readiness check of about a minute, run before a long `suite run`: versions, each requested device, a few
training steps of two zoo models in every mode on each training device (images/s and the ratio to the authors'
loop), the timing protocol, the three complexity counters, the data set, Ray. Exit 1 when a check fails.
"""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING

from rich import box
from rich.console import Console
from rich.table import Table

from suite.core.errors import SuiteError
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
    p.add_argument("--quick", action="store_true", help="fewer steps and a short timing protocol; skips "
                                                        "torch.compile on the CPU")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=run)


def _table(checks: list[Check]) -> Table:
    from suite.doctor import FAIL, PASS

    table = Table(title="suite doctor", box=box.SIMPLE_HEAD, title_justify="left")
    for col in ("check", "", "status", "detail", "s"):
        table.add_column(col, overflow="fold", justify="right" if col == "s" else "left")
    style = {PASS: "green", FAIL: "bold red"}
    for c in checks:
        status = f"[{style[c.status]}]{c.status}[/]" if c.status in style else f"[dim]{c.status}[/]"
        table.add_row(c.group, c.name, status, c.detail, f"{c.seconds:.1f}" if c.seconds else "")
    return table


def run(args) -> int:
    from suite.doctor import FAIL, Options, parse_hardware, run_checks

    executor = executor_name(args.executor)
    if args.ray_address is not None and executor != "ray":
        raise SuiteError("--ray-address needs --executor ray")
    options = Options(hardware=parse_hardware(args.hardware), data_dir=args.data_dir, dataset=args.dataset,
                      executor=executor, ray_address=args.ray_address, quick=args.quick)
    tty = sys.stdout.isatty()
    console = Console(width=None if tty else 160, no_color=not tty, highlight=False)
    progress = Console(stderr=True) if tty and not args.json else None

    def echo(check: Check) -> None:
        if progress is not None:
            progress.print(f"[dim]{check.group} {check.name}: {check.status}[/]")

    checks = run_checks(options, echo=echo)
    failed = [c for c in checks if c.status == FAIL]
    if args.json:
        print(json.dumps({"ok": not failed, "checks": [c.to_dict() for c in checks]}, default=str))
    else:
        console.print(_table(checks))
        console.print(f"{len(failed)} failed: " + "; ".join(f"{c.group} {c.name}" for c in failed) if failed
                      else "ready: every requested check passed")
    return 1 if failed else 0
