"""`suite report` on synthetic results.jsonl lines: rows, columns, seeds, labels, standalone HTML."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from suite.report import Report, build, write
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
             table: str = "3", preset_extra: dict | None = None, **manifest) -> Path:
    run = root / name
    run.mkdir(parents=True)
    reproduction = preset == "paper"
    write_json_atomic(run / "manifest.json", {
        "run_name": name, "dataset": dataset, "table": table, "updated": "2026-01-01T00:00:00+00:00",
        "preset": {"name": preset, "reproduction": reproduction, **(preset_extra or {})}, "recipe_name": "threshnet",
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


def test_an_incompatible_run_is_left_out_with_the_reason_and_svhn_gets_table4(tmp_path):
    root = tmp_path / "results"
    make_run(root, "smoke-run", [line(r, 0) for r in ROWS], preset="smoke")
    make_run(root, "paper-run", [line(r, 0) for r in ROWS[:3]])  # as recent: the fuller preset comes first
    make_run(root, "svhn-run", [line(r, 0, dataset="svhn") for r in ROWS], dataset="svhn", table="threshnet-4")
    chosen = choose_runs(find_runs(root))
    assert chosen["threshnet-3"].name == "paper-run" and chosen["threshnet-3"].ignored == [
        "smoke-run: preset smoke, not paper; budget 1 epoch(s) on 200 / 100 images, not recipe epoch(s) on all / all "
        "images (`suite report --run smoke-run` renders it)"]
    out = tmp_path / "reports"
    write(build(root), out)
    assert (out / "threshnet-4.md").is_file() and (out / "threshnet-4.html").is_file()
    assert json.loads((out / "threshnet-4.json").read_text())["claims"] == []
    assert "checked in: T1 (threshnet-3)" not in (out / "threshnet-4.md").read_text()
    assert "runs left out" in (out / "threshnet-3.md").read_text()
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


def test_provenance_gives_each_models_training_throughput_escaped(tmp_path):
    from suite.device.peaks import Peak
    from suite.run.throughput import throughput

    root = tmp_path / "results"
    rates = [throughput(ips, 0.1, Peak(100.0, "fp32", "<b>declared</b> by a test")) for ips in (100.0, 200.0)]
    make_run(root, "run", [line(ROWS[0], s) | {"throughput": r.to_dict()} for s, r in enumerate(rates)])
    td = build_table(TABLE3, choose_runs(find_runs(root))["threshnet-3"])
    write([Report(td, [], {})], tmp_path / "reports")  # this table alone: no other table profiled
    html = (tmp_path / "reports" / "threshnet-3.html").read_text()
    md = (tmp_path / "reports" / "threshnet-3.md").read_text()
    for text in (html, md):  # seeds averaged: 150 img/s, 3 x 0.1 GFLOP x 150 = 45 GFLOP/s, 45 % of 100
        assert "training throughput" in text and "150 img/s, 45.0 GFLOP/s (45.0 % of peak)" in text
        assert "<b>declared" not in text and "&lt;b&gt;declared&lt;/b&gt; by a test" in text
    assert "3 (forward + backward)" in md


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


# --- which runs a report renders -------------------------------------------------------------------------------

USER = {"path": "/home/me/mine.py", "module": "lightcnn_user_1234abcd_mine", "sha256": "1234abcd" * 8,
        "cards": {"mynet": {"competes_with": ["ThreshNet79"], "claims": []}}}


def user_line(seed: int) -> dict:
    rec = line(next(r for r in ROWS if r.row == "ThreshNet28"), seed)
    return rec | {"key": result_key("mynet", "cifar10", seed), "row": None, "model": "mynet", "user_model": USER}


def later(name: str, root: Path, lines: list[dict], **kw) -> Path:
    return make_run(root, name, lines, updated="2026-01-02T00:00:00+00:00", **kw)


@pytest.fixture
def two_runs(tmp_path) -> Path:
    """A full Table III run, then a later compatible run: a user model beside two table models (seed 2)."""
    root = tmp_path / "results"
    make_run(root, "full", [line(r, s) for r in ROWS for s in (0, 1)])
    mine = [user_line(2)] + [line(r, 2) for r in ROWS if r.row in ("ThreshNet79", "HarDNet68")]
    later("mine", root, mine)
    return root


def test_the_latest_run_merges_the_compatible_runs_of_its_table(two_runs, tmp_path):
    reports = build(two_runs)
    td = next(r.table for r in reports if r.table.id == "threshnet-3")
    assert td.run.name == "mine" and td.run.ignored == []
    assert td.run.merged == ["mine (3 lines, seed 2)", "full (28 lines, seeds 0, 1)"]
    assert [r.row for r in td.rows] == [r.row for r in ROWS] + ["mynet (yours)"]
    seeds = {r.row: r.seeds for r in td.rows}
    assert seeds["ThreshNet79"] == [0, 1, 2] and seeds["ShuffleNet"] == [0, 1] and seeds["mynet (yours)"] == [2]
    write(reports, tmp_path / "reports")
    md = (tmp_path / "reports" / "threshnet-3.md").read_text()
    assert "| ThreshNet79 | threshnet79 |" in md and "| mynet (yours) | mynet |" in md
    assert md.index("| EfficientNetB0 | efficientnet_b0_cifar |") < md.index("| mynet (yours) | mynet |")
    assert "**runs merged**: mine (3 lines, seed 2); full (28 lines, seeds 0, 1)" in md
    assert "This table merges 2 compatible runs" in md
    # the Seeds column counts seeds: ThreshNet79 3, a row of the full run 2, the user's row 1
    table = md.split("## Measured beside published")[1].split("\n\n")[2].splitlines()
    seeds_col = table[0].split(" | ").index("Seeds")
    cells = {row.split(" | ")[0].lstrip("| "): row.split(" | ")[seeds_col] for row in table[2:]}
    assert (cells["ThreshNet79"], cells["ShuffleNet"], cells["mynet (yours)"]) == ("3", "2", "1")


def test_a_users_rows_never_enter_the_papers_claims(two_runs):
    claims = next(r.claims for r in build(two_runs) if r.table.id == "threshnet-3")
    text = json.dumps([c.to_dict() for c in claims])
    assert "mynet" not in text and "yours" not in text
    t5 = next(c for c in claims if c.claim.id == "T5").measured
    assert [p.what for p in t5.parts] == ["ThreshNet28 faster than ShuffleNet on the Pi",
                                          "shortest GPU time (ThreshNet28 faster than every other row)"]


def test_parameter_claims_do_not_depend_on_the_rendered_run(two_runs):
    def verdicts(**kw) -> dict[str, str]:
        claims = next(r.claims for r in build(two_runs, **kw) if r.table.id == "threshnet-3")
        return {c.claim.id: c.measured.verdict for c in claims}

    merged, alone = verdicts(), verdicts(run_name="mine")  # "mine" has neither ThreshNet95 nor HarDNet85
    assert merged["T2"] == alone["T2"] == "reproduced" and merged["T6"] == alone["T6"] == "reproduced"


def test_the_terminal_names_the_merged_and_the_left_out_runs(two_runs, tmp_path, capsys):
    from suite.cli import main

    make_run(two_runs, "old-smoke", [line(r, 0) for r in ROWS[:2]], preset="smoke", updated="2025-12-01")
    assert main(["report", "--results", str(two_runs), "--out", str(tmp_path / "reports")]) == 0
    err = capsys.readouterr().err
    assert "rows measured from run mine (reproduction)" in err
    assert "  merged: full (28 lines, seeds 0, 1)" in err
    assert "  left out: old-smoke: preset smoke, not paper;" in err and "`suite report --run old-smoke`" in err


# --- busy and shortened timings are never quoted as findings -----------------------------------------------------

RATIO = re.compile(r"\d(?:\.\d+)?x (?:faster|slower)|ratio time\(B\)/time\(A\) \d")


def claim_texts(claims) -> list[str]:
    out = []
    for c in claims:
        out += [c.measured.note] + [p.detail for p in c.measured.parts]
    return [t for t in out if t]


def test_no_claim_text_of_a_busy_smoke_run_quotes_a_time_ratio(tmp_path):
    root = tmp_path / "results"
    lines = []
    for r in ROWS:
        rec = line(r, 0)
        fast = 1.0 if r.row in ("ThreshNet79", "ThreshNet28", "ThreshNet95") else 40.0  # 40x apart
        rec["latency"] = {hw: {"per_image_ms": fast, "median_ms": fast, "per_image_iqr_ms": 0.01, "busy": True,
                               "predicted": False} for hw in ("cpu", "gpu")}
        lines.append(rec)
    make_run(root, "busy-smoke", lines, preset="smoke", preset_extra={"per_image_batch": 4})
    claims = next(r.claims for r in build(root) if r.table.id == "threshnet-3")
    texts = claim_texts(claims)
    assert any("busy machine, not evidence" in t for t in texts)
    quoted = [t for t in texts if RATIO.search(t) and "busy machine, not evidence" not in t]
    assert quoted == []
    timed = [p for c in claims if c.claim.id in ("T1", "T4") for p in c.measured.parts
             if "faster than" in p.what]
    assert timed and {p.verdict for p in timed} == {"inconclusive (busy machine)"}


def test_a_quiet_smoke_runs_times_decide_nothing_and_are_not_quoted(tmp_path):
    root = tmp_path / "results"
    lines = []
    for r in ROWS:
        rec = line(r, 0)
        rec["latency"] = {"cpu": {"per_image_ms": 2.0, "median_ms": 2.0, "predicted": False},
                          "gpu": {"per_image_ms": 0.5, "median_ms": 0.5, "predicted": False}}
        lines.append(rec)
    make_run(root, "smoke", lines, preset="smoke", preset_extra={"per_image_batch": 4})
    claims = next(r.claims for r in build(root) if r.table.id == "threshnet-3")
    assert [t for t in claim_texts(claims) if RATIO.search(t)] == []
    t4_speed = next(c for c in claims if c.claim.id == "T4").measured.parts[-1]
    assert t4_speed.verdict == "inconclusive" and "shortened timing protocol" in t4_speed.detail
