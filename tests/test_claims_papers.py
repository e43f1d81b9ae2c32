"""Claims R1 (ThresholdNet), P1 (TripleNet) and D1-D4 (DP-Net) on constructed measurements and on the papers'
own tables; every verdict is derived here from numbers the test controls."""

from __future__ import annotations

import pytest

from suite.analysis.stats import Stat
from suite.claims import (
    INCONCLUSIVE,
    NOT_REPRODUCED,
    NOT_SUPPORTED,
    PARTIAL,
    PREDICTED,
    REPRODUCED,
    SUPPORTED,
    Measurements,
    check,
)
from suite.tables import get_table


def seeds(v: float, spread: float = 0.01) -> Stat:
    return Stat.of([v, v * (1 + spread), v * (1 - spread)])


def one(table: str, ms: dict[str, Measurements]):
    (result,) = check(get_table(table), ms)
    return result


# --- R1: ThresholdNet, Tables VI and VII ---------------------------------------------------------------------

def _r1(step_v1: float, *, err_v2: float = 13.0, stl_step_v1: float = 80.0, stl_err: float = 25.0,
        hardware: str = "gpu") -> dict:
    """Measurements shaped like Tables VI/VII, ThresholdNet faster and (v2) more accurate than HarDNet68."""
    cifar = Measurements(values={
        "step_time_ms": {"DenseNet121": seeds(120.0), "HarDNet68": seeds(57.0), "ThresholdNet_v1": seeds(step_v1),
                         "ThresholdNet_v2": seeds(54.0)},
        "epoch_time_s": {"DenseNet121": seeds(60.0), "HarDNet68": seeds(28.0), "ThresholdNet_v1": seeds(24.0),
                         "ThresholdNet_v2": seeds(27.0)}},
        errors_final={"HarDNet68": seeds(14.7), "ThresholdNet_v1": seeds(13.7), "ThresholdNet_v2": seeds(err_v2)},
        devices={"train": "Test GPU"}, train_hardware=hardware)
    stl = Measurements(values={
        "step_time_ms": {"HarDNet68": seeds(113.0), "ThresholdNet_v1": seeds(stl_step_v1),
                         "ThresholdNet_v2": seeds(115.0)},
        "epoch_time_s": {"HarDNet68": seeds(4.8), "ThresholdNet_v1": seeds(4.4), "ThresholdNet_v2": seeds(5.4)}},
        errors_final={"HarDNet68": seeds(25.0, 0.001), "ThresholdNet_v1": seeds(stl_err, 0.001),
                      "ThresholdNet_v2": seeds(24.3, 0.001)}, train_hardware=hardware)
    return {"thresholdnet-6": cifar, "thresholdnet-7": stl}


def test_r1_reproduced_when_either_variant_shows_every_part():
    result = one("thresholdnet-6", _r1(45.0))
    assert result.measured.verdict == REPRODUCED
    assert "Test GPU" in result.measured.note


def test_r1_partially_reproduced_when_faster_but_not_by_the_claimed_20_percent():
    assert one("thresholdnet-6", _r1(52.0)).measured.verdict == PARTIAL


def test_r1_times_trained_on_a_cpu_are_not_evidence():
    result = one("thresholdnet-6", _r1(45.0, hardware="cpu"))
    assert result.measured.verdict == "not testable here (needs gpu)"


def test_r1_not_reproduced_when_both_variants_are_slower_than_hardnet():
    ms = _r1(47.0)
    for key in ("step_time_ms", "epoch_time_s"):
        for v in ("ThresholdNet_v1", "ThresholdNet_v2"):
            ms["thresholdnet-6"].values[key][v] = seeds(ms["thresholdnet-6"].values[key]["HarDNet68"].mean * 1.5)
    result = one("thresholdnet-6", ms)
    assert result.measured.verdict == NOT_REPRODUCED


