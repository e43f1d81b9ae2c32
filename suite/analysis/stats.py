"""A measured quantity over seeds, with the spread a comparison has to beat."""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Stat:
    mean: float
    std: float | None  # sample standard deviation over seeds (n >= 2), else None
    n: int
    sigma: float  # spread used to judge a difference: seed std, else a stated fallback (0 = exact)
    sigma_source: str  # "seeds", "test-set size", "timing IQR", "prediction" or "exact"
    predicted: bool = False
    expected_error_pct: float | None = None
    values: tuple[float, ...] = ()  # per seed (or per measurement round), in seed order: what verdicts test
    busy: bool = False  # a time measured while the machine was busy: shown, never decides
    dispersion: float | None = None  # times: the largest IQR / median of the rounds

    @classmethod
    def of(cls, given: Iterable[float | None], *, fallback: float | None = None, fallback_source: str = "exact",
           predicted: bool = False, expected_error_pct: float | None = None, busy: bool = False,
           dispersion: float | None = None) -> Stat | None:
        values = [float(v) for v in given if v is not None and math.isfinite(float(v))]
        if not values:
            return None
        mean = statistics.fmean(values)
        std = statistics.stdev(values) if len(values) > 1 else None
        sigma, source = (std, "seeds") if std is not None else (fallback or 0.0, fallback_source)
        if predicted and expected_error_pct is not None:
            # a prediction is no better than its calibration error, whatever the seed spread
            pred_sigma = abs(mean) * expected_error_pct / 100.0
            if pred_sigma > sigma:
                sigma, source = pred_sigma, "prediction"
        return cls(mean, std, len(values), sigma, source, predicted, expected_error_pct, tuple(values), busy,
                   dispersion)

    @classmethod
    def exact(cls, value: float | None) -> Stat | None:
        return None if value is None else cls(float(value), None, 1, 0.0, "exact")

    def to_dict(self) -> dict[str, Any]:
        return {"mean": self.mean, "std": self.std, "n": self.n, "sigma": self.sigma,
                "sigma_source": self.sigma_source, "predicted": self.predicted,
                "expected_error_pct": self.expected_error_pct, "values": list(self.values), "busy": self.busy,
                "dispersion": self.dispersion}


def compare(a: Stat | None, b: Stat | None, *, k: float = 2.0) -> int | None:
    """-1 if a is clearly below b, +1 clearly above, 0 inside k combined sigmas, None if either is missing."""
    if a is None or b is None:
        return None
    diff = a.mean - b.mean
    noise = k * math.hypot(a.sigma, b.sigma)
    if abs(diff) <= noise or diff == 0:
        return 0
    return -1 if diff < 0 else 1


def binomial_sigma_pct(error_pct: float, n_test: int | None) -> float | None:
    """Standard error (percentage points) of a test error measured on n_test images."""
    if not n_test:
        return None
    p = min(max(error_pct / 100.0, 0.0), 1.0)
    return 100.0 * math.sqrt(p * (1 - p) / n_test)


def fmt_num(v: float | None, digits: int = 2) -> str:
    if v is None:
        return "—"
    return f"{v:.{digits}f}"


def time_digits(v: float | None) -> int:
    return 2 if v is not None and abs(v) < 10 else 1


def fmt_stat(s: Stat | None, digits: int | None = None) -> str:
    """'14.21', '14.21 ± 0.30' (several seeds) or '61.9*' (predicted)."""
    if s is None:
        return "—"
    d = digits if digits is not None else time_digits(s.mean)
    text = f"{s.mean:.{d}f}"
    if s.std is not None and not s.predicted:  # a prediction does not vary with the seed
        text += f" ± {s.std:.{d}f}"
    if s.predicted:
        text += "*"
    return text
