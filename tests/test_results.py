"""Results as data on real smoke runs: `suite.analysis.results.load`, `suite export` and `suite compare`."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from suite.analysis import results
from suite.cli import main
from suite.report.compare import differences
from suite.tables import get_table
from tests.conftest import SECOND_SEED_MODELS

THREE = SECOND_SEED_MODELS
A, B = "threshnet-3", "threshnet-3-seed1"  # the session's Table III smoke run (seed 0) and three models, seed 1


def cli(capsys, *args: str, code: int = 0) -> tuple[str, str]:
    """`suite ARGS` in process: (stdout, stderr), the exit code checked."""
    capsys.readouterr()
    got = main(list(args))
    out, err = capsys.readouterr()
    assert got == code, err[-3000:]
    return out, err


@pytest.fixture(scope="module")
def runs(e2e):
    return e2e.results


@pytest.mark.slow
def test_load_gives_one_flat_row_per_model(runs):
    df = results.load(runs / A)
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
    table3 = everything[everything["run"].isin([A, B])]
    assert len(table3) == 17 and set(everything["run"]) >= {A, B} and len(everything) > 17


@pytest.mark.slow
def test_export_csv_reads_back_equal(runs, tmp_path, capsys):
    path = tmp_path / "a.csv"
    cli(capsys, "export", A, "--results", str(runs), "--format", "csv", "--out", str(path))
    back = pd.read_csv(path)
    df = results.load(runs / A)
    assert list(back.columns) == list(df.columns) and len(back) == len(df)
    numeric = [c for c in df.columns if pd.api.types.is_numeric_dtype(df[c]) and not pd.api.types.is_bool_dtype(df[c])]
    pd.testing.assert_frame_equal(back[numeric].astype(float), df[numeric].astype(float), check_exact=False, rtol=1e-9)
    assert list(back["model"]) == list(df["model"])
    records = json.loads(cli(capsys, "export", str(runs / A), "--format", "json")[0])
    assert len(records) == 14 and {r["model"] for r in records} == set(df["model"])
    md = cli(capsys, "export", str(runs / A), "--format", "markdown")[0]
    assert md.count("\n") == 16 and "threshnet79" in md


@pytest.mark.slow
def test_compare_two_runs_with_different_seeds(runs, capsys):
    a, b = results.load(runs / A), results.load(runs / B)
    diffs = differences(a, b)
    assert {d.model for d in diffs} == set(THREE.split(","))
    errors = [d for d in diffs if d.metric == "best error %"]
    assert len(errors) == 3 and all(d.noise > 0 and "test-set size" in d.why for d in errors)
    params = [d for d in diffs if d.metric == "#params M (224)"]
    assert all(d.delta == 0 and not d.changed for d in params)  # the same models: exact and equal
    data = json.loads(cli(capsys, "compare", A, B, "--results", str(runs), "--json")[0])
    assert data["changed"] == sum(d.changed for d in diffs) and len(data["only_in_a"]) == 11
    out, _ = cli(capsys, "compare", A, B, "--results", str(runs), "--fail-on-change",
                 code=1 if data["changed"] else 0)
    assert "changed beyond the noise" in out


def test_compare_bad_run_is_one_line(tmp_path, capsys):
    _, err = cli(capsys, "compare", "nope", "nada", "--results", str(tmp_path), code=2)
    assert err.count("\n") == 1 and "no run 'nope'" in err


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
