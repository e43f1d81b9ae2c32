"""The Raspberry Pi 4 predictor: features, calibration data, fit, leave-one-model-out error, Pi detection."""

from __future__ import annotations

import csv

import numpy as np
import pytest
import torch
from torch import nn

import zoo
from suite import hardware, rpi4
from suite.latency import measure_latency
from tests.conftest import SHARED

CALIBRATION_MODELS = ("threshnet28", "shufflenet_cifar", "threshnet79", "hardnet68", "mobilenetv2_cifar")


def _require_calibration_models():
    missing = [m for m in CALIBRATION_MODELS if m not in zoo.list_models()]
    if missing:
        pytest.skip(f"calibration models not registered in the zoo yet: {', '.join(missing)}")


def _points(times: dict[str, list[float]]) -> list[rpi4.CalibrationPoint]:
    return [rpi4.CalibrationPoint(m, t, f"T{i}", "synthetic")
            for m, ts in times.items() for i, t in enumerate(ts)]


# ---- fit and leave-one-model-out on synthetic data

def test_exact_linear_data_recovers_coefficients_and_zero_loo():
    rng = np.random.default_rng(0)
    vectors = {f"m{i}": tuple(rng.uniform(0.5, 2.0, 3)) for i in range(6)}
    true = np.array([2.0, 3.0, 0.5])
    times = {m: [float(np.dot(true, v))] * 2 for m, v in vectors.items()}
    cal = rpi4.calibrate(_points(times), vectors)
    assert np.allclose(cal.coefficients, true, atol=1e-9)
    assert cal.expected_error_pct == pytest.approx(0, abs=1e-6)
    assert all(e == pytest.approx(0, abs=1e-6) for e in cal.loo_error_pct.values())


def test_ratio_model_loo_by_hand():
    # One feature, x = 1 for all models, times 1, 2, 4. The relative-residual least squares ratio over a set S
    # is k = sum(1/t) / sum(1/t^2). Leaving out A (t=1): k = (1/2 + 1/4) / (1/4 + 1/16) = 2.4 -> error +140 %.
    # Leaving out B (t=2): k = (1 + 1/4) / (1 + 1/16) = 20/17 -> error |20/17 - 2| / 2.
    # Leaving out C (t=4): k = (1 + 1/2) / (1 + 1/4) = 1.2 -> error |1.2 - 4| / 4 = 70 %.
    vectors = {"A": (1.0,), "B": (1.0,), "C": (1.0,)}
    cal = rpi4.calibrate(_points({"A": [1.0], "B": [2.0], "C": [4.0]}), vectors, features=("one",))
    expected = {"A": 140.0, "B": 100 * abs(20 / 17 - 2) / 2, "C": 70.0}
    assert cal.loo_prediction_ms == pytest.approx({"A": 2.4, "B": 20 / 17, "C": 1.2})
    assert cal.loo_error_pct == pytest.approx(expected)
    assert cal.expected_error_pct == pytest.approx(sum(expected.values()) / 3)
    assert cal.max_error_pct == pytest.approx(140.0)
    assert cal.coefficients[0] == pytest.approx((1 + 1 / 2 + 1 / 4) / (1 + 1 / 4 + 1 / 16))


def test_loo_leaves_out_every_point_of_a_model():
    # Two points per model: the held-out model's error is the mean over its two points.
    vectors = {"A": (1.0,), "B": (1.0,), "C": (1.0,)}
    times = {"A": [1.0, 3.0], "B": [2.0, 2.0], "C": [2.0, 2.0]}
    cal = rpi4.calibrate(_points(times), vectors, features=("one",))
    # Without A, every point is 2 ms: k = 2, and A's errors are +100 % and -33.3 %.
    assert cal.loo_prediction_ms["A"] == pytest.approx(2.0)
    assert cal.loo_error_pct["A"] == pytest.approx((100 + 100 / 3) / 2)


def test_coefficients_are_non_negative():
    vectors = {"A": (1.0, 1.0), "B": (2.0, 1.0), "C": (3.0, 1.0)}
    cal = rpi4.calibrate(_points({"A": [3.0], "B": [2.0], "C": [1.0]}), vectors, features=("x", "one"))
    assert min(cal.coefficients) >= 0  # a decreasing trend cannot buy a negative cost


# ---- calibration data

def test_calibration_points_match_the_published_tables():
    points = rpi4.load_points()
    assert len(points) == 10 and {p.model for p in points} == set(CALIBRATION_MODELS)
    ref = SHARED / "reference" / "rpi4_published_times.csv"
    if not ref.is_file():
        pytest.skip(f"reference table not found at {ref}")
    rows = list(csv.DictReader(ref.open()))
    published = sorted(float(r["rpi4_time_ms"]) for r in rows)
    assert sorted(p.time_ms for p in points) == published


# ---- features

def test_features_of_a_hand_counted_model():
    model = nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1),  # dense: 8x8 out * 8 ch * 27 = 13824
        nn.Conv2d(8, 8, 3, padding=1, groups=8),  # depthwise: 512 * 9 = 4608
        nn.Conv2d(8, 16, 1),  # pointwise: 1024 * 8 = 8192
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),  # a view: no op, no traffic
        nn.Linear(16, 10),  # 160
    ).train()
    f = rpi4.extract_features(model, (3, 8, 8))
    macs = (f.conv_dense_macs, f.conv_grouped_macs, f.conv_pointwise_macs, f.linear_macs)
    assert macs == (13824, 4608, 8192, 160)
    assert f.macs == 13824 + 4608 + 8192 + 160
    assert f.ops == 5 and f.leaf_calls == 6
    # Elements read + written per op, weights excluded.
    elements = (192 + 512) + (512 + 512) + (512 + 1024) + (1024 + 16) + (16 + 10)
    assert f.bytes_moved == 4 * elements
    assert model.training and all(m.training for m in model)


