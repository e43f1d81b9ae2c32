"""End to end on real CIFAR-10: `suite run --preset smoke` on the 14 rows of Table III, `suite report`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from suite.tables import get_table

REPO = Path(__file__).resolve().parents[1]
VERDICTS = {"reproduced", "not reproduced", "inconclusive", "inconclusive (predicted)"}
OWN_VERDICTS = {"supported", "not supported", "questionable"}


def suite(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    return subprocess.run([sys.executable, "-m", "suite", *args], capture_output=True, text=True, cwd=cwd,
                          env=env, timeout=3000)


@pytest.mark.slow
@pytest.mark.timeout(3600)  # minutes on an idle 2-core machine; generous for a loaded CI runner
def test_smoke_run_then_report(cifar10_root, tmp_path):
    results, reports = tmp_path / "results", tmp_path / "reports"
    command = ("run", "--hardware", "rpi4", "--table", "3", "--preset", "smoke",
               "--data-dir", str(cifar10_root), "--out", str(results))
    proc = suite(*command, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-4000:]
    assert "Traceback" not in proc.stderr
    (run_dir,) = [p for p in results.iterdir() if p.is_dir()]
    lines = [json.loads(t) for t in (run_dir / "results.jsonl").read_text().splitlines() if t.strip()]
    rows = [r.row for r in get_table("threshnet-3").rows]
    assert sorted(r["row"] for r in lines) == sorted(rows)
    assert all(r["status"] == "ok" for r in lines), [(r["model"], r.get("reason")) for r in lines]
    assert all(r["latency"]["rpi4"]["predicted"] for r in lines)

    again = suite(*command, cwd=tmp_path)  # the same command finds the run and skips every finished line
    assert again.returncode == 0, again.stderr[-2000:]
    assert len((run_dir / "results.jsonl").read_text().splitlines()) == len(lines)

    proc = suite("report", "--results", str(results), "--out", str(reports), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-4000:]
    for ext in ("md", "html", "json"):
        assert (reports / f"threshnet-3.{ext}").is_file()
    assert (reports / "index.md").is_file() and (reports / "index.html").is_file()
    data = json.loads((reports / "threshnet-3.json").read_text())
    assert [r["row"] for r in data["rows"]] == rows
    for row in data["rows"]:
        assert row["published"]["params_m"] is not None and row["complexity_as_published"]["params_m"] > 0
        assert row["complexity_as_trained"]["params_m"] > 0 and row["error_best_pct"] is not None
        assert row["time_ms"]["rpi4"]["predicted"] is True
    assert data["kind"] == "smoke" and data["errors_comparable"] is False
    assert [c["id"] for c in data["claims"]] == ["T1", "T2", "T3", "T4", "T5", "T6"]
    for claim in data["claims"]:
        assert claim["measured"]["verdict"] in VERDICTS and claim["own_table"]["verdict"] in OWN_VERDICTS
    # parameter counts do not depend on training: T2 and T6 get a real verdict even from a smoke run
    assert {c["id"]: c["measured"]["verdict"] for c in data["claims"]}["T6"] == "reproduced"
    # predicted Pi times never decide: T1's Pi parts (the only device of this run) stay "inconclusive (predicted)"
    t1 = next(c for c in data["claims"] if c["id"] == "T1")["measured"]
    assert t1["verdict"] == "inconclusive (predicted)"
    assert {p["verdict"] for p in t1["parts"] if p["what"].endswith("on rpi4")} == {"inconclusive (predicted)"}
    md = (reports / "threshnet-3.md").read_text()
    assert "SMOKE RUN" in md and "(paper)" in md and "(ours)" in md and "*" in md and "not measured" in md
    # the rpi4 predictor's calibration rows are predicted out of sample, and the report says so
    from suite.timing import rpi4

    calibrated = {p.model for p in rpi4.load_points()}
    held = [r.row for r in get_table("threshnet-3").rows if r.model in calibrated]
    assert len(held) == 9 and f"{', '.join(held)}: calibration models" in md
    html = (reports / "threshnet-3.html").read_text()
    assert html.count("<svg") == 3 and "<script" not in html  # two plots and the learning curves
    assert "![learning curves](threshnet-3_learning_curves.svg)" in md
    assert [c["row"] for c in data["learning_curves"]] == rows
