"""End to end: the README's Table III smoke run on cpu + rpi4 with `--runtimes eager,onnxruntime` (the session's
`e2e` fixture) and its report's robustness panel. The extra runtimes feed the panel alone: the claims' verdicts
are those of the same lines without them."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import pytest

from suite.report import build

pytestmark = pytest.mark.slow
ORT = "onnxruntime"
TABLE = "threshnet-3"


def test_smoke_run_times_onnxruntime_on_the_cpu_and_predicts_the_pi_with_eager_only(e2e):
    lines = e2e.lines(TABLE)
    assert lines and all(set(line.get("runtimes") or {}) == {"cpu"} for line in lines)
    cells = [line["runtimes"]["cpu"][ORT] for line in lines]
    assert all(c["status"] == "measured" or c["reason"] for c in cells)
    assert sum(c["status"] == "measured" for c in cells) >= 3  # enough models for a rank correlation
    for line in lines:
        assert line["latency"]["rpi4"]["predicted"] is True and line["latency"]["cpu"]["predicted"] is False


def test_report_shows_t1s_robustness_panel_with_tau_and_rho(e2e):
    panel = e2e.report_json(TABLE)["robustness"]
    assert panel is not None and set(panel["runtimes"]) == {"eager", ORT}
    t1 = next(c for c in panel["claims"] if c["id"] == "T1")
    assert t1["label"] and {c["runtime"] for c in t1["cells"] if c["device"] == "cpu"} == {"eager", ORT}
    pi = [c for c in t1["cells"] if c["device"] == "rpi4"]
    assert pi and {c["runtime"] for c in pi} == {"eager"}  # predicted Pi times are eager-only
    assert all(c["outcome"] == "inconclusive (predicted)" for c in pi)  # and never decide
    ort = [a for a in panel["agreement"] if a["device"] == "cpu" and a["runtime"] == ORT]
    assert ort and all(-1.0 <= a["kendall_tau"] <= 1.0 for a in ort)
    assert all(any(r is not None and not math.isnan(r) for r in a["rho"].values()) for a in ort)
    eager = [a for a in panel["agreement"] if a["runtime"] == "eager"]
    assert eager and all(a["kendall_tau"] is None for a in eager)  # eager is the reference
    md = e2e.report_text(TABLE, "md")
    assert "## Speed claims under other runtimes" in md and "### T1: " in md
    assert "Kendall tau vs eager" in md and "rho FLOPs" in md and f"| {ORT} |" in md
    html = e2e.report_text(TABLE, "html")
    assert '<section id="robustness">' in html and "<h3>T1: " in html
    assert 'class="robustness-agreement"' in html and "Kendall tau vs eager" in html


def _without_runtimes(src: Path, dst: Path) -> Path:
    """A copy of the results folder whose lines carry no runtime beside eager."""
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns("*.pt", "*.pth"))  # the report reads no weights
    for path in dst.rglob("results.jsonl"):
        lines = [json.loads(t) for t in path.read_text().splitlines() if t.strip()]
        path.write_text("".join(json.dumps({k: v for k, v in line.items() if k != "runtimes"}) + "\n"
                                for line in lines))
    return dst


def test_claim_verdicts_are_those_without_the_extra_runtimes(e2e, tmp_path):
    shown = {c["id"]: c for c in e2e.report_json(TABLE)["claims"]}
    assert list(shown) == ["T1", "T2", "T3", "T4", "T5", "T6"]
    plain = _without_runtimes(e2e.results, tmp_path / "results")
    rep = next(r for r in build(plain) if r.table.id == TABLE)
    assert rep.table.run is not None and not any(line.get("runtimes") for line in rep.table.run.lines)
    again = {c.claim.id: c.to_dict() for c in rep.claims}
    assert list(again) == list(shown)
    for cid, claim in again.items():
        for kind in ("measured", "own_table"):
            assert shown[cid][kind]["verdict"] == claim[kind]["verdict"], (cid, kind)
            assert [(p["what"], p["verdict"]) for p in shown[cid][kind]["parts"]] == \
                [(p["what"], p["verdict"]) for p in claim[kind]["parts"]], (cid, kind)
