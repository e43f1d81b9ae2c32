"""The columns papers print, as a catalogue: what each means, its unit, and where our measured value comes from.

A table declares the keys of the columns it printed (the published CSV's column names); the report shows
each one as (paper) / (ours) / Δ. ``measured_column`` names the flat column of ``suite.analysis.results.load`` that
holds our value for it, so one path leads from a published cell to the measured one beside it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from suite.timing.profiles import PROFILES
from zoo.registry import KeyedRegistry, UnknownName, unknown_message

TIME, ERROR, TRAIN_TIME, COMPLEXITY = "time", "error", "train_time", "complexity"


@dataclass(frozen=True)
class Metric:
    key: str  # the published CSV's column
    label: str
    group: str  # TIME, ERROR, TRAIN_TIME or COMPLEXITY
    digits: int = 2
    better: str = "lower"  # "lower" or "higher"
    delta: str = "rel"  # "rel": ours / paper - 1 in %; "pp": ours - paper in percentage points
    hardware: str | None = None  # TIME: the hardware profile it was timed on
    scale: float = 1.0  # published unit per measured unit (a time printed in s is measured in ms: 1e-3)
    source: str = ""  # TRAIN/ERROR/COMPLEXITY: the results column (TIME: derived from the table's Latency)
    unit: str = ""

    def measured_column(self, *, per_image: bool = True) -> str:
        if self.group == TIME:
            return f"{self.hardware}_{'per_image' if per_image else 'median'}_ms"
        return self.source


def _times() -> dict[str, Metric]:
    # one time column per paper column a hardware profile declares (suite.timing.profiles)
    return {col.key: Metric(col.key, f"{spec.label} {col.unit}", TIME, col.digits, hardware=spec.name,
                            scale=col.scale, unit=col.unit) for spec in PROFILES.values() for col in spec.published}


class MetricCatalogue(KeyedRegistry[Metric]):
    """The declared metrics after the time columns, which are read from the hardware profiles as they stand (a
    profile declared later brings its columns)."""

    def _all(self) -> dict[str, Metric]:
        return {**_times(), **self._entries}

    def __getitem__(self, key: str) -> Metric:
        found = self._all().get(key)
        if found is None:
            raise UnknownName(self.unknown(key))
        return found

    def __contains__(self, key: object) -> bool:
        return key in self._all()

    def __iter__(self) -> Iterator[str]:
        return iter(self._all())

    def __len__(self) -> int:
        return len(self._all())

    def unknown(self, name: str) -> str:
        return unknown_message(self.kind, name, self._all())


def _cx(key: str, label: str, field: str) -> Metric:
    # "as published": torchstat's convention at 3x224x224 with the published head
    return Metric(key, label, COMPLEXITY, 2, source=f"published_torchstat_{field}", unit=label.split()[-1])


METRICS = MetricCatalogue("metric", lambda m: m.key, (
    Metric("error_pct", "Error % best", ERROR, 2, delta="pp", source="error_best_pct", unit="%"),
    Metric("top1_acc_pct", "Top-1 acc %", ERROR, 2, better="higher", delta="pp", source="top1_acc_pct", unit="%"),
    Metric("top5_acc_pct", "Top-5 acc %", ERROR, 2, better="higher", delta="pp", source="top5_acc_pct", unit="%"),
    Metric("step_time_ms", "Step ms/batch", TRAIN_TIME, 1, source="step_time_ms", unit="ms"),
    Metric("epoch_time_s", "Epoch s", TRAIN_TIME, 2, source="epoch_time_s", unit="s"),
    _cx("flops_g", "FLOPs (G)", "flops_g"),
    _cx("madd_g", "MAdd (G)", "madd_g"),
    _cx("memory_mb", "Memory (MB)", "memory_mb"),
    _cx("params_m", "#Params (M)", "params_m"),
    _cx("memrw_mb", "MemR+W (MB)", "memrw_mb"),
    Metric("flops_m", "FLOPs (M)", COMPLEXITY, 0, source="published_torchstat_flops_m", unit="M"),
))


def metric(key: str) -> Metric:
    return METRICS[key]
