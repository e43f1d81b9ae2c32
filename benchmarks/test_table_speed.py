"""A table's training through the suite (job slots and modes chosen) against the authors' serial loop.

The authors train one model after another with every core, each batch drawn through torchvision's per-image PIL
pipeline (RandomHorizontalFlip + ToTensor) in a DataLoader and copied to the device (suite.doctor.training's
``authors_steps``). The suite runs the same four Table III models on the same number of training images at the
recipe's batch of 100 with ``--jobs auto --mode auto``: slots and modes are decided first (the scaling probe and
each model's mode probe, kept per host; their seconds are reported, not counted: a host pays them once), then
the whole run is timed, worker start-up, evaluation, complexity and the Pi prediction included, where the
baseline counts only model construction and the training steps. The ratio is wall(authors) / wall(suite).
Quick mode: one model on 300 images, ``--jobs 1 --mode eager`` (no probe), the printed lines only.
"""

from __future__ import annotations

import io
import time

FULL_MODELS = ("squeezenet_cifar", "shufflenet_cifar", "mobilenet_cifar", "shufflenetv2_cifar")
QUICK_MODELS = ("squeezenet_cifar",)
BATCH = 100  # the threshnet recipe's, which Table III trains with


def _authors_serial(models: tuple[str, ...], images: int) -> float:
    """Wall seconds of the authors' loop over ``models`` one after another, ``images`` training images each."""
    import torch

    from suite.doctor.training import authors_steps

    t = time.perf_counter()
    for model in models:
        # authors_steps trains two untimed warm-up batches before ``steps`` timed ones: the same images in all
        authors_steps(model, torch.device("cpu"), batch=BATCH, steps=images // BATCH - 2)
    return time.perf_counter() - t


def test_table_vs_authors_serial_loop(benchmark, quick, cifar10_dir, report_ratio, report_line, tmp_path):
    import warnings

    import torch
    from rich.console import Console

    from suite import api
    from suite.run import RunConfig, prepare, real_backends
    from suite.run.modes import resolve_modes

    warnings.simplefilter("ignore")  # the tests' re-packed copy of CIFAR-10
    models = QUICK_MODELS if quick else FULL_MODELS
    images = 300 if quick else 2000
    jobs, mode = (1, "eager") if quick else ("auto", "auto")
    config = RunConfig(models=models, preset="smoke", epochs=1, train_subset=images, test_subset=100,
                       hardware="rpi4", device="cpu", data_dir=str(cifar10_dir), out=str(tmp_path / "suite"),
                       jobs=jobs, mode=mode)
    backends = real_backends()
    t = time.perf_counter()
    plan = resolve_modes(prepare(config, backends), backends)  # the probes, kept per host for the timed run
    decided_s = time.perf_counter() - t
    backends.latency(models[0], 10, backends.parse_profiles("rpi4")[0], input_size=(3, 32, 32), per_image_batch=4)
    chosen = "; ".join(f"{j.model} {j.mode.describe() if j.mode else '?'}" for j in plan.jobs)
    report_line(f"TABLE --jobs {jobs} --mode {mode}: {plan.slots.count} slot(s) x {plan.slots.threads or 'all'} "
                f"thread(s) ({plan.slots.origin}); modes: {chosen}; decided in {decided_s:.1f} s")

    threads = torch.get_num_threads()
    authors = _authors_serial(models, images)
    torch.set_num_threads(threads)

    def suite_run() -> float:
        t0 = time.perf_counter()
        result = api.run(config, console=Console(file=io.StringIO()))
        assert [o.status for o in result.outcomes] == ["ok"] * len(models)
        return time.perf_counter() - t0

    ours = benchmark.pedantic(suite_run, rounds=1, iterations=1)
    benchmark.extra_info.update(suite_s=ours, authors_s=authors, models=list(models), images=images,
                                slots=plan.slots.count, modes={j.model: j.mode.mode if j.mode else None
                                                               for j in plan.jobs})
    report_ratio("table_vs_authors_serial_loop", authors, ours, target=None if quick else 1.5,
                 what=f"{len(models)} models x {images:,} images at batch {BATCH}: authors' serial loop "
                      f"{authors:.1f} s ({threads} threads) vs suite run {ours:.1f} s (--jobs {jobs}, --mode {mode}; "
                      "the run's evaluation, complexity and timing included)")
