"""Compare two runs, model by model: is each difference inside the noise?

The noise rules are the claims' (``suite.analysis.stats.compare``, two combined sigmas): the seed spread where a row
has several seeds, else the test-set size for an error (binomial standard error) and the timing IQR for a time;
complexity figures are exact, so any difference is a change. A predicted time is compared with its expected
error as its spread.

Each value brings its own spread, so a noisy (e.g. busy) measurement widens the band only by its own sigma; and
since a timing IQR measured under load can be as wide as the time itself, a band never hides a large change:
a time that changed by more than ``ALWAYS_REPORTED`` x (either way) is always reported as changed.

A time is never an exact value: step, epoch and inference times are compared against their measured spread
(the seeds' or measurement rounds', else the IQR of the timed steps, of the epochs or of the timing runs). Where
one side has no measured spread (one timed step, one epoch) the other side's stands in for it; where neither
has one the time is not judged (``NO_SPREAD``): only a change beyond ``ALWAYS_REPORTED`` x is reported.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import pandas as pd

from suite.analysis.results import time_column, timed_hardware
from suite.analysis.stats import Stat, compare, fmt_stat
from suite.report.tables import error_stat, time_stat

ERRORS = (("error_best_pct", "best error %", False), ("error_final_pct", "final error %", False),
          ("top5_acc_pct", "top-5 acc %", True))
TRAIN_TIMES = (("step_time_ms", "step ms", "step_time_iqr_ms"), ("epoch_time_s", "epoch s", "epoch_time_iqr_s"))
ALWAYS_REPORTED = 2.0  # a time ratio beyond this is a change, whatever the spread
NO_SPREAD = "no spread measured: not judged"
EXACT = (("published_torchstat_params_m", "#params M (224)"), ("published_torchstat_flops_g", "FLOPs G (224)"),
         ("trained_torchstat_params_m", "#params M (trained)"), ("trained_torchstat_flops_g", "FLOPs G (trained)"))


@dataclass
class Difference:
    model: str
    dataset: str
    metric: str
    a: str
    b: str
    delta: float
    noise: float  # two combined sigmas: a difference larger than this is a change (nan: no spread measured)
    changed: bool
    why: str  # where the noise comes from

    def to_dict(self) -> dict:
        out = asdict(self)
        if math.isnan(self.noise):
            out["noise"] = None  # JSON has no NaN: no spread was measured
        return out


def _pairs(a: pd.DataFrame, b: pd.DataFrame):
    keys = sorted(set(zip(a["model"], a["dataset"], strict=True)) & set(zip(b["model"], b["dataset"], strict=True)))
    for model, dataset in keys:
        yield model, dataset, a[(a.model == model) & (a.dataset == dataset)], b[(b.model == model) &
                                                                                 (b.dataset == dataset)]


def _ratio(sa: Stat, sb: Stat) -> float | None:
    lo, hi = sorted((abs(sa.mean), abs(sb.mean)))
    return None if lo <= 0 else hi / lo


def _diff(model, dataset, metric, sa: Stat | None, sb: Stat | None, *, time: bool = False) -> Difference | None:
    if sa is None or sb is None:
        return None
    changed = compare(sa, sb) != 0
    sources = sorted({s.sigma_source for s in (sa, sb) if s.sigma > 0}) or ["exact values"]
    noise = 2.0 * (sa.sigma ** 2 + sb.sigma ** 2) ** 0.5
    ratio = _ratio(sa, sb) if time else None
    if time and max(sa.sigma, sb.sigma) <= 0:
        # a time with no spread measured is not exact: its difference cannot be told from the noise
        changed, noise, sources = False, math.nan, [NO_SPREAD]
    elif time and min(sa.sigma, sb.sigma) <= 0:
        # one side has no spread of its own: the same model's other measurement stands in for it
        sigma = max(sa.sigma, sb.sigma)
        noise = 2.0 * math.sqrt(2.0) * sigma
        changed = abs(sb.mean - sa.mean) > noise
        sources.append("the other side's spread for both")
    if ratio is not None and ratio > ALWAYS_REPORTED:
        changed = True
        sources.append(f"{ratio:.3g}x: more than {ALWAYS_REPORTED:g}x is always a change")
    busy = [side for side, s in (("A", sa), ("B", sb)) if s.busy]
    if busy:
        sources.append(f"{' and '.join(busy)} measured on a busy machine")
    return Difference(model, dataset, metric, fmt_stat(sa), fmt_stat(sb), sb.mean - sa.mean, noise, changed,
                      ", ".join(sources))


def differences(a: pd.DataFrame, b: pd.DataFrame) -> list[Difference]:
    """Every (model, dataset) both runs measured, metric by metric (B minus A)."""
    out: list[Difference] = []
    hardware = sorted(set(timed_hardware(a)) & set(timed_hardware(b)))
    for model, dataset, la, lb in _pairs(a, b):
        found = [_diff(model, dataset, label, error_stat(la, col, accuracy=acc), error_stat(lb, col, accuracy=acc))
                 for col, label, acc in ERRORS]
        found += [_diff(model, dataset, label, time_stat(la, col, iqr), time_stat(lb, col, iqr), time=True)
                  for col, label, iqr in TRAIN_TIMES]
        for hw in hardware:
            for batch, label in ((None, f"{hw} ms/img"), (1, f"{hw} ms (batch 1)")):
                args = (time_column(hw, "ms", batch), time_column(hw, "iqr_ms", batch), hw)
                found.append(_diff(model, dataset, label, time_stat(la, *args), time_stat(lb, *args), time=True))
        for col, label in EXACT:
            va = la[col].dropna().tolist() if col in la else []
            vb = lb[col].dropna().tolist() if col in lb else []
            if va and vb:
                found.append(_diff(model, dataset, label, Stat.exact(va[0]), Stat.exact(vb[0])))
        out += [d for d in found if d is not None]
    return out


def only_in(a: pd.DataFrame, b: pd.DataFrame) -> tuple[list[str], list[str]]:
    ka = set(zip(a["model"], a["dataset"], strict=True))
    kb = set(zip(b["model"], b["dataset"], strict=True))
    return sorted(f"{m} ({d})" for m, d in ka - kb), sorted(f"{m} ({d})" for m, d in kb - ka)
