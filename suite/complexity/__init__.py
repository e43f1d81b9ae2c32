"""Model complexity (FLOPs, MAdd, Memory, MemR+W, #Params) under three conventions.

>>> from suite.complexity import profile
>>> report = profile(model, (3, 224, 224))                  # torchstat 0.0.7, as the papers measured
>>> report.flops, report.madd, report.memory_mb, report.memrw_mb, report.params
>>> profile(model, convention="complete").macs              # every call and functional op counted
>>> profile(model, convention="ptflops").macs               # ptflops' get_model_complexity_info, as is
>>> profile_all(model, (3, 32, 32))                         # {"torchstat": ..., "complete": ..., "ptflops": ...}
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from suite.complexity.report import CONVENTIONS, ComplexityReport, LayerStats

if TYPE_CHECKING:
    from suite.complexity.profiler import profile, profile_all


def __getattr__(name: str) -> Any:
    # the counters import torch: loaded on first use, so that the conventions and the report type stay light
    if name in ("profile", "profile_all"):
        from suite.complexity import profiler

        return getattr(profiler, name)
    raise AttributeError(f"module 'suite.complexity' has no attribute {name!r}")


__all__ = ["CONVENTIONS", "ComplexityReport", "LayerStats", "profile", "profile_all"]
