"""Claim verdicts on synthetic measurements (both directions, inconclusive) and on the paper's own table."""

from __future__ import annotations

import pytest

from suite.analysis.stats import Stat
from suite.claims import (
    INCONCLUSIVE,
    NOT_REPRODUCED,
    NOT_SUPPORTED,
    ONE_SEED,
    PARTIAL,
    PREDICTED,
    QUESTIONABLE,
    REPRODUCED,
    SUPPORTED,
    Measurements,
    all_parts,
    any_hardware,
    check,
)
from suite.tables import get_table
from suite.tables.threshnet import CLAIMS

ROWS = ("ThreshNet28", "ShuffleNet", "ThreshNet79", "HarDNet68", "MobileNetV2", "SqueezeNet", "ShuffleNetV2",
        "MobileNet", "GhostNet", "ResNeXt50-32x4d", "ThreshNet95", "Wide_ResNet50-2", "HarDNet85",
        "EfficientNetB0")


def seeds(*values: float) -> Stat:
    return Stat.of(values)


def check_claims(m: Measurements):
    """T1-T6 on Table III measurements."""
    return check(get_table("threshnet-3"), {"threshnet-3": m})


def verdicts(m: Measurements) -> dict[str, str]:
    return {r.claim.id: r.measured.verdict for r in check_claims(m)}


def t1_times(t79: float) -> dict[str, Stat]:
    others = {"HarDNet68": 10.0, "GhostNet": 11.0, "MobileNetV2": 11.0, "ShuffleNet": 12.0,
              "EfficientNetB0": 12.5}
    return {"ThreshNet79": seeds(t79, t79 * 1.01, t79 * 0.99)} | {k: seeds(v, v * 1.01, v * 0.99)
                                                                    for k, v in others.items()}


# --- helpers -----------------------------------------------------------------------------------------------

def test_prediction_error_widens_the_spread():
    pred = Stat.of([45.0], predicted=True, expected_error_pct=13.0)
    assert pred.sigma == pytest.approx(45.0 * 0.13) and pred.sigma_source == "prediction"


def test_combining_rules():
    assert all_parts([REPRODUCED, REPRODUCED]) == REPRODUCED
    assert all_parts([REPRODUCED, INCONCLUSIVE]) == INCONCLUSIVE
    assert all_parts([INCONCLUSIVE, NOT_REPRODUCED]) == NOT_REPRODUCED
    assert any_hardware([INCONCLUSIVE, REPRODUCED]) == REPRODUCED
    assert any_hardware([REPRODUCED, NOT_REPRODUCED]) == INCONCLUSIVE
    assert all_parts([PREDICTED, REPRODUCED]) == PREDICTED and all_parts([PREDICTED, INCONCLUSIVE]) == INCONCLUSIVE
    assert any_hardware([PREDICTED, REPRODUCED]) == REPRODUCED and any_hardware([PREDICTED]) == PREDICTED
    assert all_parts([REPRODUCED, PARTIAL]) == PARTIAL and any_hardware([PARTIAL, REPRODUCED]) == PARTIAL
    untestable = "not testable here (needs gpu)"
    assert any_hardware([untestable, REPRODUCED]) == REPRODUCED and any_hardware([untestable]) == untestable
    assert all_parts([REPRODUCED, untestable]) == untestable
    assert all_parts([NOT_REPRODUCED, untestable]) == NOT_REPRODUCED


def test_every_claim_is_checked_and_nothing_measured_is_inconclusive():
    results = check_claims(Measurements(rows=ROWS))
    assert [r.claim.id for r in results] == [c.id for c in CLAIMS] == ["T1", "T2", "T3", "T4", "T5", "T6"]
    assert {r.measured.verdict for r in results} == {INCONCLUSIVE}


# --- T1 ----------------------------------------------------------------------------------------------------

def test_t1_reproduced_when_threshnet79_is_clearly_faster_by_the_claimed_ratios():
    m = Measurements(rows=ROWS, times={"rpi4": t1_times(8.0)})
    assert verdicts(m)["T1"] == REPRODUCED


def test_t1_partially_reproduced_when_faster_but_not_by_the_claimed_size():
    m = Measurements(rows=ROWS, times={"rpi4": t1_times(8.0)})
    m.times["rpi4"]["EfficientNetB0"] = seeds(9.0, 9.09, 8.91)  # ratio 1.125, claimed 1.25 (20 %)
    assert verdicts(m)["T1"] == PARTIAL


def test_t1_not_reproduced_when_threshnet79_is_clearly_slower_than_one():
    m = Measurements(rows=ROWS, times={"rpi4": t1_times(8.0)})
    m.times["rpi4"]["ShuffleNet"] = seeds(6.0, 6.05, 5.95)
    result = check_claims(m)[0]
    assert result.measured.verdict == NOT_REPRODUCED
    part = next(p for p in result.measured.parts if "ShuffleNet" in p.what)
    assert part.verdict == NOT_REPRODUCED and "18 % faster" in part.detail and "95 % CI" in part.detail


