"""Raspberry Pi 4 latency predictor: a model's per-image time on the Pi 4 the ThreshNet/TripleNet authors used.

Off a Pi the suite cannot measure, so it predicts, and says so: every prediction carries ``predicted: true``,
its expected error and how it was obtained. ``python -m suite calibration rpi4`` prints everything below.

**Features** (``features.py``, ``extract_features``): what torch 1.11 on the Pi's aarch64 (no oneDNN) executes
for one 32x32 image at batch 1, fp32, derived from one traced forward pass here, not measured on a Pi: calls,
with a grouped or depthwise convolution expanded into one small im2col + GEMM convolution per group plus the
cat of their outputs (a depthwise layer of C channels is C calls); MACs split by whether OpenBLAS runs the
GEMM on four threads or one; bytes moved split into weights (streamed from DRAM once per image) and activations
(+ im2col buffers + per-group copies).

**Calibration** (``suite/resources/rpi4_calibration.csv``): every published Pi 4 time of this setup (Pi 4
Model B 4 GB, torch 1.11, CIFAR 32x32): ThreshNet Tables III and IV (10 points) and the TripleNet README table
(9 points): 19 points, 11 models, each built from the zoo with the head of the published code (column
``head``; TripleNet 1000). Every point is kept, also where the README repeats Table III's value (ThreshNet28
45.3, MobileNetV2 67.4). The same model's published times differ by up to 25 % (MobileNetV2 52.1-67.4 ms), and
TripleNet-S / -B differ by 60 % (40.6 vs 65.1 ms) for one extra bottleneck at 1x1 (4 convs, 10 MB of weights):
label noise that bounds any predictor.

**Fit**: non-negative least squares on relative residuals, no free intercept beyond the ``one`` feature. The
cost model is chosen among 24 complete candidates (``CANDIDATE_FORMS``): fixed cost per image + per-call cost
(one rate, or issued ops and per-group calls apart) + arithmetic (none, one rate, GEMM and small apart, small
only) + memory (all bytes, weights only, weights and activations apart), by the mean per-model
leave-one-model-out error. With the zoo as of writing the selection on all points is
``time_ms = 26.8 ms + 4.05 us * calls + 1973 ms/GMAC * small-GEMM GMACs + 0.407 ms/MB * weight MB``
(0.51 GMAC/s for single-threaded small GEMMs, 2.5 GB/s for weights; multi-threaded GEMM arithmetic and
cache-resident activations get no weight of their own).

**Expected error**: nested leave-one-model-out: for each model, every point of it is removed, the form is
selected and fitted on the other models only, and the model is predicted. As of writing: **18.9 % mean over
the 11 models** (16.9 % over the 19 points), worst **triplenet_s 38.0 %**; per model threshnet28 16.9,
shufflenet_cifar 9.7, threshnet79 0.8, hardnet68 1.7, mobilenetv2_cifar 28.4, triplenet_s 38.0, triplenet_b
14.9, mobilenet_cifar 32.2, threshnet95 18.9, efficientnet_b0_cifar 13.2, hardnet85 33.5 %. The selected form's
plain LOO (14.8 %) is optimistic and only reported. The form written down before any held-out error was seen
(``PRIOR_FORM``: calls, GEMM and small GMACs, all bytes; no fixed cost) scores 22.6 % / worst 48.4 %
(hardnet85); a constant scores 26.8 % / 42.8 %. The candidate family itself was laid out after those first
results (a fixed cost and weight-only bytes helped), which the nested figure cannot account for.
A calibration model is always predicted by its own held-out form and fit (``held_out``), so no prediction the
report sets beside a published Pi time has seen that time. Features of the calibration models are cached on disk
(keyed by this package's feature code, torch, the calibration data and every zoo file), the fit per process.
"""

from suite.timing.rpi4.calibration import (
    CALIBRATION_FILE,
    CALIBRATION_INPUT,
    CANDIDATE_FORMS,
    METHOD,
    PRIOR_FORM,
    REFERENCE_FITS,
    Calibration,
    CalibrationPoint,
    calibrate,
    calibration,
    calibration_features,
    fit_coefficients,
    load_points,
    select_form,
)
from suite.timing.rpi4.features import FEATURE_UNITS, FEATURES_VERSION, Features, extract_features
from suite.timing.rpi4.predict import Prediction, predict


def calibration_input_size() -> tuple[int, int, int]:
    return CALIBRATION_INPUT


__all__ = [
    "CALIBRATION_FILE", "CALIBRATION_INPUT", "CANDIDATE_FORMS", "FEATURES_VERSION", "FEATURE_UNITS", "METHOD",
    "PRIOR_FORM", "REFERENCE_FITS", "Calibration", "CalibrationPoint", "Features", "Prediction", "calibrate",
    "calibration", "calibration_features", "calibration_input_size", "extract_features", "fit_coefficients",
    "load_points", "predict", "select_form",
]
