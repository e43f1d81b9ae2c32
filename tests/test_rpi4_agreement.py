"""The Pi 4 predictor's rank correlation and within-band shares, beside a FLOPs-only baseline."""

from __future__ import annotations

import json

import pytest

from suite.cli import main
from suite.timing import rpi4
from suite.timing.rpi4.agreement import agreement


def _points(times: dict[str, float]) -> list:
    return [rpi4.CalibrationPoint(m, t, "T", "synthetic") for m, t in times.items()]


def test_a_perfect_cost_model_ranks_every_model_and_puts_all_within_ten_percent():
    feats = {m: {"gmacs": g} for m, g in (("a", 1.0), ("b", 2.0), ("c", 3.0), ("d", 5.0))}
    cal = rpi4.calibrate(_points({"a": 10.0, "b": 20.0, "c": 30.0, "d": 50.0}), feats, (("gmacs",),))
    a = agreement(cal)
    assert a["spearman_rho"] == pytest.approx(1.0) and a["models"] == 4
    assert a["within_10_pct_share"] == 1.0 and a["within_25_pct_share"] == 1.0


def test_a_cost_model_blind_to_the_ranking_scores_low():
    feats = {m: {"gmacs": g} for m, g in (("a", 5.0), ("b", 3.0), ("c", 2.0), ("d", 1.0))}
    cal = rpi4.calibrate(_points({"a": 10.0, "b": 20.0, "c": 30.0, "d": 50.0}), feats, (("gmacs",),))
    a = agreement(cal)
    assert a["spearman_rho"] == pytest.approx(-1.0)
    assert a["within_10_pct_share"] < 0.5 and a["within_25_pct_share"] <= a["within_10_pct_share"] + 0.5


@pytest.mark.slow  # the nested leave-one-model-out over 24 forms, twice over: tens of seconds on 2 loaded cores
def test_calibration_json_gives_rho_and_shares_for_the_predictor_and_the_flops_baseline(capsys):
    assert main(["calibration", "rpi4", "--json"]) == 0
    agree = json.loads(capsys.readouterr().out)["agreement"]
    for key in ("predictor", "flops_baseline"):
        a = agree[key]
        assert -1.0 <= a["spearman_rho"] <= 1.0 and a["models"] >= 3
        assert 0.0 <= a["within_10_pct_share"] <= a["within_25_pct_share"] <= 1.0
    assert agree["flops_baseline"]["features"] == ["gmacs"]
    assert agree["predictor"]["mean_error_pct"] == pytest.approx(
        json.loads(json.dumps(rpi4.calibration().to_dict()))["expected_error_pct"])
