"""Model complexity (FLOPs, MAdd, Memory, MemR+W, #Params) under three conventions.

>>> from suite.complexity import profile
>>> report = profile(model, (3, 224, 224))                  # torchstat 0.0.7, as the papers measured
>>> report.flops, report.madd, report.memory_mb, report.memrw_mb, report.params
>>> profile(model, convention="complete").macs              # every call and functional op counted
>>> profile(model, convention="ptflops").macs               # ptflops' get_model_complexity_info, as is
>>> profile_all(model, (3, 32, 32))                         # {"torchstat": ..., "complete": ..., "ptflops": ...}
"""

from suite.complexity.profiler import CONVENTIONS, profile, profile_all
from suite.complexity.report import ComplexityReport, LayerStats

__all__ = ["CONVENTIONS", "ComplexityReport", "LayerStats", "profile", "profile_all"]
