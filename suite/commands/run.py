"""`suite run [--table 3] [--preset paper|quick|smoke] ...`: train, profile and time a paper table's models.

Re-running the same command resumes: finished (model, seed) lines are skipped and a half-trained model
continues from its last epoch checkpoint. See suite/run.py for the run directory layout.
"""

from __future__ import annotations

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from suite.errors import SuiteError
from suite.run import PRECISIONS, PRESETS, Outcome, RunConfig, Runner, estimate_seconds, parse_seeds, prepare

RECIPE_FLAGS = {"lr": float, "batch_size": int, "weight_decay": float}  # shortcuts for common overrides


def register(sub) -> None:
    p = sub.add_parser("run", help="train, profile and time the models of a paper table (resumable)",
                       description=__doc__)
    p.add_argument("--table", default="3", help="paper table to reproduce: 3 (CIFAR-10) or 4 (SVHN); "
                                                "default 3")
    p.add_argument("--models", help="comma-separated zoo models or row labels (default: every row of the "
                                    "table)")
    p.add_argument("--dataset", help="dataset to train on (default: the table's)")
    p.add_argument("--recipe", help="training recipe (default: the table's, threshnet)")
    p.add_argument("--preset", default="paper",
                   help=f"{' | '.join(f'{k}: {v.description}' for k, v in PRESETS.items())} (default paper)")
    p.add_argument("--epochs", type=int, help="epochs (default: the preset's, else the recipe's)")
    p.add_argument("--seeds", default="0", help="comma-separated seeds or a range, e.g. 0,1,2 or 0-4 "
                                                "(default 0)")
    p.add_argument("--train-subset", type=int, metavar="N", help="train on N class-balanced images")
    p.add_argument("--test-subset", type=int, metavar="N", help="evaluate on N class-balanced test images")
    p.add_argument("--data-dir", help="dataset directory (default $SUITE_DATA_DIR, else ./data)")
    p.add_argument("--download", action="store_true", default=None,
                   help="download the dataset into --data-dir when it is missing (needs a network)")
    p.add_argument("--out", default="results", help="results directory (default results/)")
    p.add_argument("--run-name", help="run folder under --out (default: derived from the configuration)")
    p.add_argument("--hardware", help="where to time the models: cpu, gpu, rpi4, comma-separated (default "
                                      "rpi4, "
                                      "predicted off a Raspberry Pi 4)")
    p.add_argument("--precision", default="fp32", help=f"training precision: {', '.join(PRECISIONS)}")
    p.add_argument("--channels-last", action="store_true", help="train in channels-last memory format")
    p.add_argument("--device", help="training device: cpu, cuda, cuda:N (default cuda if available)")
    p.add_argument("--threads", type=int, help="intra-op threads for training and CPU timing")
    p.add_argument("--lr", type=float, help="recipe override: learning rate")
    p.add_argument("--batch-size", type=int, help="recipe override: training batch size")
    p.add_argument("--weight-decay", type=float, help="recipe override: weight decay")
    p.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE",
                   help="any other recipe override, e.g. --set milestones=50,100 (repeatable)")
    p.add_argument("--estimate-only", action="store_true", help="print the time estimate and exit")
    p.set_defaults(func=run)


def _overrides(args) -> dict:
    out = {k: getattr(args, k) for k in RECIPE_FLAGS if getattr(args, k) is not None}
    for item in args.set:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise SuiteError(f"bad --set {item!r}; expected FIELD=VALUE, e.g. --set gamma=0.1")
        out[key.strip().replace("-", "_")] = value
    return out


def config_from_args(args, argv: tuple[str, ...] = ()) -> RunConfig:
    models = None
    if args.models is not None:
        models = tuple(m.strip() for m in args.models.split(",") if m.strip())
    return RunConfig(
        table=str(args.table).strip(), models=models, dataset=args.dataset, recipe=args.recipe,
        recipe_overrides=_overrides(args), preset=args.preset.strip().lower(), epochs=args.epochs,
        seeds=parse_seeds(args.seeds), train_subset=args.train_subset, test_subset=args.test_subset,
        data_dir=args.data_dir, download=args.download, out=args.out, run_name=args.run_name, hardware=args.hardware,
        precision=args.precision.strip().lower(), channels_last=args.channels_last, device=args.device,
        threads=args.threads, argv=argv)


