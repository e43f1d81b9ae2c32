"""`suite run [--table 3] [--preset paper|quick|smoke] [--executor local|gpus|ray] ...`: train, profile and time a
paper table's models.

Re-running the same command resumes: finished (model, seed) lines are skipped and a half-trained model
continues from its last epoch checkpoint, whichever executor runs it. See suite/run/store.py for the run
directory layout and suite/run/runner.py for what runs when.
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import replace

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from suite import usermodels
from suite.errors import SuiteError, unknown
from suite.run import (
    EXECUTORS,
    PRECISIONS,
    PRESETS,
    Outcome,
    RunConfig,
    Runner,
    estimate_seconds,
    estimate_wall,
    parse_seeds,
    prepare,
    real_backends,
)
from suite.run.executors import make_executor

RECIPE_FLAGS = {"lr": float, "batch_size": int, "weight_decay": float}  # shortcuts for common overrides


def register(sub) -> None:
    p = sub.add_parser("run", help="train, profile and time the models of a paper table (resumable)",
                       description=__doc__)
    p.add_argument("--table", default="3", help="paper table to reproduce, e.g. 3 (CIFAR-10) or 4 (SVHN); "
                                                "default 3")
    p.add_argument("--models", help="comma-separated zoo models or row labels (default: every row of the "
                                    "table)")
    usermodels.add_argument(p)
    p.add_argument("--dataset", help="dataset to train on (default: the table's)")
    p.add_argument("--recipe", help="training recipe (default: the table's, threshnet)")
    p.add_argument("--preset", default="paper",
                   help=f"{' | '.join(f'{k}: {v.description}' for k, v in PRESETS.items())} (default paper)")
    p.add_argument("--epochs", type=int, help="epochs (default: the preset's, else the recipe's)")
    p.add_argument("--seeds", default="0", help="comma-separated seeds or a range, e.g. 0,1,2 or 0-4 "
                                                "(default 0)")
    p.add_argument("--train-subset", type=int, metavar="N", help="train on N class-balanced images")
    p.add_argument("--test-subset", type=int, metavar="N", help="evaluate on N class-balanced test images")
    p.add_argument("--data-dir", help="dataset directory (default $SUITE_DATA_DIR, else ./data); on a cluster, "
                                      "a path every node sees")
    p.add_argument("--download", action=argparse.BooleanOptionalAction, default=None,
                   help="download a missing dataset into --data-dir: default automatic (when its host answers); "
                        "--download always tries, --no-download never (ImageNet is never downloaded)")
    p.add_argument("--workers", type=int, metavar="N",
                   help="DataLoader workers for streamed datasets (ImageNet); default $SUITE_DATA_WORKERS, else "
                        "min(8, CPUs); recorded in provenance, does not change the numbers")
    p.add_argument("--out", default="results", help="results directory (default results/); with --executor "
                                                    "ray on a cluster, a path every node sees")
    p.add_argument("--run-name", help="run folder under --out (default: derived from the configuration)")
    p.add_argument("--hardware", help="where to time the models: cpu, gpu, rpi4, comma-separated (default "
                                      "rpi4, predicted off a Raspberry Pi 4)")
    p.add_argument("--precision", default="fp32", help=f"training precision: {', '.join(PRECISIONS)}")
    p.add_argument("--channels-last", action="store_true", help="train in channels-last memory format")
    p.add_argument("--device", help="training device: cpu, cuda, cuda:N (default cuda if available)")
    p.add_argument("--threads", type=int, help="intra-op threads for training and CPU timing (default: one per "
                                               "physical core; ray: also the CPUs per job, capped by the "
                                               "smallest node; gpus: default CPUs / slots). The same count "
                                               "trains to the same weights: pass 1 to pack more ray jobs")
    p.add_argument("--fast", action="store_true",
                   help="cudnn.benchmark, TF32 and non-deterministic kernels, as the authors ran (default: "
                        "deterministic kernels, the same numbers on a re-run); part of the run's identity")
    p.add_argument("--compile", action="store_true",
                   help="wrap the model in torch.compile (eager, with a one-line warning, where a model does "
                        "not compile); part of the run's identity")
    p.add_argument("--executor", default="local",
                   help="local: one job after another in this process (default); gpus: a worker per GPU slot "
                        "on this machine; ray: one Ray task per job, on a cluster or a local Ray instance")
    p.add_argument("--gpus", help="gpus executor: comma-separated GPU ids (default every visible GPU)")
    p.add_argument("--jobs-per-gpu", type=int, default=1, help="gpus executor: jobs sharing one GPU (default 1)")
    p.add_argument("--max-attempts", type=int, default=3,
                   help="runs of a job whose worker (or node) dies, in all; it resumes from its last epoch "
                        "checkpoint (default 3)")
    p.add_argument("--ray-address", help="ray executor: the cluster, e.g. 10.0.0.1:6379 (default $RAY_ADDRESS, "
                                         "else a local Ray instance started for the run)")
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


def _names(text: str | None) -> tuple[str, ...] | None:
    if text is None:
        return None
    return tuple(m.strip() for m in text.split(",") if m.strip())


def config_from_args(args, argv: tuple[str, ...] = ()) -> RunConfig:
    executor = str(getattr(args, "executor", "local") or "local").strip().lower()
    if executor not in EXECUTORS:

        raise unknown("executor", executor, EXECUTORS)
    return RunConfig(
        table=str(args.table).strip(), models=_names(args.models), dataset=args.dataset, recipe=args.recipe,
        recipe_overrides=_overrides(args), preset=args.preset.strip().lower(), epochs=args.epochs,
        seeds=parse_seeds(args.seeds), train_subset=args.train_subset, test_subset=args.test_subset,
        data_dir=args.data_dir, download=args.download, out=args.out, run_name=args.run_name, hardware=args.hardware,
        precision=args.precision.strip().lower(), channels_last=args.channels_last, device=args.device,
        threads=args.threads, fast=args.fast, compile=args.compile, executor=executor, gpus=_names(args.gpus),
        jobs_per_gpu=args.jobs_per_gpu, max_attempts=args.max_attempts, ray_address=args.ray_address, argv=argv,
        models_from=usermodels.load(args.models_from))


def preset_banner(plan) -> str:
    """The preset line with the epochs and image counts this run uses (flags may change the preset's)."""
    preset = plan.preset
    if not plan.table.trainable:
        return f"preset {preset.name}: {preset.description}"
    epochs = plan.recipe.epochs
    train, test = plan.dataset.train_count, plan.dataset.test_count
    if (epochs, train, test) == (preset.epochs, preset.train_subset, preset.test_subset):
        return f"preset {preset.name}: {preset.description}"
    what = f"{epochs} epoch(s)" if epochs else "the recipe's epochs"
    return (f"preset {preset.name}, changed by flags: {what} on {train:,} training / {test:,} test images; "
            "not a reproduction")


def _duration(seconds: float) -> str:
    hours, rest = divmod(int(seconds), 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min {secs:02d} s"


def _estimate(console: Console, plan, backends, executor) -> None:
    from suite.run import estimate

    console.print(f"estimating the training time (one timed step per model, at most {estimate.BUDGET_S:.0f} s)...")
    threads = plan.config.threads or torch_threads()

    def one(model: str) -> float | None:
        found = estimate_seconds(replace(plan, jobs=[j for j in plan.jobs if j.model == model]), backends,
                                 timer=executor.call)
        return found.get(model)

    est = estimate.measure(list(dict.fromkeys(j.model for j in plan.jobs)), one, threads=threads)
    if not est.per_model_s:
        return
    wall = estimate_wall(est.per_model_s, executor.slots, len(plan.config.seeds))
    for line in estimate.describe(est, wall_s=wall, slots_text=executor.slots_text(), preset=plan.preset.name,
                                  fmt=_duration):
        console.print(line)
    if wall > 24 * 3600:
        console.print("[yellow]more than a day: consider more GPUs (--executor gpus / ray), fewer --models, "
                      "or --preset quick for a first look[/]")


def _decidable(console: Console, plan) -> None:
    """Which of the table's claims this run's seeds, hardware and budget can decide (literature seed spread)."""
    from suite.claims.decidable import Device, decidable, shortened_timing

    if not plan.table.claims:
        return
    cfg = plan.config
    full = plan.preset.reproduction and not (cfg.epochs or cfg.train_subset or cfg.test_subset)
    devices = [Device(p.name, p.native or p.remote is not None) for p in plan.profiles]
    console.print("claims this run can decide:")
    protocol = shortened_timing(plan.preset.to_dict())
    for line in decidable(plan.table, len(cfg.seeds), devices, full_budget=full, timing_protocol=protocol):
        console.print(f"  {line}", markup=False)


def torch_threads() -> int:
    import torch

    return torch.get_num_threads()


def run(args) -> int:
    # loaded when this command runs: building the CLI (every command's parser) stays light
    import torch

    console = Console(stderr=True, width=None if sys.stderr.isatty() else 140)  # logs: no 80-column wrap
    config = config_from_args(args, tuple(sys.argv[1:]))
    if getattr(args, "workers", None) is not None:  # read by suite.data where the dataset is loaded
        from suite.data.common import WORKERS_ENV

        if args.workers < 0:
            raise SuiteError(f"--workers must be 0 or more, got {args.workers}")
        os.environ[WORKERS_ENV] = str(args.workers)
    backends = real_backends()
    plan = prepare(config, backends)  # everything validated and the dataset loaded before any write
    if config.executor == "local":
        from suite.timing.hardware import physical_cores

        # Stated, never torch's implicit default: one per physical core unless --threads, the ray executor's
        # rule too, so that both train to the same weights (the count changes CPU results).
        torch.set_num_threads(config.threads or physical_cores())
    executor = make_executor(plan, backends)  # Ray started or reached: a failure is still one line, no write
    try:
        total = len(plan.jobs) * len(config.seeds)
        device = {"auto": "per worker (cuda where it has a GPU)",
                  "cuda": "cuda (each worker its own GPU)"}.get(plan.device, plan.device)
        console.print(f"[bold]{plan.table.title}[/]: {len(plan.jobs)} model(s) x {len(config.seeds)} seed(s) "
                      + (f"on {plan.dataset_name}, recipe {plan.recipe_name}, " if plan.table.trainable else
                         "timing only (no training), ")
                      + f"preset {plan.preset.name}, "
                      f"hardware {', '.join(p.name for p in plan.profiles)}, device {device}"
                      f"{', fast' if config.fast else ''}{', compile' if config.compile else ''}")
        console.print(f"executor {executor.name}: {executor.slots_text()}")
        console.print(f"run directory: {plan.run_dir}")
        if not plan.preset.reproduction:
            console.print(f"[yellow]{preset_banner(plan)}[/]")
        if plan.preset.estimate or args.estimate_only:
            _estimate(console, plan, backends, executor)
            _decidable(console, plan)
        if args.estimate_only:
            return 0
        outcomes = _execute(console, plan, backends, executor, total)
    finally:
        executor.close()
    _summary(console, outcomes)
    failed = [o for o in outcomes if o.status == "failed"]
    console.print(f"results: {plan.run_dir / 'results.jsonl'}; tables: python -m suite report --results "
                  f"{config.out}")
    if failed:
        console.print(f"[red]{len(failed)} of {len(outcomes)} failed[/]; see {plan.run_dir / 'logs'}; "
                      "re-run the same command to retry them")
    return 1 if failed else 0


def _execute(console: Console, plan, backends, executor, total: int) -> list[Outcome]:
    if not sys.stdout.isatty():
        return _execute_plain(plan, backends, executor, total)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console) as progress:
        overall = progress.add_task("models x seeds", total=total)
        jobs: dict[str, int] = {}  # per running job (workers' epoch events); local jobs draw the engine's bars
        if executor.name == "local":
            executor.progress = progress

        def events(event: str, info: dict) -> None:
            if event == "begin":
                progress.update(overall, description=f"{info['row'] or info['model']} (seed {info['seed']})")
            elif event == "epoch" and executor.name != "local":
                key = info.get("key") or f"{info['model']}|{info['seed']}"
                where = info.get("slot") or ""
                err = info.get("test_error_pct")
                text = f"{info['model']} seed {info['seed']} {where} " + (f"(test error {err:.2f} %)"
                                                                             if err is not None else "")
                if key not in jobs:
                    jobs[key] = progress.add_task(text, total=info.get("epochs") or None)
                progress.update(jobs[key], completed=info.get("epoch") or 0, description=text)
            elif event == "end":
                progress.advance(overall)
                key = next((k for k in jobs if k.startswith(f"{info['model']}|") and
                            k.endswith(f"|{info['seed']}")), None)
                if key is not None:
                    progress.remove_task(jobs.pop(key))

        return Runner(plan, backends, progress=progress, events=events, executor=executor).execute()


def _execute_plain(plan, backends, executor, total: int) -> list[Outcome]:
    """stdout is not a terminal: plain lines per epoch and per job instead of rich bars (that would not show)."""
    from suite.run.plainlog import PlainProgress

    print(f"progress: one line per epoch and per job here; the full log is {plan.run_dir / 'logs' / 'run.log'}",
          flush=True)
    return Runner(plan, backends, events=PlainProgress(sys.stdout, total), executor=executor).execute()


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
        times = [f"{k} {_fmt(v.get('per_image_ms') or v.get('median_ms'), 1)}{'*' if v.get('predicted') else ''}"
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
