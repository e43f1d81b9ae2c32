"""Each job's training mode (suite.core.modes): pinned by --mode or the preset when the plan is made; with
``--mode auto``, probed per model in the driver (``resolve_modes``) before any job trains.

The probe runs where the jobs run (``call``: an executor's ``call``) at the run's batch, input, precision,
kernels and threads; its rates are kept per host, so a second run reads them. A resumed job keeps the mode it
started in (``sticky``): its checkpoints are that mode's, and training never switches mode half-way.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from suite.core.errors import one_line
from suite.core.modes import AUTO, EAGER, MARGIN, MODES, ModeChoice, ProbeSpec, choose

from .backends import Backends
from .plan import Plan
from .store import read_json, write_json_atomic

MODE_JSON = "mode.json"  # in a job's folder: the mode its first attempt trained in


def train_shape(plan: Plan, model: str) -> tuple[int, int, int]:
    """The input a model trains on: the data set's, resized to the recipe's image size where it has one."""
    shape = tuple(plan.dataset.image_shape)
    size = plan.recipe.resolve(model, plan.dataset_name).image_size
    return (int(shape[0]), size, size) if size else (int(shape[0]), int(shape[1]), int(shape[2]))


def probe_spec(plan: Plan, model: str) -> ProbeSpec:
    cfg = plan.config
    batch = plan.recipe.resolve(model, plan.dataset_name).batch_size or 128
    threads = plan.slots.threads if plan.slots.pooled else cfg.threads  # the threads each job will train with
    return ProbeSpec(model, plan.dataset.num_classes, train_shape(plan, model), int(batch), plan.device,
                     cfg.precision, cfg.fast, threads, tuple(cfg.models_from))


def planned_images(plan: Plan, model: str) -> int:
    """The training images one job of ``model`` steps through: what its setup (compiling) is paid back over."""
    epochs = plan.recipe.resolve(model, plan.dataset_name).epochs or 1
    return int(epochs) * int(plan.dataset.train_count)


def for_planned_images(choice: ModeChoice, images: int) -> ModeChoice:
    """``choice`` re-judged by one job's whole time (setup + images / rate) where the probe measured the setups;
    a fast mode whose compilation ``images`` never pay back gives way, and the source says so."""
    if not choice.probed or not choice.setup_s or choice.busy:
        return choice
    mode = choose(choice.images_per_s, images=images, setup_s=choice.setup_s)
    if mode == choice.mode:
        return choice
    return replace(choice, mode=mode, source=f"{choice.source}; {choice.mode} by rate, but its setup is not paid "
                                             f"back over {images:,} images per job")


def resolve_modes(plan: Plan, backends: Backends, call: Callable[..., Any] | None = None) -> Plan:
    """``plan`` with every job's mode decided: the jobs that --mode auto left open are probed, one per model."""
    open_models = list(dict.fromkeys(j.model for j in plan.jobs if j.mode is None))
    if not open_models:
        return plan
    choices: dict[str, ModeChoice] = {}
    for model in open_models:
        if not plan.table.trainable:
            choices[model] = ModeChoice(EAGER, "timing only: nothing trained")
        elif backends.probe_modes is None:
            choices[model] = ModeChoice(EAGER, f"--mode {AUTO}: no probe in these backends")
        else:
            spec = probe_spec(plan, model)
            try:
                found = call(backends.probe_modes, spec) if call is not None else backends.probe_modes(spec)
                choices[model] = for_planned_images(ModeChoice.from_dict(found), planned_images(plan, model))
            except Exception as exc:  # noqa: BLE001 - a probe that fails leaves the model eager, saying why
                choices[model] = ModeChoice(EAGER, f"probe failed: {one_line(exc, 200)}")
    return replace(plan, jobs=[j if j.mode is not None else replace(j, mode=choices[j.model]) for j in plan.jobs])


def describe(plan: Plan) -> list[str]:
    """The banner's lines: which mode each model trains in and why."""
    choices = {j.model: j.mode for j in plan.jobs if j.mode is not None}
    if not choices:
        return []
    sources = {c.source for c in choices.values()}
    modes = {c.mode for c in choices.values()}
    if len(modes) == 1 and len(sources) == 1 and not any(c.probed for c in choices.values()):
        return [f"training mode {modes.pop()} for every model ({sources.pop()})"]
    rule = f"the fastest exact mode of a probe, eager unless {MARGIN:.0%} faster"
    return [f"training modes ({rule}):"] + [f"  {model}: {choice.describe()}" for model, choice in choices.items()]


def sticky(job_dir: str | Path, choice: ModeChoice) -> ModeChoice:
    """The mode a job trains in: the one its first attempt recorded in ``job_dir``, else ``choice`` (recorded
    now, before its first epoch)."""
    path = Path(job_dir) / MODE_JSON
    started = read_json(path)
    if started is not None:
        try:
            earlier = ModeChoice.from_dict(started)
        except (KeyError, TypeError, ValueError):
            earlier = None
        if earlier is not None and earlier.mode in MODES:  # a damaged file is no mode: this run's stands
            if earlier.mode == choice.mode:
                return choice
            return replace(earlier, source=f"resumed in the mode it started in ({earlier.source}); "
                                           f"this run chose {choice.describe()}")
    try:
        write_json_atomic(path, choice.to_dict())
    except OSError:
        pass  # a resumed attempt may then choose again: its checkpoints are per mode, never mixed
    return choice
