"""End to end on real CIFAR-10: the README's `suite run --table 3 --preset smoke` on the 14 rows of Table III (a
real process, from the session's `e2e` fixture), the same command again, and `suite report`."""

from __future__ import annotations

import json
import re

import pytest

from suite.tables import get_table
from suite.timing import rpi4

VERDICTS = {"reproduced", "partially reproduced", "not reproduced", "inconclusive", "inconclusive (one seed)",
            "inconclusive (predicted)", "inconclusive (busy machine)"}
OWN_VERDICTS = {"supported", "not supported", "questionable"}
pytestmark = pytest.mark.slow
RATIO = re.compile(r"\d(?:\.\d+)?x (?:faster|slower)|ratio time\(B\)/time\(A\) \d")


def test_smoke_run_gives_one_ok_line_per_row(e2e):
    lines = e2e.lines("threshnet-3")
    rows = [r.row for r in get_table("threshnet-3").rows]
    assert sorted(r["row"] for r in lines) == sorted(rows)
    assert all(r["status"] == "ok" for r in lines), [(r["model"], r.get("reason")) for r in lines]
    assert all(r["latency"]["rpi4"]["predicted"] for r in lines)
    assert not any(r["latency"]["cpu"]["predicted"] for r in lines)


def test_the_same_command_again_skips_every_finished_line(e2e):
    assert e2e.outputs["again"].code == 0
    assert len(e2e.lines("threshnet-3")) == len(get_table("threshnet-3").rows)


def test_report_of_the_smoke_run(e2e):
    reports = e2e.reports
    rows = [r.row for r in get_table("threshnet-3").rows]
    for ext in ("md", "html", "json"):
        assert (reports / f"threshnet-3.{ext}").is_file()
    assert (reports / "index.md").is_file() and (reports / "index.html").is_file()
    data = e2e.report_json("threshnet-3")
    assert [r["row"] for r in data["rows"]] == rows
    for row in data["rows"]:
        assert row["published"]["params_m"] is not None and row["complexity_as_published"]["params_m"] > 0
        assert row["complexity_as_trained"]["params_m"] > 0 and row["error_best_pct"] is not None
        assert row["time_ms"]["rpi4"]["predicted"] is True
    assert data["kind"] == "smoke" and data["errors_comparable"] is False
    assert [c["id"] for c in data["claims"]] == ["T1", "T2", "T3", "T4", "T5", "T6"]
    for claim in data["claims"]:
        verdict = claim["measured"]["verdict"]
        assert verdict in VERDICTS or verdict.startswith("not testable here (needs ")
        assert claim["own_table"]["verdict"] in OWN_VERDICTS
    # parameter counts do not depend on training: T6 gets a real verdict even from a smoke run
    assert {c["id"]: c["measured"]["verdict"] for c in data["claims"]}["T6"] == "reproduced"
    # predicted Pi times never decide: T1's parts, one per ratio, stay "inconclusive (predicted)"
    t1 = next(c for c in data["claims"] if c["id"] == "T1")["measured"]
    assert len(t1["parts"]) == 5 and {p["verdict"] for p in t1["parts"]} == {"inconclusive (predicted)"}
    # each claim judged within its scope: what a cpu + rpi4 smoke run can and cannot say
    assert {c["id"]: c["measured"]["verdict"] for c in data["claims"]} == {
        "T1": "inconclusive (predicted)", "T2": "reproduced", "T3": "inconclusive",
        "T4": "not testable here (needs gpu)", "T5": "not testable here (needs gpu)", "T6": "reproduced"}
    md = e2e.report_text("threshnet-3")
    assert "SMOKE RUN" in md and "(paper)" in md and "(ours)" in md and "*" in md and "not measured" in md
    # the rpi4 predictor's calibration rows are predicted out of sample, and the report says so
    calibrated = {p.model for p in rpi4.load_points()}
    held = [r.row for r in get_table("threshnet-3").rows if r.model in calibrated]
    assert len(held) == 9 and f"{', '.join(held)}: calibration models" in md
    html = e2e.report_text("threshnet-3", "html")
    assert html.count("<svg") == 3 and "<script" not in html  # two plots and the learning curves
    assert "![learning curves](threshnet-3_learning_curves.svg)" in md
    assert [c["row"] for c in data["learning_curves"]] == rows


def test_the_default_report_merges_the_later_compatible_run(e2e):
    data = e2e.report_json("threshnet-3")
    assert data["run"]["name"] == "threshnet-3-seed1"  # the latest run, the first one merged into it
    assert "  merged: threshnet-3 (14 lines, seed 0)" in e2e.outputs["report"].stderr
    seeds = {r["row"]: r["seeds"] for r in data["rows"]}
    assert seeds["ThreshNet79"] == [0, 1] and seeds["HarDNet68"] == [0]
    assert "This table merges 2 compatible runs" in e2e.report_text("threshnet-3")
    verdicts = {c["id"]: c["measured"]["verdict"] for c in data["claims"]}
    alone = {c["id"]: c["measured"]["verdict"]
             for c in json.loads((e2e.cpu_reports / "threshnet-3.json").read_text())["claims"]}
    assert verdicts["T2"] == alone["T2"] == "reproduced" and verdicts["T6"] == alone["T6"] == "reproduced"


def test_no_claim_text_quotes_a_busy_or_smoke_protocol_time_ratio(e2e):
    for reports in (e2e.reports, e2e.cpu_reports):
        claims = json.loads((reports / "threshnet-3.json").read_text())["claims"]
        texts = [c["measured"]["note"] for c in claims] + [p["detail"] for c in claims for p in c["measured"]["parts"]]
        quoted = [t for t in texts if RATIO.search(t) and "predicted, not measured" not in t
                  and "busy machine, not evidence" not in t]
        assert quoted == []


def test_cpu_only_run_leaves_t1_not_testable_and_quotes_no_smoke_timing(e2e):
    data = json.loads((e2e.cpu_reports / "threshnet-3.json").read_text())
    t1 = next(c for c in data["claims"] if c["id"] == "T1")["measured"]
    assert t1["verdict"] == "not testable here (needs gpu, rpi4)"
    ghost = next(p for p in t1["parts"] if p["what"] == "ThreshNet79 faster than GhostNet")
    # a smoke run's CPU times are not context either: left out, or named busy
    assert ghost["detail"] in ("no time measured on gpu, rpi4", "on this CPU: busy machine, not evidence")
    md = (e2e.cpu_reports / "threshnet-3.md").read_text()
    assert "not testable here (needs gpu, rpi4)" in md
