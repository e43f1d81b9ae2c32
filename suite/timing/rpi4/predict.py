"""A Pi 4 prediction for one model: features, the calibrated fit (held out for a calibration model), notes."""

from __future__ import annotations

from dataclasses import dataclass

from torch import nn

import zoo
from suite.timing.rpi4.calibration import CALIBRATION_INPUT, METHOD
from suite.timing.rpi4.features import extract_features

# A feature counts as extrapolated only this far outside the calibration range: a calibration model timed
# with its trained head instead of the published one moves its weight bytes by up to 9 % (ShuffleNet, 100 -> 10
# classes: 4.15 -> 3.80 MB), which is no extrapolation of the fit.
RANGE_SLACK = 0.10


@dataclass(frozen=True)
class Prediction:
    ms: float
    expected_error_pct: float
    method: str
    features: dict
    calibration: dict
    held_out: bool = False  # a calibration model, predicted by the fit without its own published times


def predict(model: nn.Module, input_size=(3, 32, 32), *, model_name: str | None = None) -> Prediction:
    """Predicted per-image Raspberry Pi 4 time of ``model`` at ``input_size`` (CPU model, fp32, batch 1)."""
    from suite.timing import rpi4  # the package's calibration(), so that a test can substitute it

    cal = rpi4.calibration()
    feats = extract_features(model, input_size)
    scaled = feats.scaled()
    # A calibration model is predicted out of sample: its published Pi times are exactly what a report
    # compares the prediction with, so neither the form nor the fit behind the prediction may have seen them.
    held_out = model_name if model_name in cal.loo_coefficients else None
    form = cal.loo_features[held_out] if held_out else cal.features
    ms = cal.predict_features(scaled, held_out=held_out)
    info = cal.to_dict()
    notes = []
    if tuple(input_size) != CALIBRATION_INPUT:
        notes.append(f"extrapolated: the calibration points are {CALIBRATION_INPUT} inputs, "
                     f"this prediction is at {tuple(input_size)}; expect a larger error than the LOO figure")
    seen = [f for m, f in cal.model_features.items() if m != held_out]  # what the fit behind it saw
    for name in form:
        values = [f[name] for f in seen]
        lo, hi, v = min(values), max(values), scaled[name]
        if not lo * (1 - RANGE_SLACK) <= v <= hi * (1 + RANGE_SLACK):
            notes.append(f"extrapolated: {name} = {v:.4g} is outside the calibration range "
                         f"[{lo:.4g}, {hi:.4g}]; expect a larger error than the LOO figure")
    if model_name is not None and _is_user_model(model_name):
        notes.append("extrapolated: a user's own network, not one of the calibration models' architectures; "
                     "expect a larger error than the LOO figure (measure it: `suite bundle` or rpi4@host)")
    if held_out:
        notes.append(f"{model_name} is a calibration model: predicted by the form and fit selected without its "
                     f"own published times (held out, {cal.loo_error_pct[held_out]:.1f} % error on them); the "
                     f"fit on all points would give {cal.predict_features(scaled):.1f} ms in-sample")
    info["notes"] = notes
    vector = {n: scaled[n] for n in form}
    return Prediction(ms, cal.expected_error_pct, METHOD, feats.to_dict() | {"fit_vector": vector}, info,
                      held_out=held_out is not None)


def _is_user_model(name: str) -> bool:
    try:
        return zoo.model_card(name).origin == "user"
    except zoo.UnknownModelError:
        return False