def test_r1_not_reproduced_when_stl10_accuracy_differs_clearly():
    ms = _r1(47.0)
    ms["thresholdnet-7"].errors_final = {"HarDNet68": seeds(25.0), "ThresholdNet_v1": seeds(35.0),
                                         "ThresholdNet_v2": seeds(36.0)}
    assert one("thresholdnet-6", ms).measured.verdict == NOT_REPRODUCED


def test_r1_inconclusive_without_the_stl10_run():
    ms = _r1(47.0)
    del ms["thresholdnet-7"]
    assert one("thresholdnet-6", ms).measured.verdict == INCONCLUSIVE


def test_r1_own_tables():
    own = one("thresholdnet-6", {}).own_table
    assert own.verdict == NOT_SUPPORTED  # neither variant is 20 % faster than HarDNet68, nor 10 % on STL-10
    parts = {p.what: p for p in own.parts}
    assert parts["CIFAR-10: 60 % faster than DenseNet121"].verdict == SUPPORTED
    assert "ThresholdNet_v1 step +60.5 % (match)" in parts["CIFAR-10: 60 % faster than DenseNet121"].detail
    assert parts["CIFAR-10: 20 % faster than HarDNet68"].verdict == NOT_SUPPORTED
    assert "ThresholdNet_v1 step +17.5 %" in parts["CIFAR-10: 20 % faster than HarDNet68"].detail
    assert parts["CIFAR-10: 10 % lower error than HarDNet68"].verdict == SUPPORTED  # v2: 9.2 %
    assert parts["STL-10: 10 % faster than HarDNet68"].verdict == NOT_SUPPORTED  # v1 epoch 7.9 %, step 23 %


# --- P1: TripleNet-B on the Raspberry Pi 4 -------------------------------------------------------------------

def _p1(times: dict[str, float], *, predicted: bool = False) -> dict:
    def rounds(v: float) -> Stat:  # three measurement rounds, 0.1 % apart; a prediction is one value
        values = [v] if predicted else [v, v * 1.001, v * 0.999]
        return Stat.of(values, predicted=predicted, expected_error_pct=15.0 if predicted else None)

    stats = {k: rounds(v) for k, v in times.items()}
    return {"triplenet": Measurements(times={"rpi4": stats})}


PUBLISHED_PI = {"TripleNet-B": 65.1, "MobileNet": 76.8, "ThreshNet95": 77.9, "EfficientNetB0": 85.4,
                "HarDNet85": 92.5}


def test_p1_measured_three_ways():
    # the README's own times give 15.2 and 16.4 % where it claims 16 and 17 %: faster, not by the claimed size
    assert one("triplenet", _p1(PUBLISHED_PI)).measured.verdict == PARTIAL
    assert one("triplenet", _p1(dict(PUBLISHED_PI, **{"TripleNet-B": 60.0}))).measured.verdict == REPRODUCED
    slower = dict(PUBLISHED_PI, **{"TripleNet-B": 80.0})  # slower than MobileNet and ThreshNet95
    assert one("triplenet", _p1(slower)).measured.verdict == NOT_REPRODUCED


def test_p1_never_decided_by_predictions():
    result = one("triplenet", _p1(PUBLISHED_PI, predicted=True))
    assert result.measured.verdict == PREDICTED
    assert all(p.verdict == PREDICTED for p in result.measured.parts)


def test_p1_other_devices_are_context_only():
    ms = _p1(PUBLISHED_PI)
    ms["triplenet"].times["cpu"] = {k: seeds(v * 10) for k, v in PUBLISHED_PI.items()} | {
        "TripleNet-B": seeds(5000.0)}
    assert one("triplenet", ms).measured.verdict == PARTIAL  # a slow CPU does not refute a Pi claim
    assert any(p.verdict == "not testable here (needs rpi4)" for p in one("triplenet", ms).measured.parts)


def test_p1_own_table_rounds_up():
    own = one("triplenet", {}).own_table
    assert own.verdict == SUPPORTED
    assert [p.detail.split(": ")[1].split(" %")[0] for p in own.parts] == ["15.2", "16.4", "23.8", "29.6"]


# --- D1-D4: DP-Net ------------------------------------------------------------------------------------------

