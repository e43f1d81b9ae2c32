"""What `suite run` shows while it works: the banner (and where each figure came from), the time estimate, the
claims the run can decide, progress (rich bars on a terminal, plain lines otherwise) and the summary table."""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from suite.run.modes import describe as describe_modes
from suite.run.plan import Plan, estimate_seconds, estimate_wall
from suite.run.runner import Outcome, Runner


def preset_banner(plan: Plan) -> str:
    """The preset, and each figure of the training budget with where it came from (a flag wins over a preset)."""
    preset = plan.preset
    if not plan.table.trainable:
        return f"preset {preset.name}: {preset.description}"
    origins = plan.origins
    epochs = plan.recipe.epochs
    figures = [f"epochs {epochs if epochs else 'as the recipe'} ({origins.get('epochs', 'recipe')})",
               f"{plan.dataset.train_count:,} training images ({origins.get('train_subset', 'the whole data set')})",
               f"{plan.dataset.test_count:,} test images ({origins.get('test_subset', 'the whole data set')})"]
    if not flagged(plan):
        return f"preset {preset.name}: {preset.description}; " + ", ".join(figures)
    return f"preset {preset.name}, changed by flags: " + ", ".join(figures) + "; not a reproduction"


def flagged(plan: Plan) -> bool:
    """A figure of the training budget set by a flag (``--epochs``, ``--set epochs``, a subset)."""
    return any(origin.startswith("--") for origin in plan.origins.values())


def banner(console: Console, plan: Plan, executor: Any) -> None:
    config = plan.config
    device = {"auto": "per worker (cuda where it has a GPU)",
              "cuda": "cuda (each worker its own GPU)"}.get(plan.device, plan.device)
    console.print(f"[bold]{plan.table.title}[/]: {len(plan.jobs)} model(s) x {len(config.seeds)} seed(s) "
                  + (f"on {plan.dataset_name}, recipe {plan.recipe_name}, " if plan.table.trainable else
                     "timing only (no training), ")
                  + f"preset {plan.preset.name}, "
                  f"hardware {', '.join(p.name for p in plan.profiles)}, device {device}"
                  f"{', fast' if config.fast else ''}")
    for line in describe_modes(plan):
        console.print(line, markup=False)
    console.print(f"executor {executor.name}: {executor.slots_text()}")
    console.print(f"run directory: {plan.run_dir}")
    if not plan.preset.reproduction or flagged(plan):
        console.print(f"[yellow]{preset_banner(plan)}[/]")


