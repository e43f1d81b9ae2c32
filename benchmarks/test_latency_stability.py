"""Is the CPU timing protocol repeatable? Back-to-back `suite latency MODEL --hardware cpu` measurements.

The goal: the median latency (batch 1) and the per-image time (batch 100) of repeated measurements within 10 %
of each other (max/min - 1) on an idle machine. Full mode runs each measurement as a separate process (what a
user sees: thread pools, allocator and CPU frequency start afresh); quick mode re-measures one model object
in-process with a short protocol. pytest-benchmark keeps the history of the batch-1 forward pass itself.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import torch

import zoo
from suite.timing.latency import Protocol, measure_latency

REPO = Path(__file__).resolve().parents[1]
TOLERANCE = 0.10
QUICK_PROTOCOL = Protocol(warmup=2, min_runs=5, max_runs=50, target_s=0.05, batch_warmup=1, batch_min_runs=2,
                          batch_max_runs=5, batch_target_s=0.1)


def _suite_latency(model: str) -> dict:
    cmd = [sys.executable, "-m", "suite", "latency", model, "--hardware", "cpu", "--json"]
    out = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, check=False, timeout=600)
    assert out.returncode == 0, f"{' '.join(cmd)} failed ({out.returncode}):\n{out.stderr[-2000:]}"
    return json.loads(out.stdout)


def test_cpu_latency_is_repeatable(benchmark, quick, report_ratio):
    name, repeats = ("squeezenet_cifar", 2) if quick else ("mobilenet_v2", 3)
    model = zoo.create_model(name).eval()
    if quick:
        runs = [measure_latency(model, "cpu", protocol=QUICK_PROTOCOL, per_image_batch=8).to_dict()
                for _ in range(repeats)]
    else:
        runs = [_suite_latency(name) for _ in range(repeats)]
    x = torch.randn(1, 3, 32, 32, generator=torch.Generator().manual_seed(0))
    with torch.inference_mode():
        benchmark.pedantic(model, args=(x,), rounds=5 if quick else 200, iterations=1,
                           warmup_rounds=2 if quick else 20)
    medians, per_image = [r["median_ms"] for r in runs], [r["per_image_ms"] for r in runs]
    benchmark.extra_info.update(model=name, runs=runs and [
        {k: r[k] for k in ("median_ms", "p90_ms", "iqr_ms", "per_image_ms", "threads")} for r in runs])
    how = "in-process" if quick else "separate processes"
    where = f"{name}, {runs[0]['threads']} threads, {repeats} runs in {how}"
    report_ratio("latency_spread_median", max(medians), min(medians), target=1 + TOLERANCE,
                 what=f"max/min median batch-1 latency {max(medians):.3f}/{min(medians):.3f} ms; {where}")
    report_ratio("latency_spread_per_image", max(per_image), min(per_image), target=1 + TOLERANCE,
                 what=f"max/min per-image time {max(per_image):.3f}/{min(per_image):.3f} ms; {where}")
