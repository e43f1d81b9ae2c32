"""Results as data on real smoke runs: `suite.results.load`, `suite export` and `suite compare`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from suite import results
from suite.compare import differences
from suite.tables import get_table

REPO = Path(__file__).resolve().parents[1]
THREE = "threshnet79,ghostnet,mobilenetv2_cifar"


def suite(*args: str, cwd: Path, check: bool = True) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    proc = subprocess.run([sys.executable, "-m", "suite", *args], capture_output=True, text=True, cwd=cwd, env=env,
                          timeout=3000)
    if check:
        assert proc.returncode == 0, proc.stderr[-3000:]
    return proc


@pytest.fixture(scope="module")
def runs(cifar10_root, tmp_path_factory) -> Path:
    """Table III smoke run (14 models, seed 0) and a second run of three models with seed 1."""
    out = tmp_path_factory.mktemp("results")
    common = ("--table", "3", "--preset", "smoke", "--hardware", "cpu,rpi4", "--data-dir", str(cifar10_root),
              "--out", str(out), "--threads", "1")
    suite("run", *common, "--run-name", "a", cwd=out)
    suite("run", *common, "--run-name", "b", "--models", THREE, "--seeds", "1", cwd=out)
    return out


@pytest.mark.slow
@pytest.mark.timeout(3600)
def test_load_gives_one_flat_row_per_model(runs):
    df = results.load(runs / "a")
    assert len(df) == 14 and sorted(df["row"]) == sorted(r.row for r in get_table("threshnet-3").rows)
    for col in ("status", "error_best_pct", "error_final_pct", "top5_acc_pct", "published_torchstat_params_m",
                "trained_torchstat_flops_g", "trained_complete_macs_g", "cpu_per_image_ms", "cpu_p90_ms",
                "cpu_predicted", "rpi4_per_image_ms", "rpi4_predicted", "rpi4_expected_error_pct", "recipe",
                "precision", "commit", "torch", "device", "seed", "table"):
        assert col in df.columns, col
    assert set(df["table"]) == {"threshnet-3"} and (df["status"] == "ok").all()
    assert df["rpi4_predicted"].all() and not df["cpu_predicted"].any()
    hardnet = df[df["model"] == "hardnet68"].iloc[0]
    assert hardnet["published_torchstat_params_m"] == pytest.approx(17.57, abs=0.005)  # the published head, 224
    everything = results.load(runs)
    assert len(everything) == 17 and set(everything["run"]) == {"a", "b"}


@pytest.mark.slow
@pytest.mark.timeout(3600)
def test_export_csv_reads_back_equal(runs, tmp_path):
    path = tmp_path / "a.csv"
    suite("export", "a", "--results", str(runs), "--format", "csv", "--out", str(path), cwd=tmp_path)
    back = pd.read_csv(path)
    df = results.load(runs / "a")
    assert list(back.columns) == list(df.columns) and len(back) == len(df)
    numeric = [c for c in df.columns if pd.api.types.is_numeric_dtype(df[c]) and not pd.api.types.is_bool_dtype(df[c])]
    pd.testing.assert_frame_equal(back[numeric].astype(float), df[numeric].astype(float), check_exact=False, rtol=1e-9)
    assert list(back["model"]) == list(df["model"])
    records = json.loads(suite("export", str(runs / "a"), "--format", "json", cwd=tmp_path).stdout)
    assert len(records) == 14 and {r["model"] for r in records} == set(df["model"])
    md = suite("export", str(runs / "a"), "--format", "markdown", cwd=tmp_path).stdout
    assert md.count("\n") == 16 and "threshnet79" in md


@pytest.mark.slow
@pytest.mark.timeout(3600)
def test_compare_two_runs_with_different_seeds(runs, tmp_path):
    a, b = results.load(runs / "a"), results.load(runs / "b")
    diffs = differences(a, b)
    assert {d.model for d in diffs} == set(THREE.split(","))
    errors = [d for d in diffs if d.metric == "best error %"]
    assert len(errors) == 3 and all(d.noise > 0 and "test-set size" in d.why for d in errors)
    params = [d for d in diffs if d.metric == "#params M (224)"]
    assert all(d.delta == 0 and not d.changed for d in params)  # the same models: exact and equal
    proc = suite("compare", "a", "b", "--results", str(runs), "--json", cwd=tmp_path)
    data = json.loads(proc.stdout)
    assert data["changed"] == sum(d.changed for d in diffs) and len(data["only_in_a"]) == 11
    strict = suite("compare", "a", "b", "--results", str(runs), "--fail-on-change", cwd=tmp_path, check=False)
    assert strict.returncode == (1 if data["changed"] else 0), strict.stderr
    assert "changed beyond the noise" in strict.stdout


def test_compare_bad_run_is_one_line(tmp_path):
    proc = suite("compare", "nope", "nada", "--results", str(tmp_path), cwd=tmp_path, check=False)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and "no run 'nope'" in proc.stderr


def test_flatten_reads_every_convention_and_profile():
    line = {"key": "m|cifar10|0", "model": "m", "dataset": "cifar10", "seed": 0, "status": "ok", "table": "3",
            "summary": {"best_error_pct": 20.0, "final_error_pct": 21.0},
            "train": {"top5_error_at_best_pct": 3.0, "step_time_ms": 12.5, "epoch_time_s": 4.0, "test_images": 50},
            "complexity": {"published": {"model": "m", "num_classes": 1000, "input_size": [3, 224, 224],
                                         "torchstat": {"params": 2_000_000, "flops": 3e9, "madd": 6e9,
                                                       "memory_mb": 5.0, "memrw_mb": 9.0}},
                           "trained": {"model": "m", "num_classes": 10, "input_size": [3, 32, 32],
                                       "complete": {"params": 1_990_000, "flops": 2e8, "macs": 1e8},
                                       "ptflops": {"params": 1_990_000, "macs": 1.1e8}}},
            "latency": {"rpi4": {"per_image_ms": 40.0, "predicted": True, "expected_error_pct": 19.0,
                                 "calibration": {"worst_model": "triplenet_s", "worst_model_error_pct": 38.0,
                                                 "points": [1, 2], "notes": ["extrapolated: x"]}}}}
    row = results.flatten(line)
    assert row["table"] == "threshnet-3" and row["top1_acc_pct"] == 80.0 and row["top5_acc_pct"] == 97.0
    assert row["published_torchstat_params_m"] == 2.0 and row["published_torchstat_flops_g"] == 3.0
    assert row["trained_complete_macs_g"] == pytest.approx(0.1) and row["trained_ptflops_macs_g"] == pytest.approx(0.11)
    assert row["rpi4_per_image_ms"] == 40.0 and row["rpi4_extrapolated"] and row["rpi4_worst_model"] == "triplenet_s"
    assert row["trained_input"] == "3x32x32" and row["step_time_ms"] == 12.5