def test_t1_inconclusive_inside_the_seed_spread_or_a_prediction():
    close = Measurements(rows=ROWS, times={"rpi4": {k: seeds(10.0, 11.0, 9.0) for k in t1_times(8.0)}})
    assert verdicts(close)["T1"] == INCONCLUSIVE
    predicted = {k: Stat.of([v.mean], predicted=True, expected_error_pct=15.0)
                 for k, v in t1_times(9.5).items()}
    assert verdicts(Measurements(rows=ROWS, times={"rpi4": predicted}))["T1"] == PREDICTED


def test_t1_on_a_cpu_only_run_is_not_testable_with_the_cpu_comparison_as_context():
    m = Measurements(rows=ROWS, times={"cpu": t1_times(25.0)})
    t1 = check_claims(m)[0]
    assert t1.measured.verdict == "not testable here (needs gpu, rpi4)"
    ghost = next(p for p in t1.measured.parts if p.what == "ThreshNet79 faster than GhostNet")
    assert ghost.verdict == "not testable here (needs gpu, rpi4)" and len(t1.measured.parts) == 5  # one per ratio
    assert "on this CPU ThreshNet79 is 2.3x slower than GhostNet (95 % CI of the ratio [" in ghost.detail
    assert ghost.detail.endswith("]): the claim does not carry over to this CPU")


@pytest.mark.parametrize("t79", [2.0, 30.0])  # far faster or far slower than the others: still never decided
def test_predictions_never_decide_a_claim(t79):
    predicted = {k: Stat.of([v.mean], predicted=True, expected_error_pct=5.0) for k, v in t1_times(t79).items()}
    result = check_claims(Measurements(rows=ROWS, times={"rpi4": predicted}))
    t1 = result[0]
    assert t1.measured.verdict == PREDICTED
    assert {p.verdict for p in t1.measured.parts} == {PREDICTED}
    assert all("never decides" in p.detail for p in t1.measured.parts)
    t3_pi = result[2].measured.parts[1]
    assert t3_pi.verdict == PREDICTED and "never decides" in t3_pi.detail


def test_a_measured_device_still_decides_beside_a_predicted_one():
    predicted = {k: Stat.of([v.mean], predicted=True, expected_error_pct=5.0) for k, v in t1_times(2.0).items()}
    m = Measurements(rows=ROWS, times={"rpi4": predicted, "gpu": t1_times(30.0)})
    assert verdicts(m)["T1"] == NOT_REPRODUCED  # the GPU measurement contradicts it; the prediction is no evidence


def test_a_busy_measurement_never_decides():
    busy = {k: Stat.of(v.values, busy=True) for k, v in t1_times(8.0).items()}
    t1 = check_claims(Measurements(rows=ROWS, times={"rpi4": busy}))[0]
    assert t1.measured.verdict == INCONCLUSIVE
    assert {p.verdict for p in t1.measured.parts} == {"inconclusive (busy machine)"}


# --- T2, T6: parameters ---------------------------------------------------------------------------------

def test_t2_equal_heads():
    ok = Measurements(params_trained={"ThreshNet95": 16.19, "HarDNet85": 35.40},
                      params_published={"ThreshNet95": 16.19, "HarDNet85": 36.67})
    assert verdicts(ok)["T2"] == REPRODUCED  # 54.3 %, within a point of the claimed 55 %
    bad = Measurements(params_trained={"ThreshNet95": 16.19, "HarDNet85": 20.0})
    assert verdicts(bad)["T2"] == NOT_REPRODUCED


def test_t6_both_directions():
    fewer = Measurements(params_trained={"ThreshNet79": 14.37, "HarDNet68": 16.56},
                         params_published={"ThreshNet79": 14.37, "HarDNet68": 17.57})
    assert verdicts(fewer)["T6"] == REPRODUCED
    more = Measurements(params_trained={"ThreshNet79": 18.0, "HarDNet68": 16.56},
                        params_published={"ThreshNet79": 18.0, "HarDNet68": 17.57})
    assert verdicts(more)["T6"] == NOT_REPRODUCED


# --- T3, T4: errors -----------------------------------------------------------------------------------------

def _t3(e79: Stat, e68: Stat, **kw) -> Measurements:
    times = {"rpi4": {"ThreshNet79": seeds(50.0, 50.5, 49.5), "HarDNet68": seeds(60.0, 60.5, 59.5)}}
    return Measurements(rows=ROWS, errors_final={"ThreshNet79": e79, "HarDNet68": e68}, times=times, **kw)


def test_t3_outcomes_on_final_epoch_errors_with_the_relative_claim_converted():
    assert verdicts(_t3(seeds(13.6, 13.7, 13.5), seeds(14.7, 14.6, 14.8)))["T3"] == REPRODUCED
    assert verdicts(_t3(seeds(14.0, 14.1, 13.9), seeds(14.7, 14.6, 14.8)))["T3"] == PARTIAL
    assert verdicts(_t3(seeds(15.6, 15.7, 15.5), seeds(14.7, 14.6, 14.8)))["T3"] == NOT_REPRODUCED
    assert verdicts(_t3(seeds(14.0, 15.0, 13.0), seeds(14.7, 13.6, 15.8)))["T3"] == INCONCLUSIVE
    part = check_claims(_t3(seeds(13.6, 13.7, 13.5), seeds(14.7, 14.6, 14.8)))[2].measured.parts[0]
    assert "7 % relative = 1.03 pp at the published HarDNet68 14.66 %" in part.detail


