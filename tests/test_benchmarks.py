"""The benchmarks run under pytest-benchmark in quick mode: what they print and save, never their speed."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
# every speed goal of the toolbox benchmarks, by the name it reports its ratio under
RATIOS = {
    "test_datapath_vs_authors_dataloader": ["datapath_vs_dataloader"],
    "test_cpu_latency_is_repeatable": ["latency_spread_median", "latency_spread_per_image"],
    "test_zoo_profiling_time": ["zoo_profiling_time"],
    "test_bf16_training_vs_fp32": ["bf16_vs_fp32_training"],
    "test_jobs_auto_vs_one": ["jobs_auto_over_jobs_1"],
    "test_table_vs_authors_serial_loop": ["table_vs_authors_serial_loop"],
}


def _pytest_benchmarks(storage: Path, data: Path, *extra: str) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "pytest", "benchmarks", "--benchmark-only", "--bench-quick", "-q",
           "-p", "no:cacheprovider", "--benchmark-storage", str(storage), *extra]
    # a pytest of its own: not an xdist worker (pytest-benchmark refuses to time inside one)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_XDIST")}
    env.update(SUITE_BENCH_DATA_DIR=str(data), PYTHONPATH=str(REPO))
    return subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=2400)


@pytest.mark.slow
@pytest.mark.timeout(2700)
def test_quick_benchmarks_print_ratios_and_save_history(cifar10_root, tmp_path):
    storage = tmp_path / "storage"
    proc = _pytest_benchmarks(storage, cifar10_root, "--benchmark-autosave")
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-6000:]
    assert "ratios against the baselines measured in this run" in out, out[-4000:]
    assert re.search(r"benchmarks: torch \S+, \d+ intra-op threads", out)
    for names in RATIOS.values():
        for name in names:
            assert re.search(rf"^RATIO {name}: [0-9.]+x \(.+\)$", out, re.M), f"no RATIO line for {name}"
    summary = out.split("ratios against the baselines measured in this run", 1)[1]
    if importlib.util.find_spec("ray") is not None:  # the test extra installs it; Ray's figures are not ratios
        assert re.search(r"^RAY start-up: [0-9.]+ s .*per-job overhead: [0-9.]+ s", summary, re.M), summary[-3000:]

    saved = sorted(storage.glob("*/0001_*.json"))
    assert len(saved) == 1, list(storage.rglob("*"))
    data = json.loads(saved[0].read_text())
    assert data["machine_info"]["cpu"] and data["commit_info"] is not None
    benches = {b["name"]: b for b in data["benchmarks"]}
    assert set(RATIOS) <= set(benches), sorted(benches)
    for test, names in RATIOS.items():
        for name in names:
            info = benches[test]["extra_info"][name]
            assert info["ratio"] > 0 and info["threads"] >= 1 and info["baseline"] > 0
    for bench in data["benchmarks"]:  # any benchmark (the run helper's too) that saved a ratio printed it
        for name, info in bench["extra_info"].items():
            if isinstance(info, dict) and "ratio" in info:
                assert f"RATIO {name}: " in out, name
    squeeze = benches["test_zoo_profiling_time"]["extra_info"]["figures"]["squeezenet_cifar"]["3x224x224"]
    assert round(squeeze["flops_g"], 2) == 2.69 and round(squeeze["memory_mb"], 2) == 211.42  # as published

    # the next run compares itself with the saved one
    again = _pytest_benchmarks(storage, cifar10_root, "-k", "zoo_profiling", "--benchmark-compare")
    assert again.returncode == 0, (again.stdout + again.stderr)[-4000:]
    assert "0001" in again.stdout and "NOW" in again.stdout, again.stdout[-4000:]
