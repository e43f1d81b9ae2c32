"""Learning curves in the report: 14 models x 2 seeds of per-epoch history, as an image, inline SVG and data."""

from __future__ import annotations

import json

import pytest
from test_report import ROWS, line, make_run

from suite.report import build, write

EPOCHS = 6


def _history(k: int, seed: int) -> list[dict]:
    # a curve that falls, then rises after epoch 4: the best epoch is 4 for every model and seed
    return [{"epoch": e, "test_error_pct": 40.0 + k + seed * 2.0 + (abs(e - 4) * 3.0)} for e in range(1, EPOCHS + 1)]


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("curves")
    lines = []
    for k, row in enumerate(ROWS):
        for seed in (0, 1):
            rec = line(row, seed)
            rec["train"] = dict(rec["train"], history=_history(k, seed))
            lines.append(rec)
    make_run(tmp_path / "results", "curves", lines)
    out = tmp_path / "reports"
    write(build(tmp_path / "results", run_name="curves"), out)
    return out


def test_curve_data_per_model_with_seed_band_best_epoch_and_published_error(reports):
    report = json.loads((reports / "threshnet-3.json").read_text())
    data = report["learning_curves"]
    assert [c["row"] for c in data] == [r.row for r in ROWS]  # every model of the table, in its order
    for k, curve in enumerate(data):
        assert curve["epochs"] == list(range(1, EPOCHS + 1)) and sorted(curve["seeds"]) == ["0", "1"]
        assert curve["low"] == [p[1] for p in curve["seeds"]["0"]]
        assert curve["high"] == [p[1] for p in curve["seeds"]["1"]]
        assert curve["mean"] == pytest.approx([(lo + hi) / 2 for lo, hi in zip(curve["low"], curve["high"],
                                                                                  strict=True)])
        assert curve["best_epoch"] == 4 and curve["best_error_pct"] == pytest.approx(40.0 + k + 1.0)
    for curve, row in zip(data, report["rows"], strict=True):
        assert curve["published_error_pct"] == pytest.approx(row["published"]["error_pct"])
        assert curve["published_error_pct"] is not None


def test_markdown_links_the_image_and_html_inlines_it(reports):
    md = (reports / "threshnet-3.md").read_text()
    assert "## Learning curves" in md and "![learning curves](threshnet-3_learning_curves.svg)" in md
    svg = (reports / "threshnet-3_learning_curves.svg").read_text()
    assert svg.startswith("<svg") and svg.count("ThreshNet28 (best") == 1
    html = (reports / "threshnet-3.html").read_text()
    assert '<div class="curves"><svg' in html and "<script" not in html
    for row in ROWS:  # one titled panel per model: small multiples, not one tangle
        assert f"{row.row} (best" in svg
    assert html.count("<svg") == 3  # the two existing plots and the curves
