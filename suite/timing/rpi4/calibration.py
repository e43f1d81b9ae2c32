"""Calibration: the published Pi 4 times, the non-negative fit, and its nested leave-one-model-out error.

Pure functions (``calibrate``, ``fit_coefficients``, ``select_form``) work on numbers so tests can feed them
constructed data; ``calibration()`` builds the zoo's calibration models once (features cached on disk) and fits.
"""

from __future__ import annotations

import csv
import functools
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from importlib import resources
from pathlib import Path

import numpy as np
import torch
from scipy.optimize import nnls

import suite
from suite.core.errors import DiskFullError, SuiteError
from suite.core.fileio import write_text_atomic
from suite.core.hostcache import cache_root
from suite.timing.profiles import PROFILES
from suite.timing.rpi4.features import FEATURE_UNITS, FEATURES_VERSION, Features, extract_features
from zoo.published import published_row

CALIBRATION_FILE = "rpi4_calibration.csv"
TIME_COLUMN = PROFILES["rpi4"].published[0].key  # the Pi 4's column in the published tables
CALIBRATION_INPUT = (3, 32, 32)  # every published Pi point is a 32x32 input (the CSV's input_size column)

# The candidate cost models. Each is complete: a fixed cost per image, a per-call cost (one rate for every
# call, or one for the ops the model issues and one for the per-group calls inside grouped convolutions),
# arithmetic (none, all MACs at one rate, GEMM and small MACs at two rates, or only the small ones) and memory
# traffic (all bytes, only the weights streamed from DRAM, or weights and activations at two rates).
CALL_TERMS = (("kcalls",), ("kops", "kgroup_calls"))
MAC_TERMS = ((), ("gmacs",), ("gmacs_gemm", "gmacs_small"), ("gmacs_small",))
BYTE_TERMS = (("mbytes",), ("mbytes_weights",), ("mbytes_weights", "mbytes_activations"))
CANDIDATE_FORMS = tuple(("one", *c, *m, *b) for c in CALL_TERMS for m in MAC_TERMS for b in BYTE_TERMS)
# A form fixed without looking at any held-out error (no fixed cost, one bandwidth): it misses the goal (see the
# package docstring), which is why the form is selected, with the selection inside the LOO.
PRIOR_FORM = ("kcalls", "gmacs_gemm", "gmacs_small", "mbytes")
# Reference fits, reported so a reader can judge what the features buy; never used to choose.
REFERENCE_FITS = {"constant": ("one",), "issued ops only": ("kops",), "MACs only": ("gmacs",),
                  "MACs, bytes and issued ops": ("gmacs", "mbytes", "kops"), "prior form": PRIOR_FORM}
METHOD = ("non-negative least squares on relative residuals over every published Pi 4 point; the cost model "
          "(fixed + per-call + arithmetic + memory terms) is selected among 24 candidates by leave-one-model-out; "
          "expected error = nested leave-one-model-out (selection and fit both without the held-out model)")


@dataclass(frozen=True)
class CalibrationPoint:
    model: str
    time_ms: float
    table: str  # e.g. "III (cifar10)"
    source: str  # full citation
    published_in: str = ""  # the published table that prints the time (zoo/data/published/<published_in>.csv)
    paper_row: str = ""
    head: int | None = None  # the classifier width the published code ran


def load_points() -> list[CalibrationPoint]:
    """The published Pi 4 times: the calibration file says which rows of which published tables (and the head
    their code ran); the times themselves are read from those tables, where the report reads them too."""
    text = resources.files("suite").joinpath("resources", CALIBRATION_FILE).read_text()
    return [CalibrationPoint(r["model"], _published_time(r["published_in"], r["paper_row"]),
                             f"{r['table']} ({r['dataset']})", r["source"], r["published_in"], r["paper_row"],
                             int(r["head"]))
            for r in csv.DictReader(text.splitlines())]


def _published_time(table: str, row: str) -> float:
    value = published_row(table, row)[TIME_COLUMN]
    if not isinstance(value, float):
        raise ValueError(f"{table}.csv row {row!r} prints no {TIME_COLUMN}")
    return value