def test_best_epoch_errors_are_shown_but_never_decide():
    m = _t3(seeds(15.6, 15.7, 15.5), seeds(14.7, 14.6, 14.8))
    m.errors = {"ThreshNet79": seeds(13.0, 13.1, 12.9), "HarDNet68": seeds(14.7, 14.6, 14.8)}
    part = check_claims(m)[2].measured.parts[0]
    assert part.verdict == NOT_REPRODUCED and "best-epoch 13.00 %" in part.detail and "final - best" in part.detail


def test_errors_of_a_smoke_run_test_no_accuracy_claim():
    m = _t3(seeds(13.6, 13.7, 13.5), seeds(14.7, 14.6, 14.8), errors_meaningful=False,
            error_context="smoke run: 1 epoch")
    result = check_claims(m)[2]
    assert result.measured.verdict == INCONCLUSIVE and "smoke run" in result.measured.parts[0].detail


def test_single_seed_error_is_inconclusive_one_seed_with_the_binomial_floor():
    m = _t3(Stat.of([13.0]), Stat.of([14.5]), test_images=10000)
    part = check_claims(m)[2].measured.parts[0]
    assert part.verdict == ONE_SEED and "binomial spread" in part.detail and "lower" in part.detail
    assert verdicts(m)["T3"] == INCONCLUSIVE


def test_t4_lowest_error_and_gpu():
    errors = {r: seeds(15.0, 15.1, 14.9) for r in ROWS} | {"ThreshNet95": seeds(13.0, 13.1, 12.9)}
    gpu = {"ThreshNet95": seeds(0.40, 0.41, 0.39), "HarDNet85": seeds(0.50, 0.51, 0.49)}
    assert verdicts(Measurements(rows=ROWS, errors_final=errors, times={"gpu": gpu}))["T4"] == REPRODUCED
    beaten = errors | {"EfficientNetB0": seeds(12.0, 12.1, 11.9)}
    assert verdicts(Measurements(rows=ROWS, errors_final=beaten, times={"gpu": gpu}))["T4"] == NOT_REPRODUCED
    no_gpu = check_claims(Measurements(rows=ROWS, errors_final=errors, times={"cpu": gpu}))[3]
    assert no_gpu.measured.verdict == "not testable here (needs gpu)"
    cpu = no_gpu.measured.parts[-1]  # the direction agrees: context in neutral words, never a failure
    assert cpu.detail == ("on this CPU ThreshNet95 is 1.2x faster than HarDNet85 (same direction as claimed; this "
                          "CPU is outside the claim's scope)")


def test_t5_pi_part():
    fast = {"ThreshNet28": seeds(40.0, 40.2, 39.8), "ShuffleNet": seeds(48.0, 48.2, 47.8)}
    gpu = {r: seeds(0.5, 0.51, 0.49) for r in ROWS} | {"ThreshNet28": seeds(0.3, 0.31, 0.29)}
    assert verdicts(Measurements(rows=ROWS, times={"rpi4": fast, "gpu": gpu}))["T5"] == REPRODUCED
    slow = {"ThreshNet28": seeds(60.0, 60.2, 59.8), "ShuffleNet": seeds(48.0, 48.2, 47.8)}
    assert verdicts(Measurements(rows=ROWS, times={"rpi4": slow}))["T5"] == NOT_REPRODUCED


# --- the paper's own table ------------------------------------------------------------------------------

def test_own_table_verdicts():
    own = {r.claim.id: r.own_table for r in check_claims(Measurements(rows=ROWS))}
    assert own["T1"].verdict == NOT_SUPPORTED  # GhostNet 6.7 % on the GPU column, not 9 %
    assert "GhostNet +6.7 %" in own["T1"].parts[0].detail
    assert own["T2"].verdict == QUESTIONABLE and "mix a 10-class" in own["T2"].parts[1].detail
    assert own["T3"].verdict == SUPPORTED and "6.8 %" in own["T3"].parts[0].detail
    assert own["T4"].verdict == SUPPORTED
    assert own["T5"].verdict == SUPPORTED
    assert own["T6"].verdict == QUESTIONABLE and "14.37" in own["T6"].parts[1].detail


def test_untestable_parts_name_every_device_they_need():
    assert all_parts(["not testable here (needs rpi4)", "not testable here (needs gpu)"]) == \
        "not testable here (needs rpi4, gpu)"
    cpu = {"ThreshNet28": seeds(0.3, 0.31, 0.29), "ShuffleNet": seeds(0.5, 0.51, 0.49)}
    assert verdicts(Measurements(rows=ROWS, times={"cpu": cpu}))["T5"] == "not testable here (needs rpi4, gpu)"
