"""What the report hands the rule: per-round times with their dispersion and the busy flag of timing records."""

from __future__ import annotations

import pandas as pd
import pytest

from suite.analysis.results import flatten
from suite.report.tables import time_stat


def _lines(records: list[dict]) -> pd.DataFrame:
    return pd.DataFrame([flatten({"model": "m", "dataset": "cifar10", "seed": i, "status": "ok",
                                  "latency": {"cpu": rec}}) for i, rec in enumerate(records)])


def test_rounds_dispersion_and_busy_reach_the_stat():
    df = _lines([{"per_image_ms": 1.0, "per_image_iqr_ms": 0.05}, {"per_image_ms": 1.2, "per_image_iqr_ms": 0.18}])
    stat = time_stat(df, "cpu_per_image_ms", "cpu_per_image_iqr_ms", "cpu")
    assert stat.values == (1.0, 1.2) and stat.dispersion == pytest.approx(0.15) and stat.busy is False
    busy = _lines([{"per_image_ms": 1.0, "busy": False}, {"per_image_ms": 1.1, "busy": True}])
    assert time_stat(busy, "cpu_per_image_ms", "cpu_per_image_iqr_ms", "cpu").busy is True