def fit_coefficients(x: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Non-negative least squares of ``x @ coef ~ t`` on relative residuals (rows divided by ``t``)."""
    coef, _ = nnls(x / t[:, None], np.ones(len(t)))
    return coef


def _matrix(points: Sequence[CalibrationPoint], feats: Mapping[str, Mapping[str, float]], form) -> np.ndarray:
    return np.array([[feats[p.model][n] for n in form] for p in points], dtype=float)


def _loo(points: Sequence[CalibrationPoint], feats, form) -> dict[str, float]:
    """Plain leave-one-model-out of one form: model -> mean |relative error| over its points, in %."""
    models = list(dict.fromkeys(p.model for p in points))
    x, t = _matrix(points, feats, form), np.array([p.time_ms for p in points])
    errors = {}
    for m in models:
        held = np.array([p.model == m for p in points])
        pred = float(np.dot(fit_coefficients(x[~held], t[~held]), [feats[m][n] for n in form]))
        errors[m] = float(100 * np.mean(np.abs(pred - t[held]) / t[held]))
    return errors


def select_form(points: Sequence[CalibrationPoint], feats, forms: Sequence[tuple[str, ...]]) -> tuple[str, ...]:
    """The form with the lowest mean per-model LOO error on ``points``; of equals (a zero coefficient makes
    a larger form tie with a smaller one), the one with fewer features, then the first."""
    if len(forms) == 1:
        return tuple(forms[0])
    scores = [round(float(np.mean(list(_loo(points, feats, f).values()))), 6) for f in forms]
    return tuple(min(zip(scores, (len(f) for f in forms), range(len(forms)), forms, strict=True))[3])


@dataclass(frozen=True)
class Calibration:
    features: tuple[str, ...]  # the selected form
    coefficients: tuple[float, ...]  # fitted on every point
    points: tuple[CalibrationPoint, ...]
    model_features: dict[str, dict[str, float]]  # model -> every candidate feature (scaled)
    loo_features: dict[str, tuple[str, ...]]  # model -> the form selected without that model
    loo_coefficients: dict[str, tuple[float, ...]]  # model -> the fit without that model's points
    loo_prediction_ms: dict[str, float]
    loo_error_pct: dict[str, float]  # model -> mean |relative error| over its points (nested LOO)
    expected_error_pct: float  # mean over models of loo_error_pct
    expected_error_points_pct: float  # mean over points
    worst_model: str
    max_error_pct: float  # the worst model's error
    selected_form_loo_pct: float  # plain LOO of the selected form: optimistic, it was chosen on these points
    fit_error_pct: float  # in-sample mean |relative error| (optimistic, for comparison)
    candidate_forms: int = 1
    diagnostics: dict = field(default_factory=dict)  # LOO of reference fits; never used to choose
    skipped: tuple[str, ...] = ()  # calibration models the zoo does not have (their points are left out)
    agreement: dict = field(default_factory=dict)  # rank correlation and within-band shares, with the FLOPs baseline

    def predict_features(self, feats: Mapping[str, float], *, held_out: str | None = None) -> float:
        """The full fit's prediction, or with ``held_out`` a calibration model's: the fit that never saw it."""
        form = self.loo_features[held_out] if held_out is not None else self.features
        coef = self.loo_coefficients[held_out] if held_out is not None else self.coefficients
        return float(np.dot(coef, [feats[n] for n in form]))

    def to_dict(self) -> dict:
        per_model: dict[str, list[float]] = {}
        for p in self.points:
            per_model.setdefault(p.model, []).append(p.time_ms)
        spread = {m: 100 * (max(ts) - min(ts)) / (sum(ts) / len(ts)) for m, ts in per_model.items()}
        return {
            "source": sorted({p.source for p in self.points}),
            "data_file": f"suite/resources/{CALIBRATION_FILE}",
            "method": METHOD,
            "features": list(self.features),
            "coefficients": {n: {"value": c, "unit": FEATURE_UNITS[n][0], "meaning": FEATURE_UNITS[n][1]}
                             for n, c in zip(self.features, self.coefficients, strict=True)},
            "points": [asdict(p) for p in self.points],
            "model_features": {m: {n: f[n] for n in self.features} for m, f in self.model_features.items()},
            "loo_prediction_ms": self.loo_prediction_ms,
            "loo_error_pct": self.loo_error_pct,
            "loo_features": {m: list(f) for m, f in self.loo_features.items()},
            "expected_error_pct": self.expected_error_pct,
            "expected_error_points_pct": self.expected_error_points_pct,
            "max_loo_error_pct": self.max_error_pct,
            "worst_model": self.worst_model,
            "worst_model_error_pct": self.max_error_pct,
            "selected_form_loo_pct": self.selected_form_loo_pct,
            "in_sample_error_pct": self.fit_error_pct,
            "candidate_forms": self.candidate_forms,
            "table_disagreement_pct": spread,
            "reference_fits_loo_pct": self.diagnostics,
            "skipped_models": list(self.skipped),
            "agreement": self.agreement,
        }


def calibrate(points: Sequence[CalibrationPoint], model_features: Mapping[str, Mapping[str, float]],
              forms: Sequence[tuple[str, ...]] = CANDIDATE_FORMS) -> Calibration:
    """Select a form, fit it on all points, and measure the nested leave-one-model-out error (pure).

    For each model: select the form on the other models' points (by their own LOO), fit it on those points,
    predict the model. With a single form this is plain leave-one-model-out.
    """
    models = list(dict.fromkeys(p.model for p in points))
    if len(models) < 2 + (len(forms) > 1):
        raise ValueError("nested leave-one-model-out needs at least three calibration models (two for one form)")
    feats = {m: dict(model_features[m]) for m in models}
    t = np.array([p.time_ms for p in points])
    loo_form, loo_coef, loo_pred, loo_err, rel = {}, {}, {}, {}, np.zeros(len(points))
    for m in models:
        held = np.array([p.model == m for p in points])
        rest = [p for p in points if p.model != m]
        form = select_form(rest, feats, forms)
        coef = fit_coefficients(_matrix(rest, feats, form), t[~held])
        pred = float(np.dot(coef, [feats[m][n] for n in form]))
        rel[held] = (pred - t[held]) / t[held]
        loo_form[m], loo_coef[m], loo_pred[m] = form, tuple(float(c) for c in coef), pred
        loo_err[m] = float(100 * np.mean(np.abs(rel[held])))
    form = select_form(points, feats, forms)
    x = _matrix(points, feats, form)
    coef = fit_coefficients(x, t)
    worst = max(loo_err, key=loo_err.__getitem__)
    return Calibration(
        form, tuple(float(c) for c in coef), tuple(points), feats, loo_form, loo_coef, loo_pred, loo_err,
        float(np.mean(list(loo_err.values()))), float(100 * np.mean(np.abs(rel))), worst, loo_err[worst],
        float(np.mean(list(_loo(points, feats, form).values()))), float(100 * np.mean(np.abs(x @ coef - t) / t)),
        candidate_forms=len(forms))


# ---- the zoo's calibration models

def _cache_file() -> Path:
    return cache_root() / "rpi4_features.json"


def _cache_key(feature_code: Path | None = None, zoo_dir: Path | None = None) -> str:
    """Changes whenever the features could: feature code, torch, calibration data or any zoo file."""
    here = Path(__file__).resolve().parent
    feature_code = feature_code or here / "features.py"
    zoo_dir = zoo_dir or here.parents[1] / "zoo"
    h = hashlib.sha256(f"{suite.__version__}|{FEATURES_VERSION}|{torch.__version__}|{CALIBRATION_INPUT}".encode())
    h.update(feature_code.read_bytes())
    h.update(resources.files("suite").joinpath("resources", CALIBRATION_FILE).read_bytes())
    for f in sorted(p for p in zoo_dir.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
        h.update(str(f.relative_to(zoo_dir)).encode() + b"\0" + f.read_bytes())
    return h.hexdigest()


def calibration_features(models: Mapping[str, int | None]) -> dict[str, Features]:
    """Features of the calibration models (name -> published head) at 32x32, cached on disk."""
    import zoo

    key, path = _cache_key(), _cache_file()
    wanted = {f"{m}@{head}": (m, head) for m, head in models.items()}
    try:
        cached = json.loads(path.read_text())
        if (cached.get("key") == key and cached.get("suite_version") == suite.__version__
                and set(wanted) <= cached["features"].keys()):
            return {m: Features.from_dict(cached["features"][k]) for k, (m, _) in wanted.items()}
    except (OSError, ValueError, KeyError, TypeError):
        pass
    feats = {}
    for k, (m, head) in wanted.items():
        feats[k] = extract_features(zoo.create_structure(m, num_classes=head), CALIBRATION_INPUT)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # never a half-written cache for the next reader
        write_text_atomic(path, json.dumps({"key": key, "suite_version": suite.__version__,
                                            "features": {k: f.to_dict() for k, f in feats.items()}}))
    except (OSError, DiskFullError):
        pass  # a read-only home only costs the rebuild
    return {wanted[k][0]: f for k, f in feats.items()}


@functools.cache
def calibration() -> Calibration:
    """The fit on every published Pi 4 point whose model the zoo has (features cached on disk, fit per process)."""
    import zoo

    points = load_points()
    known = set(zoo.list_models())
    skipped = tuple(sorted({p.model for p in points} - known))
    points = [p for p in points if p.model in known]
    if len({p.model for p in points}) < 3:
        raise SuiteError(f"rpi4 prediction needs its calibration models in the zoo; missing: {', '.join(skipped)}")
    heads = {p.model: p.head for p in points}
    feats = {m: f.scaled() for m, f in calibration_features(heads).items()}
    cal = calibrate(points, feats)
    diagnostics = {}
    for label, form in REFERENCE_FITS.items():
        ref = calibrate(points, feats, (form,))
        diagnostics[label] = {"features": list(form), "loo_pct": ref.expected_error_pct,
                              "max_loo_pct": ref.max_error_pct, "worst_model": ref.worst_model}
    from suite.timing.rpi4.agreement import FLOPS_BASELINE, agreement

    flops = calibrate(points, feats, (FLOPS_BASELINE,))
    figures = {"predictor": agreement(cal), "flops_baseline": {**agreement(flops), "features": list(FLOPS_BASELINE)},
               "how": "leave-one-model-out predictions per model against the mean of its published times"}
    return replace(cal, diagnostics=diagnostics, skipped=skipped, agreement=figures)
