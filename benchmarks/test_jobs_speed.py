"""What CPU job slots buy: four Table III models through `suite run --jobs auto` and `--jobs 1`, wall time each.

A small CNN at batch 100 does not scale across cores, so k one-core trainings side by side beat one k-core
training. Both runs train the same models for the same steps (a fixed subset and epoch count, the threshnet
recipe's batch) with the run's whole protocol (complexity, timing alone at the end); ``--jobs auto`` is decided
first by the scaling probe, in a fresh per-host cache so that it measures this machine now (its seconds are
reported, not counted: a host pays them once); the Raspberry Pi predictor's calibration, profiled once per host
into the same cache, is warmed outside the clock too, so that neither run pays it. The ratio is
wall(--jobs 1) / wall(--jobs auto), worker start-up included. Quick mode: two models on 20 images with --jobs 2
instead of auto (no probe), the printed lines only.
"""

from __future__ import annotations

import io
import time

FULL_MODELS = ("squeezenet_cifar", "shufflenet_cifar", "mobilenet_cifar", "shufflenetv2_cifar")
QUICK_MODELS = ("squeezenet_cifar", "shufflenetv2_cifar")


def _config(out, data_dir, models, jobs, subset: dict):
    from suite.run import RunConfig

    # on the CPU where the machine has a GPU too: CPU job slots are what is measured
    return RunConfig(models=models, preset="smoke", hardware="rpi4", device="cpu", data_dir=str(data_dir),
                     out=str(out), jobs=jobs, **subset)


def _run(config) -> float:
    from rich.console import Console

    from suite import api

    t = time.perf_counter()
    result = api.run(config, console=Console(file=io.StringIO()))
    wall = time.perf_counter() - t
    assert [o.status for o in result.outcomes] == ["ok"] * len(config.models)
    return wall


def test_jobs_auto_vs_one(benchmark, quick, cifar10_dir, report_ratio, report_line, tmp_path, monkeypatch):
    import warnings

    from suite.run import prepare, real_backends

    monkeypatch.setenv("SUITE_CACHE_DIR", str(tmp_path / "cache"))  # the probe measures this machine now
    warnings.simplefilter("ignore")  # the tests' re-packed copy of CIFAR-10
    models = QUICK_MODELS if quick else FULL_MODELS
    subset = ({"train_subset": 20, "test_subset": 10, "epochs": 1} if quick else
              {"train_subset": 1000, "test_subset": 200, "epochs": 1})
    jobs = 2 if quick else "auto"
    t = time.perf_counter()
    slots = prepare(_config(tmp_path / "probe", cifar10_dir, models, jobs, subset), real_backends()).slots
    probe_s = time.perf_counter() - t
    backends = real_backends()
    backends.latency(models[0], 10, backends.parse_profiles("rpi4")[0], input_size=(3, 32, 32), per_image_batch=4)
    measured = ", ".join(f"{k}: {v:.2f}x" for k, v in sorted(slots.speedups.items())) or "none"
    report_line(f"JOBS {jobs}: {slots.count} slot(s) x {slots.threads or 'all'} thread(s) ({slots.origin}; "
                f"probe speed-ups {measured}; decided in {probe_s:.1f} s)")

    def both() -> tuple[float, float]:
        auto = _run(_config(tmp_path / "auto", cifar10_dir, models, jobs, subset))
        one = _run(_config(tmp_path / "one", cifar10_dir, models, 1, subset))
        return auto, one

    auto, one = benchmark.pedantic(both, rounds=1, iterations=1)
    benchmark.extra_info.update(auto_s=auto, one_s=one, auto_slots=slots.count, auto_threads=slots.threads,
                                probe_speedups={str(k): v for k, v in slots.speedups.items()}, models=list(models))
    report_ratio("jobs_auto_over_jobs_1", one, auto, target=None if quick else 1.15,
                 what=f"{len(models)} models x {subset['train_subset']} images x {subset['epochs']} epoch: "
                      f"--jobs 1 {one:.1f} s vs --jobs {jobs} ({slots.count} slots) {auto:.1f} s, worker start-up "
                      "included")