def test_d1_parameters_and_accuracy_price():
    m = Measurements(params_published={"DP-Net": 3.41, "MobileNetV3": 5.15},
                     values={"top1_acc_pct": {"DP-Net": seeds(69.0, 0.001), "MobileNetV3": seeds(70.15, 0.001)}})
    assert one("dpnet-4", {"dpnet-4": m}).measured.verdict == REPRODUCED  # 33.8 % fewer, 1.6 % lower
    m.values["top1_acc_pct"]["DP-Net"] = seeds(60.0, 0.001)  # a 14 % drop: far more than the claimed price
    assert one("dpnet-4", {"dpnet-4": m}).measured.verdict == NOT_REPRODUCED
    m.params_published["MobileNetV3"] = 5.48  # torchvision's count: 37.8 % fewer, not 33.8 %
    m.values["top1_acc_pct"]["DP-Net"] = seeds(69.0, 0.001)
    result = one("dpnet-4", {"dpnet-4": m})
    assert result.measured.parts[0].verdict == NOT_REPRODUCED and "5.48" in result.measured.note


def test_d1_errors_of_a_smoke_run_decide_nothing():
    m = Measurements(params_published={"DP-Net": 3.41, "MobileNetV3": 5.15}, errors_meaningful=False,
                     error_context="smoke run",
                     values={"top1_acc_pct": {"DP-Net": seeds(10.0), "MobileNetV3": seeds(70.0)}})
    part = one("dpnet-4", {"dpnet-4": m}).measured.parts[1]
    assert part.verdict == INCONCLUSIVE and "smoke run" in part.detail


def test_d2_flops():
    flops = {"DP-Net": 118.0, "MobileNetV3": 263.0, "GhostNet": 151.0, "MobileNetV2": 320.0}
    m = Measurements(values={"flops_m": {k: Stat.exact(v) for k, v in flops.items()}})
    assert one("dpnet-6", {"dpnet-6": m}).measured.verdict == REPRODUCED
    m.values["flops_m"]["DP-Net"] = Stat.exact(200.0)
    assert one("dpnet-6", {"dpnet-6": m}).measured.verdict == NOT_REPRODUCED


def test_d3_cpu_decides_only_its_part_and_the_pi_3b_is_never_predicted():
    cpu = {"DP-Net": seeds(100.0), "MobileNetV3": seeds(130.0), "GhostNet": seeds(120.0),
           "MobileNetV2": seeds(150.0)}
    result = one("dpnet-7", {"dpnet-7": Measurements(times={"cpu": cpu})})
    assert result.measured.verdict == INCONCLUSIVE  # the Raspberry Pi 3B part is not measured
    assert [p.verdict for p in result.measured.parts[:3]] == [REPRODUCED] * 3
    assert all("not measured on rpi3b" in p.detail for p in result.measured.parts[3:])
    cpu["DP-Net"] = seeds(140.0)
    assert one("dpnet-7", {"dpnet-7": Measurements(times={"cpu": cpu})}).measured.verdict == NOT_REPRODUCED
    pi = {k: seeds(v.mean * 30) for k, v in cpu.items()} | {"DP-Net": seeds(1000.0)}
    both = one("dpnet-7", {"dpnet-7": Measurements(times={"cpu": cpu | {"DP-Net": seeds(90.0)}, "rpi3b": pi})})
    assert both.measured.verdict == REPRODUCED


@pytest.mark.parametrize(("a", "verdict"), [(4.02, REPRODUCED), (6.0, NOT_REPRODUCED)])
def test_d4_presnet_parameters(a, verdict):
    m = Measurements(params_published={"ResNet18": 11.69, "P-ResNet18A": a, "P-ResNet18B": 3.67})
    assert one("dpnet-2", {"dpnet-2": m}).measured.verdict == verdict


def test_dpnet_own_tables_hold_their_arithmetic():
    for table in ("dpnet-2", "dpnet-4", "dpnet-6", "dpnet-7"):
        assert one(table, {}).own_table.verdict == SUPPORTED, table
