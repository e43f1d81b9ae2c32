"""What `suite run --executor ray` costs and buys on one machine: Ray's start-up, the overhead per job, and the
wall-time ratio serial / parallel for CPU-bound smoke jobs on 2 Ray CPU slots (one thread per job).

- start-up: ``RayExecutor(...).connect()`` of a local instance (2 CPUs), until the cluster answers;
- per-job overhead: a job that does nothing but what every Ray job does before training (a fresh worker
  process, importing torch and the suite), one at a time, seconds per job;
- the ratio: the same smoke jobs through the local executor (serial, 1 thread) and through Ray on 2 slots
  (1 thread each), both with the run's whole protocol (training, complexity, timing alone at the end).

Full mode: 4 models of Table III, the smoke preset (100 training / 50 test images, 1 epoch), hardware cpu; then
the same 4 models on 1,000 training images x 2 epochs, where the per-job overhead weighs less. Quick mode: the
start-up and one overhead probe, no serial / parallel jobs (tests/test_executors_ray.py runs jobs under Ray); it
checks the printed lines, not the speed.
"""

from __future__ import annotations

import sys
import time

import pytest
import torch

ray = pytest.importorskip("ray", reason="Ray is not installed: pip install -e \".[ray]\"")

FULL_MODELS = ("squeezenet_cifar", "shufflenetv2_cifar", "ghostnet", "mobilenet_cifar")
QUICK_MODELS = ("squeezenet_cifar", "shufflenetv2_cifar")


def _job_start(data_dir: str, train_subset: int | None, test_subset: int | None) -> float:
    """What a Ray job pays before its own work, in its fresh worker: the imports and reading its dataset."""
    t0 = time.perf_counter()
    import warnings

    from suite.run import real_backends

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the tests' re-packed copy of CIFAR-10
        real_backends().load_dataset("cifar10", data_dir=data_dir, train_subset=train_subset,
                                     test_subset=test_subset, download=False, device="cpu")
    return time.perf_counter() - t0


def _config(out, data_dir, models, subset: dict):
    from suite.run import RunConfig

    return RunConfig(models=models, preset="smoke", hardware="cpu", threads=1, data_dir=str(data_dir),
                     out=str(out), **subset)


def _serial_and_parallel(tmp_path, name: str, data_dir, models, subset: dict, backends) -> tuple[float, float]:
    from suite.run import Runner, prepare
    from suite.run.executors.ray import RayExecutor

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # the serial baseline: the local executor, one thread, like each Ray job
    try:
        plan = prepare(_config(tmp_path / f"{name}-serial", data_dir, models, subset), backends)
        t = time.perf_counter()
        out = Runner(plan, backends).execute()
        serial = time.perf_counter() - t
    finally:
        torch.set_num_threads(threads)
    assert [o.status for o in out] == ["ok"] * len(models)
    plan = prepare(_config(tmp_path / f"{name}-ray", data_dir, models, subset), backends)
    executor = RayExecutor(threads=1, init_kwargs={"num_cpus": 2}).connect()  # started outside the clock
    t = time.perf_counter()
    out = Runner(plan, backends, executor=executor).execute()
    parallel = time.perf_counter() - t
    assert [o.status for o in out] == ["ok"] * len(models)
    return serial, parallel


def test_ray_startup_overhead_and_two_slot_speedup(benchmark, quick, cifar10_dir, report_ratio, report_line,
                                                   tmp_path):
    from suite.run import real_backends
    from suite.run.executors.ray import RayExecutor

    models = QUICK_MODELS if quick else FULL_MODELS
    smoke = {"train_subset": 20, "test_subset": 10} if quick else {}  # {}: the smoke preset's 100 / 50
    backends = real_backends()

    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])  # Ray's workers cannot import this file
    t0 = time.perf_counter()
    ex = RayExecutor(threads=1, init_kwargs={"num_cpus": 2}).connect()
    startup = time.perf_counter() - t0
    try:
        assert ex.slots == 2
        per_job, inside = [], []
        probes = 1 if quick else len(models)
        for _ in range(probes):  # one at a time: a fresh worker each (max_calls=1), as every job gets
            t1 = time.perf_counter()
            inside.append(ex.call(_job_start, str(cifar10_dir), smoke.get("train_subset", 100),
                                  smoke.get("test_subset", 50)))
            per_job.append(time.perf_counter() - t1)
    finally:
        ex.close()
    overhead = sorted(per_job)[len(per_job) // 2]
    reading = sorted(inside)[len(inside) // 2]

    report_line(f"RAY start-up: {startup:.1f} s (local instance, 2 CPUs); per-job overhead: {overhead:.1f} s "
                f"(median of {probes}: a fresh worker process, its imports and reading the dataset; "
                f"{reading:.1f} s of it inside the worker)")
    benchmark.extra_info.update(ray_startup_s=startup, ray_per_job_overhead_s=overhead, models=list(models),
                                threads_per_job=1)
    if quick:  # the printed start-up and overhead lines only: tests/test_executors_ray.py runs jobs under Ray
        benchmark.pedantic(lambda: None, rounds=1, iterations=1)
        return
    serial, wall = benchmark.pedantic(_serial_and_parallel, args=(tmp_path, "smoke", cifar10_dir, models, smoke,
                                                                  backends), rounds=1, iterations=1)
    benchmark.extra_info.update(serial_s=serial, parallel_s=wall)
    report_ratio("ray_serial_over_parallel", serial, wall, target=2.0,
                 what=f"{len(models)} smoke jobs ({', '.join(models)}): serial local {serial:.1f} s vs Ray on 2 "
                      f"CPU slots {wall:.1f} s, 1 thread per job, Ray start-up not counted")
    # jobs long enough for the overhead to matter less: 1,000 training images, 2 epochs
    longer = {"train_subset": 1000, "test_subset": 200, "epochs": 2}
    serial, wall = _serial_and_parallel(tmp_path, "longer", cifar10_dir, models, longer, backends)
    benchmark.extra_info.update(longer_serial_s=serial, longer_parallel_s=wall)
    report_ratio("ray_serial_over_parallel_longer_jobs", serial, wall, target=2.0,
                 what=f"{len(models)} jobs of 1,000 images x 2 epochs: serial local {serial:.1f} s vs Ray on 2 "
                      f"CPU slots {wall:.1f} s, 1 thread per job")
