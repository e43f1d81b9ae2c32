"""The predictor in the field's terms: rank correlation and the share of models within +-10 % and +-25 %.

Both are taken over the leave-one-model-out predictions (each model predicted by a fit that never saw it), per
model against the mean of its published times, for the selected predictor and for a FLOPs-only baseline
(``FLOPS_BASELINE``: time proportional to the multiply-accumulates, fitted the same way), so a reader sees
whether the cost model beats FLOPs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from scipy import stats

if TYPE_CHECKING:
    from suite.timing.rpi4.calibration import Calibration

FLOPS_BASELINE = ("gmacs",)  # MACs, proportional to FLOPs: the same ranking and the same fit up to a constant
WITHIN = (10.0, 25.0)


def agreement(cal: Calibration) -> dict:
    """Spearman rho of LOO prediction vs published mean, and the share of models within each band (%)."""
    published: dict[str, list[float]] = {}
    for p in cal.points:
        published.setdefault(p.model, []).append(p.time_ms)
    models = list(published)
    measured = np.array([float(np.mean(published[m])) for m in models])
    predicted = np.array([cal.loo_prediction_ms[m] for m in models])
    rho = stats.spearmanr(predicted, measured).statistic if len(models) > 2 else float("nan")
    errors = np.array([cal.loo_error_pct[m] for m in models])
    out = {"models": len(models), "spearman_rho": float(rho), "mean_error_pct": float(np.mean(errors))}
    for band in WITHIN:
        out[f"within_{band:g}_pct_share"] = float(np.mean(errors <= band))
    return out