def _duration(seconds: float) -> str:
    hours, rest = divmod(int(seconds), 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min {secs:02d} s"


def print_estimate(console: Console, plan, backends, executor) -> None:
    from suite.watch import estimate

    console.print(f"estimating the training time (one timed step per model, at most {estimate.BUDGET_S:.0f} s)...")
    threads = plan.config.threads or torch_threads()

    def one(model: str) -> float | None:
        found = estimate_seconds(replace(plan, jobs=[j for j in plan.jobs if j.model == model]), backends,
                                 timer=executor.call)
        return found.get(model)

    models = list(dict.fromkeys(j.model for j in plan.jobs))
    rated = {j.model for j in plan.jobs if j.mode is not None and j.mode.images_per_s.get(j.mode.mode)}
    probed = {m: s for m in models if m in rated and (s := one(m)) is not None}  # no step timed for these
    est = estimate.measure([m for m in models if m not in probed], one, threads=threads, probed=probed)
    if not est.per_model_s:
        return
    seeds = len(plan.config.seeds)
    speedups = cpu_speedups(plan, backends)
    chosen = executor.slots
    wall = estimate_wall(est.per_model_s, chosen, seeds, speedups.get(chosen) if chosen > 1 else None)
    jobs_line = estimate.by_jobs(est.per_model_s, seeds, speedups, chosen, _duration)
    for line in estimate.describe(est, wall_s=wall, slots_text=executor.slots_text(), preset=plan.preset.name,
                                  fmt=_duration, jobs_line=jobs_line):
        console.print(line)
    if wall > 24 * 3600:
        console.print("[yellow]more than a day: consider more GPUs (--executor gpus / ray), fewer --models, "
                      "or --preset quick for a first look[/]")


def cpu_speedups(plan, backends) -> dict[int, float]:
    """The scaling probe's speed-ups of CPU job slots (cached per host); {} off the local executor's CPU."""
    from suite.run.slots import can_pin, measured_speedups, usable_cores

    if plan.config.executor != "local" or plan.device != "cpu":
        return {}
    return plan.slots.speedups or measured_speedups(backends.scaling_probe, usable_cores(), plan.config.threads,
                                                    can_pin())[0]


def print_decidable(console: Console, plan) -> None:
    """Which of the table's claims this run's seeds, hardware and budget can decide (literature seed spread)."""
    from suite.claims.decidable import Device, decidable, shortened_timing

    if not plan.table.claims:
        return
    cfg = plan.config
    full = plan.preset.reproduction and not flagged(plan)
    devices = [Device(p.name, p.native or p.remote is not None) for p in plan.profiles]
    console.print("claims this run can decide:")
    protocol = shortened_timing(plan.preset.to_dict())
    for line in decidable(plan.table, len(cfg.seeds), devices, full_budget=full, timing_protocol=protocol):
        console.print(f"  {line}", markup=False)


def torch_threads() -> int:
    import torch

    return torch.get_num_threads()


def execute(console: Console, plan, backends, executor, total: int) -> list[Outcome]:
    if not sys.stdout.isatty():
        return _execute_plain(plan, backends, executor, total)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console) as progress:
        overall = progress.add_task("models x seeds", total=total)
        jobs: dict[str, TaskID] = {}  # per running job (workers' epoch events); local jobs draw the engine's bars
        if executor.in_process:
            executor.progress = progress

        def events(event: str, info: dict) -> None:
            if event == "note":  # something the driver did that the user should know (a CPU peak measured)
                progress.console.print(info["text"], markup=False, highlight=False)
            elif event == "begin":
                progress.update(overall, description=f"{info['row'] or info['model']} (seed {info['seed']})")
            elif event == "epoch" and not executor.in_process:
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
    from suite.watch.plainlog import PlainProgress

    print(f"progress: one line per epoch and per job here; the full log is {plan.run_dir / 'logs' / 'run.log'}",
          flush=True)
    return Runner(plan, backends, events=PlainProgress(sys.stdout, total), executor=executor).execute()


def _fmt(v, digits: int = 2) -> str:
    return "-" if v is None else f"{v:.{digits}f}"


def print_summary(console: Console, outcomes: list[Outcome]) -> None:
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
        # a job finished by an earlier invocation (or harvested from its result.json) is done, not skipped
        status = "done earlier" if o.status == "skipped" else o.status
        row = o.row or ("(yours)" if rec.get("user_model") else "-")
        table.add_row(row, o.model, str(o.seed), f"[{style}]{status}[/]" if style else status,
                      _fmt(summ.get("best_error_pct")), _fmt(summ.get("final_error_pct")),
                      ", ".join(times) or "-",
                      _fmt(params / 1e6 if params else None))
    console.print(table)
    if any(v.get("predicted") for o in outcomes for v in (o.record.get("latency") or {}).values()):
        console.print("* predicted (not measured): see the report for the expected error")


def disk_line(run_dir: str | Path, keep_checkpoints: bool) -> str:
    """What the run directory holds on disk, and whether finished jobs' checkpoints were kept."""
    used = sum(f.stat().st_size for f in Path(run_dir).rglob("*") if f.is_file() and not f.is_symlink())
    size = next(f"{used / scale:.1f} {unit}" for scale, unit in ((1024**3, "GB"), (1024**2, "MB"), (1024, "KB"),
                                                                   (1, "bytes")) if used >= scale or scale == 1)
    kept = ("checkpoints kept" if keep_checkpoints else
            "checkpoints of finished jobs removed; --keep-checkpoints keeps them")
    return f"disk: the run directory holds {size} ({kept})"