def _duration(seconds: float) -> str:
    hours, rest = divmod(int(seconds), 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min {secs:02d} s"


def run(args) -> int:
    import sys

    import torch

    from suite.run import real_backends

    console = Console(stderr=True, width=None if sys.stderr.isatty() else 140)  # logs: no 80-column wrap
    config = config_from_args(args, tuple(sys.argv[1:]))
    backends = real_backends()
    plan = prepare(config, backends)  # everything validated and the dataset loaded before any write
    if config.threads:
        torch.set_num_threads(config.threads)
    total = len(plan.jobs) * len(config.seeds)
    console.print(f"[bold]{plan.table.title}[/]: {len(plan.jobs)} model(s) x {len(config.seeds)} seed(s) on "
                  f"{plan.dataset_name}, recipe {plan.recipe_name}, preset {plan.preset.name}, "
                  f"hardware {', '.join(p.name for p in plan.profiles)}, device {plan.device}")
    console.print(f"run directory: {plan.run_dir}")
    if not plan.preset.reproduction:
        console.print(f"[yellow]preset {plan.preset.name}: {plan.preset.description}[/]")
    if plan.preset.estimate or args.estimate_only:
        console.print("estimating the training time (one timed step per model)...")
        estimates = estimate_seconds(plan, backends)
        if estimates:
            console.print(f"estimated total: about {_duration(sum(estimates.values()))} "
                          f"(longest: {max(estimates, key=estimates.get)}, "
                          f"{_duration(max(estimates.values()))}); finished lines are skipped on resume")
            if sum(estimates.values()) > 24 * 3600:
                console.print("[yellow]more than a day: consider a CUDA device, fewer --models, or "
                              "--preset quick for a first look[/]")
    if args.estimate_only:
        return 0
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console) as progress:
        overall = progress.add_task("models x seeds", total=total)

        def events(event: str, info: dict) -> None:
            if event == "begin":
                progress.update(overall, description=f"{info['row'] or info['model']} (seed {info['seed']})")
            elif event == "end":
                progress.advance(overall)

        outcomes = Runner(plan, backends, progress=progress, events=events).execute()
    _summary(console, outcomes)
    failed = [o for o in outcomes if o.status == "failed"]
    console.print(f"results: {plan.run_dir / 'results.jsonl'}; tables: python -m suite report --results "
                  f"{config.out}")
    if failed:
        console.print(f"[red]{len(failed)} of {len(outcomes)} failed[/]; see {plan.run_dir / 'logs'}; "
                      "re-run the same command to retry them")
    return 1 if failed else 0


def _fmt(v, digits: int = 2) -> str:
    return "-" if v is None else f"{v:.{digits}f}"


def _summary(console: Console, outcomes: list[Outcome]) -> None:
    table = Table(title="run summary")
    columns = ("row", "model", "seed", "status", "best err %", "final err %", "time ms/img", "params M (224)")
    for col in columns:
        table.add_column(col, justify="right" if col[0].isdigit() or "%" in col or "M" in col else "left")
    for o in outcomes:
        rec = o.record
        summ = rec.get("summary") or {}
        lat = rec.get("latency") or {}
        times = [f"{k} {_fmt(v.get('per_image_ms'), 1)}{'*' if v.get('predicted') else ''}"
                 for k, v in lat.items()]
        params = ((rec.get("complexity") or {}).get("published") or {}).get("torchstat", {}).get("params")
        style = {"failed": "red", "skipped": "dim", "diverged": "yellow"}.get(o.status, "")
        table.add_row(o.row or "-", o.model, str(o.seed), f"[{style}]{o.status}[/]" if style else o.status,
                      _fmt(summ.get("best_error_pct")), _fmt(summ.get("final_error_pct")),
                      ", ".join(times) or "-",
                      _fmt(params / 1e6 if params else None))
    console.print(table)
    if any(v.get("predicted") for o in outcomes for v in (o.record.get("latency") or {}).values()):
        console.print("* predicted (not measured): see the report for the expected error")
