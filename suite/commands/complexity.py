"""`suite complexity MODEL [--num-classes N] [--input CxHxW] [--counter torchstat|complete|ptflops] [--json]`."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from rich.console import Console
from rich.table import Table

import zoo
from suite import usermodels
from suite.core.errors import SuiteError, parse_size, unknown

if TYPE_CHECKING:  # torch: loaded when the command runs, so that building the CLI stays light
    from suite.complexity import ComplexityReport


def register(sub) -> None:
    p = sub.add_parser("complexity", help="FLOPs, MAdd, Memory, MemR+W and #Params of a zoo model")
    usermodels.add_argument(p)
    p.add_argument("model", help="zoo model name (see `suite models`)")
    p.add_argument("--num-classes", type=int, default=None,
                   help="classifier width (default: the paper's head)")
    p.add_argument("--input", default="3x224x224",
                   help="CxHxW of one image (default 3x224x224, as published)")
    p.add_argument("--counter", "--convention", dest="convention", default="torchstat",
                   help="torchstat: as the papers measured (default); complete: every call and functional op; "
                        "ptflops: ptflops' own get_model_complexity_info (MACs)")
    p.add_argument("--layers", action="store_true",
                   help="also print the per-layer table (ptflops: its module tree) after the totals")
    p.add_argument("--json", action="store_true",
                   help="one JSON object with the counter's totals (torchstat's with the complete count nested)")
    p.set_defaults(func=run)


def _si(value: float) -> str:
    for unit, scale in (("G", 1e9), ("M", 1e6), ("K", 1e3)):
        if abs(value) >= scale:
            return f"{value / scale:.2f}{unit}"
    return f"{value:g}"


def _table(report: ComplexityReport, title: str, wide: bool) -> Table:
    """The per-layer table: every column on a wide terminal; on 80 columns the essentials, numbers in K/M/G."""
    table = Table(title=title)
    cols = (("layer", "type", "input", "output", "params", "FLOPs", "MAdd", "Memory MB", "MemR+W MB", "calls")
            if wide else ("layer", "type", "output", "params", "FLOPs", "MemR+W MB"))
    for col in cols:
        table.add_column(col, justify="left" if col in ("layer", "type") else "right",
                         overflow="fold", no_wrap=col not in ("layer", "type"))
    num = (lambda v: f"{v:,}") if wide else _si
    for row in report.layers:
        cells = {"layer": row.name, "type": row.type + ("" if row.supported else " *"),
                 "input": "x".join(map(str, row.input_shape)), "output": "x".join(map(str, row.output_shape)),
                 "params": num(row.params), "FLOPs": num(row.flops), "MAdd": num(row.madd),
                 "Memory MB": f"{row.memory_bytes / 2**20:.2f}", "MemR+W MB": f"{row.memrw_bytes / 2**20:.2f}",
                 "calls": str(row.calls)}
        table.add_row(*(cells[c] for c in cols))
    return table


def _mb(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f} MB"


def _totals(report: ComplexityReport) -> str:
    lines = [f"[bold]{report.convention}[/bold] totals at {'x'.join(map(str, report.input_size))}: "
             f"params {report.params:,} ({report.params_m:.2f} M), FLOPs {report.flops_g:.2f} G, "
             f"MAdd {report.madd_g:.2f} G, Memory {_mb(report.memory_mb)}, MemR+W {_mb(report.memrw_mb)}"]
    if report.macs is not None:
        lines.append(f"MACs {report.macs:,} ({report.macs / 1e9:.2f} G)")
    if report.unsupported_layers:
        lines.append("* no torchstat formula (0 FLOPs/MAdd/MemR+W, output still in Memory): "
                     + ", ".join(f"{k} x{v}" for k, v in report.unsupported_layers.items()))
    if report.reused_layers:
        lines.append("called more than once (torchstat keeps the last call): "
                     + ", ".join(f"{k} x{v}" for k, v in report.reused_layers.items()))
    if report.ignored_ops:
        lines.append("ops outside leaf modules, invisible to torchstat: "
                     + ", ".join(f"{k} x{v}" for k, v in report.ignored_ops.items()))
    lines.append(f"[dim]{report.notes}[/dim]")
    return "\n".join(lines)


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def run(args) -> int:
    from suite.complexity import CONVENTIONS, profile_all
    from suite.complexity.ptflops_count import count as ptflops_count

    if args.convention not in CONVENTIONS:
        raise unknown("counter", args.convention, CONVENTIONS)
    size = parse_size(args.input)
    usermodels.load(args.models_from)
    try:
        model = zoo.create_structure(args.model, num_classes=args.num_classes)
    except ValueError as exc:  # e.g. --num-classes 0
        raise SuiteError(str(exc)) from exc
    wanted = ("torchstat", "complete") if args.convention == "torchstat" and args.json else (args.convention,)
    per_layer = ""
    try:
        if args.convention == "ptflops":
            counted = ptflops_count(model, size, per_layer=args.layers and not args.json)
            reports, per_layer = {"ptflops": counted.report}, counted.per_layer
        else:
            reports = profile_all(model, size, conventions=wanted)
    except RuntimeError as exc:  # typically an input too small for the model's downsampling
        raise SuiteError(f"{args.model} cannot run on a {args.input} input: {_first_line(exc)}") from exc
    head = zoo.model_card(args.model).num_classes if args.num_classes is None else args.num_classes
    report = reports[args.convention]
    if args.json:
        data = {"model": args.model, "num_classes": head} | report.to_dict()
        if "complete" in reports and args.convention != "complete":
            data["complete"] = reports["complete"].to_dict()
        print(json.dumps(data))
        return 0
    console = Console()
    console.print(f"{args.model} (head {head}), {args.convention} convention")
    console.print(_totals(report))  # the summary first: the per-layer view is long and only on request
    if not args.layers:
        console.print(f"[dim]{len(report.layers)} layers: --layers prints them[/dim]")
    elif per_layer:  # ptflops' own per-layer view: the model's repr with its figures
        console.print(per_layer, markup=False, highlight=False)
    else:
        console.print(_table(report, f"{args.model} (head {head}), {args.convention} convention",
                             wide=console.width >= 140))
    return 0