def test_functional_ops_are_counted():
    class Cat(nn.Module):
        def forward(self, x):
            return torch.cat([x, x + 1], 1)

    f = rpi4.extract_features(Cat(), (2, 4, 4))
    assert f.ops == 2 and f.leaf_calls == 1  # add and cat
    assert f.bytes_moved == 4 * ((32 + 32) + (64 + 64))


# ---- Pi detection

def test_rpi4_detected_from_device_tree(tmp_path):
    dt = tmp_path / "model"
    dt.write_bytes(b"Raspberry Pi 4 Model B Rev 1.4\x00")
    p = hardware.get_profile("rpi4", device_tree=dt)
    assert p.native and p.threads == 4 and p.pi_model == "Raspberry Pi 4 Model B Rev 1.4"
    assert p.provenance()["pi_model"] == "Raspberry Pi 4 Model B Rev 1.4"


@pytest.mark.parametrize("content", [b"Raspberry Pi 3 Model B Plus Rev 1.3\x00", None])
def test_rpi4_predicted_elsewhere(tmp_path, content):
    dt = tmp_path / "model"
    if content is not None:
        dt.write_bytes(content)
    p = hardware.get_profile("rpi4", device_tree=dt, threads=2)
    assert not p.native and p.threads == 4 and p.pi_model is None
    assert any("ignored" in n for n in p.notes)


# ---- predictions

def test_prediction_plumbing_with_a_synthetic_calibration(monkeypatch):
    vectors = {"a": (0.01, 1.0, 0.1), "b": (0.02, 2.0, 0.2), "c": (0.03, 1.0, 0.3)}
    cal = rpi4.calibrate(_points({"a": [10.0], "b": [21.0], "c": [29.0]}), vectors)
    monkeypatch.setattr(rpi4, "calibration", lambda: cal)
    model = nn.Sequential(nn.Conv2d(3, 8, 3), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                          nn.Linear(8, 10))
    profile = hardware.get_profile("rpi4", device_tree=hardware.Path("/nonexistent/model"))
    res = measure_latency(model, profile, model_name="tiny").to_dict()
    assert res["predicted"] is True and res["runs"] == 0 and res["p90_ms"] is None
    assert res["expected_error_pct"] == pytest.approx(cal.expected_error_pct)
    feats = rpi4.extract_features(model, (3, 32, 32))
    assert res["median_ms"] == pytest.approx(cal.predict_vector(feats.vector()))
    assert res["calibration"]["loo_error_pct"] == pytest.approx(cal.loo_error_pct)
    assert res["provenance"]["measured_natively"] is False and "prediction" in res["provenance"]
    at224 = measure_latency(model, profile, input_size=(3, 224, 224)).to_dict()
    assert any("extrapolated" in n for n in at224["calibration"]["notes"])
    held = measure_latency(model, profile, model_name="a").to_dict()  # named as a calibration model
    assert held["held_out"] is True and res["held_out"] is False
    assert held["median_ms"] == pytest.approx(cal.predict_vector(feats.vector(), held_out="a"))
    assert held["median_ms"] != pytest.approx(res["median_ms"])  # the fit without a differs from the full one


def test_threshnet79_prediction_on_the_zoo():
    _require_calibration_models()
    model = zoo.create_model("threshnet79")
    profile = hardware.get_profile("rpi4", device_tree=hardware.Path("/nonexistent/model"))
    res = measure_latency(model, profile, model_name="threshnet79").to_dict()
    assert res["predicted"] is True and res["expected_error_pct"] > 0
    cal = res["calibration"]
    assert set(cal["loo_error_pct"]) == set(CALIBRATION_MODELS) and len(cal["points"]) == 10
    assert all(c["value"] >= 0 for c in cal["coefficients"].values())
    assert 10 < res["median_ms"] < 200  # the published points are 41-67 ms
    # a calibration model is predicted by the fit that never saw its published times
    assert res["held_out"] is True and res["median_ms"] == pytest.approx(cal["loo_prediction_ms"]["threshnet79"])
    assert any("held out" in n and "in-sample" in n for n in cal["notes"])
    other = measure_latency(zoo.create_model("squeezenet_cifar"), profile, model_name="squeezenet_cifar").to_dict()
    assert other["held_out"] is False and not any("held out" in n for n in other["calibration"]["notes"])
    # a calibration model timed with the trained 10-class head is not an extrapolation; GhostNet at 32x32 is
    shuffle = zoo.create_model("shufflenet_cifar", num_classes=10)
    notes = measure_latency(shuffle, profile, model_name="shufflenet_cifar").to_dict()["calibration"]["notes"]
    assert not any(n.startswith("extrapolated") for n in notes), notes
    ghost = measure_latency(zoo.create_model("ghostnet", num_classes=10), profile, model_name="ghostnet").to_dict()
    assert any(n.startswith("extrapolated: gmacs") for n in ghost["calibration"]["notes"])
