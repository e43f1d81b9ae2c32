"""`suite report` on synthetic results.jsonl lines: rows, columns, seeds, labels, standalone HTML."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from suite.report import build, write
from suite.report.runs import choose_runs, find_runs
from suite.report.tables import build_table
from suite.run import append_jsonl, result_key, write_json_atomic

REPO = Path(__file__).resolve().parents[1]
from suite.tables import get_table  # noqa: E402

TABLE3 = get_table("threshnet-3")
ROWS = TABLE3.rows


def complexity(head: int, size: int) -> dict:
    scale = (size / 32) ** 2
    rec = {"params": 10_000_000 + head * 1000, "flops": int(7e7 * scale), "madd": int(1.4e8 * scale),
           "memory_mb": 2.0 * scale, "memrw_mb": 6.0 * scale}
    return {"torchstat": rec, "complete": rec | {"flops": int(8e7 * scale)}}


def line(row, seed: int, *, error: float = 14.0, status: str = "ok", dataset: str = "cifar10",
         cpu: bool = True):
    latency = {"rpi4": {"per_image_ms": 50.0, "median_ms": 50.0, "predicted": True,
                        "expected_error_pct": 13.0, "held_out": row.row == "ThreshNet79",
                        "calibration": {"notes": ["extrapolated: kops = 9 is outside the calibration range"]
                                        if row.row == "GhostNet" else []}}}
    if cpu:
        latency["cpu"] = {"per_image_ms": 4.0 + seed * 0.2, "median_ms": 6.0, "per_image_iqr_ms": 0.1,
                          "predicted": False}
    train = None if status == "failed" else {
        "status": "ok", "error_best_pct": error + seed * 0.1, "error_final_pct": error + 0.5 + seed * 0.1,
        "error_best_epoch": 140, "epochs": 150, "test_images": 10000}
    summary = {"best_error_pct": train and train["error_best_pct"],
               "final_error_pct": train and train["error_final_pct"], "epochs": 150}
    return {"schema": 1, "key": result_key(row.model, dataset, seed), "row": row.row, "model": row.model,
            "dataset": dataset, "seed": seed, "status": status,
            "reason": "RuntimeError: boom" if train is None else None, "train": train,
            "summary": summary, "latency": latency,
            "complexity": {"published": {"num_classes": row.published_head, "input_size": [3, 224, 224],
                                         **complexity(row.published_head, 224)},
                           "trained": {"num_classes": 10, "input_size": [3, 32, 32], **complexity(10, 32)}}}


def make_run(root: Path, name: str, lines: list[dict], *, preset: str = "paper", dataset: str = "cifar10",
             table: str = "3", **manifest) -> Path:
    run = root / name
    run.mkdir(parents=True)
    reproduction = preset == "paper"
    write_json_atomic(run / "manifest.json", {
        "run_name": name, "dataset": dataset, "table": table, "updated": "2026-01-01T00:00:00+00:00",
        "preset": {"name": preset, "reproduction": reproduction}, "recipe_name": "threshnet",
        "recipe": {"name": "threshnet", "optimizer": "adam", "lr": 0.001, "default_batch_size": 100},
        "epochs": None if reproduction else 1, "train_subset": None if reproduction else 200,
        "test_subset": None if reproduction else 100, "train_count": 50000 if reproduction else 200,
        "test_count": 10000 if reproduction else 100, "seeds": [0, 1], "hardware": ["rpi4", "cpu"],
        "provenance": {"git_commit": "abc123", "torch": "2.14.1", "device_name": "Test CPU", "threads": 2},
        **manifest})
    for rec in lines:
        append_jsonl(run / "results.jsonl", rec)
    return run


@pytest.fixture
def results(tmp_path) -> Path:
    root = tmp_path / "results"
    lines = [line(r, s, error=13.0 if r.row == "ThreshNet95" else 15.0) for r in ROWS for s in (0, 1)
             if r.row != "GhostNet"]
    lines.append(line(next(r for r in ROWS if r.row == "GhostNet"), 0, status="failed"))
    make_run(root, "paper-run", lines)
    return root


def test_table_rows_columns_and_seeds(results):
    run = choose_runs(find_runs(results))["threshnet-3"]  # the old id "3" resolves to the namespaced one
    td = build_table(TABLE3, run)
    assert [r.row for r in td.rows] == [r.row for r in ROWS]
    hardnet = next(r for r in td.rows if r.row == "HarDNet68")
    assert hardnet.published["rpi4_time_ms"] == 62.4 and hardnet.published["error_pct"] == 14.66
    assert hardnet.error_best.mean == pytest.approx(15.05) and hardnet.error_best.std is not None
    assert hardnet.times["rpi4"].predicted and not hardnet.times["cpu"].predicted
    assert hardnet.complexity_published["params_m"] == pytest.approx(11.0)  # head 1000 at 224
    assert hardnet.complexity_trained["params_m"] == pytest.approx(10.01)
    assert hardnet.diffs()["rpi4_time_ms_rel"] == pytest.approx(100 * (50 / 62.4 - 1))
    assert hardnet.diffs()["error_pct_pp"] == pytest.approx(15.05 - 14.66)
    ghost = next(r for r in td.rows if r.row == "GhostNet")
    assert ghost.statuses == ["failed"] and ghost.error_best is None and "boom" in ghost.reasons[0]
    assert td.errors_meaningful and td.kind == "reproduction"


def test_report_files(results, tmp_path):
    out = tmp_path / "reports"
    written = write(build(results), out)
    assert {p.name for p in written} >= {"threshnet-3.md", "threshnet-3.html", "threshnet-3.json", "index.md",
                                         "index.html", "thresholdnet-8.md"}
    md = (out / "threshnet-3.md").read_text()
    for text in ("RPi 4 ms/img (paper)", "RPi 4 ms/img (ours)", "50.0*", "not measured", "15.05 ± 0.07",
                 "Error % final (ours)", "#Params (M) (paper)", "MemR+W (MB) (ours)", "Complexity as trained",
                 "6.88", "755.07", "## Claims of the paper", "predicted, not measured", "commit"):
        assert text in md, text
    assert md.count("\n| ThreshNet79 |") == 3  # once per section
    assert "- ThreshNet79: calibration models of the RPi 4 predictor" in md  # its Δ is out of sample
    assert "- GhostNet: RPi 4 predictions extrapolated beyond the calibration" in md
    data = json.loads((out / "threshnet-3.json").read_text())
    assert len(data["rows"]) == 14 and data["errors_comparable"] is True
    assert [r["row"] for r in data["rows"] if r["prediction_held_out"] == ["rpi4"]] == ["ThreshNet79"]
    assert {c["id"] for c in data["claims"]} == {"T1", "T2", "T3", "T4", "T5", "T6"}
    lowest = data["claims"][3]["measured"]["parts"][0]  # ThreshNet95 lowest, but GhostNet's training failed
    assert lowest["verdict"] == "inconclusive" and "not measured: GhostNet" in lowest["detail"]
    assert any("Wide_ResNet50-2" == i["row"] for i in data["inconsistencies"])
    html = (out / "threshnet-3.html").read_text()
    assert html.count("<svg") == 2 and "<script" not in html and "<link" not in html
    assert 'src="http' not in html and "@media print" in html


def test_smoke_run_is_labelled(tmp_path):
    root = tmp_path / "results"
    make_run(root, "smoke-run", [line(r, 0) for r in ROWS], preset="smoke")
    out = tmp_path / "reports"
    write(build(root), out)
    md = (out / "threshnet-3.md").read_text()
    assert "SMOKE RUN" in md and "not a reproduction" in md
    data = json.loads((out / "threshnet-3.json").read_text())
    assert data["errors_comparable"] is False and data["kind"] == "smoke"
    t3 = next(c for c in data["claims"] if c["id"] == "T3")
    assert "cannot test an accuracy claim" in t3["measured"]["parts"][0]["detail"]


def test_fuller_run_wins_and_svhn_gets_table4(tmp_path):
    root = tmp_path / "results"
    make_run(root, "smoke-run", [line(r, 0) for r in ROWS], preset="smoke")
    make_run(root, "paper-run", [line(r, 0) for r in ROWS[:3]])
    make_run(root, "svhn-run", [line(r, 0, dataset="svhn") for r in ROWS], dataset="svhn", table="threshnet-4")
    chosen = choose_runs(find_runs(root))
    assert chosen["threshnet-3"].name == "paper-run" and "smoke-run" in chosen["threshnet-3"].ignored[0]
    out = tmp_path / "reports"
    write(build(root), out)
    assert (out / "threshnet-4.md").is_file() and (out / "threshnet-4.html").is_file()
    assert json.loads((out / "threshnet-4.json").read_text())["claims"] == []
    assert "checked in: T1 (threshnet-3)" not in (out / "threshnet-4.md").read_text()
    assert "other runs (not merged)" in (out / "threshnet-3.md").read_text()
    index = (out / "index.md").read_text()
    assert "| `threshnet-3` | ThreshNet |" in index and "**measured here**" in index
    assert "**not run yet**" in index and "`python -m suite run --table dpnet-5 --preset smoke`" in index


def test_html_escapes_text(tmp_path):
    root = tmp_path / "results"
    bad = line(ROWS[0], 0, status="failed") | {"reason": "<script>alert(1)</script>"}
    make_run(root, "run", [bad])
    write(build(root), tmp_path / "reports")
    html = (tmp_path / "reports" / "threshnet-3.html").read_text()
    assert "<script>alert" not in html and "&lt;script&gt;" in html


@pytest.mark.slow
def test_cli_without_results_writes_the_complexity_tables_and_the_index(tmp_path):
    (tmp_path / "none").mkdir()  # an empty results folder (a missing one is an error)
    proc = subprocess.run([sys.executable, "-m", "suite", "report", "--results", str(tmp_path / "none"),
                           "--out", str(tmp_path / "reports")], capture_output=True, text=True, cwd=tmp_path,
                          env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path),
                               "SUITE_CACHE_DIR": os.environ.get("SUITE_CACHE_DIR", str(tmp_path / "cache"))},
                          timeout=900)
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    assert "no results under" in proc.stderr and "suite run --preset smoke" in proc.stderr
    md = (tmp_path / "reports" / "thresholdnet-8.md").read_text()
    assert md.count("\n| DenseNet") == 4 and "| ResNeXt101-32x8d | resnext101_32x8d | 1000 | 88.79 | 88.79 | = |" in md
    assert "MAdd printed equal to FLOPs" in md
    index = (tmp_path / "reports" / "index.md").read_text()
    assert "**complexity only**" in index and index.count("**not run yet**") == 12
    assert not list((tmp_path / "reports").glob("threshnet-3.*"))
