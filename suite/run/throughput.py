"""A training job's achieved throughput against its device's peak: ``Throughput``, computed by ``throughput``.

FLOPs per image come from the record's complexity as trained, the complete count (``suite.complexity``): 2 FLOPs
per multiply-accumulate of conv / linear / matmul ops. The papers' "FLOPs" (torchstat's convention) count
multiply-accumulates and are not used here. A training step costs about 3 forward passes (the backward pass
about twice the forward), so achieved = 3 x forward FLOPs per image x training images/s, where images/s is the
engine's training images over its training seconds (data path, forward, backward and optimizer step).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

from suite.device.peaks import Peak

_TEXT = ("peak_precision", "peak_source", "rule")
TRAIN_FACTOR = 3  # forward + backward (about twice the forward)
RULE = ("achieved GFLOP/s = 3 (forward + backward) x forward GFLOP per image x training images/s; forward "
        "GFLOP = 2 per multiply-accumulate of conv/linear/matmul ops (complete count, as trained; element-wise "
        "ops not counted)")


@dataclass(frozen=True)
class Throughput:
    """One job's training throughput; None where a figure is unknown (``peak_source`` says why for the peak)."""

    images_per_s: float | None
    gflop_per_image: float | None  # forward pass, real floating-point operations
    achieved_gflops: float | None
    peak_gflops: float | None
    peak_precision: str | None
    peak_source: str
    share_of_peak: float | None  # achieved / peak, a fraction
    rule: str = RULE

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Any) -> Throughput | None:
        """A stored one, None for anything that is not (a line of an older version has none)."""
        if not isinstance(data, dict):
            return None
        values: dict[str, Any] = {}
        for f in fields(cls):
            value = data.get(f.name)
            if f.name in _TEXT:
                values[f.name] = str(value) if value is not None else ("" if f.name != "peak_precision" else None)
            else:  # a figure: a number or None, whatever a hand-edited line holds
                values[f.name] = _number(value)
        values["rule"] = values["rule"] or RULE
        return cls(**values)

    def describe(self) -> str:
        """One line: images/s, achieved GFLOP/s and its share of the peak (or why there is none)."""
        if self.images_per_s is None:
            return "throughput unknown (no timed training epoch)"
        text = f"{self.images_per_s:,.0f} img/s"
        if self.achieved_gflops is None:
            return text + " (FLOPs per image unknown)"
        text += f", {self.achieved_gflops:,.1f} GFLOP/s"
        if self.share_of_peak is None or self.peak_gflops is None:
            return text + f" ({self.peak_source or 'peak unknown'})"
        return text + (f" = {100 * self.share_of_peak:.1f} % of the {self.peak_gflops:,.0f} GFLOP/s "
                       f"{self.peak_precision} peak")


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def gflop_per_image(complexity: dict | None, image_size: int | None = None) -> float | None:
    """Forward GFLOP per image from a record's complexity (``{"trained": {"complete": {...}}}``); None where
    the recipe trained at another ``image_size`` than the complexity was counted at."""
    trained = (complexity or {}).get("trained") or {}
    counted = list(trained.get("input_size") or [])[1:]
    if image_size is not None and counted and counted != [image_size, image_size]:
        return None
    complete = trained.get("complete") or {}
    macs = _number(complete.get("macs"))
    if macs is not None:
        return 2.0 * macs / 1e9
    flops = _number(complete.get("flops"))  # the complete count's flops are 2 x its MACs already
    return flops / 1e9 if flops is not None else None


def training_images_per_s(train: dict | None) -> float | None:
    """Training images over training seconds, summed over the engine's epochs (its ``images_per_s`` else)."""
    history = [h for h in (train or {}).get("history") or [] if isinstance(h, dict)]
    images = sum(_number(h.get("train_images")) or 0.0 for h in history)
    seconds = sum(_number(h.get("train_seconds")) or 0.0 for h in history)
    if images > 0 and seconds > 0:
        return images / seconds
    value = _number((train or {}).get("images_per_s"))
    return value if value is not None and value > 0 else None


def throughput(images_per_s: float | None, gflop: float | None, peak: Peak) -> Throughput:
    """The one rule (``RULE``): achieved GFLOP/s and its share of ``peak``."""
    achieved = TRAIN_FACTOR * gflop * images_per_s if gflop is not None and images_per_s is not None else None
    share = achieved / peak.gflops if achieved is not None and peak.gflops else None
    return Throughput(images_per_s, gflop, achieved, peak.gflops, peak.precision, peak.source, share)


def basis(gflop: float | None, peak: Peak) -> dict:
    """What a job's throughput is set against, known before it trains: kept in its progress file so that
    `suite status` shows achieved GFLOP/s while it trains (``live``)."""
    return {"gflop_per_image": gflop, "peak_gflops": peak.gflops, "peak_precision": peak.precision,
            "peak_source": peak.source}


def live(images_per_s: float | None, kept: Any) -> Throughput | None:
    """``throughput`` from a progress file's ``basis`` (None when it has none, or a malformed one)."""
    if not isinstance(kept, dict):
        return None
    gflop, peak = kept.get("gflop_per_image"), kept.get("peak_gflops")
    if not all(v is None or (isinstance(v, int | float) and not isinstance(v, bool)) for v in (gflop, peak)):
        return None
    return throughput(images_per_s, gflop, Peak(peak, str(kept.get("peak_precision") or ""),
                                                str(kept.get("peak_source") or "")))
