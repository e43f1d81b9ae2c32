"""What a complexity profile returns: per-layer rows and totals, raw counts plus MB (MiB) floats."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

TRACED = ("torchstat", "complete")  # both counted from one instrumented forward pass (suite.complexity.profiler)
CONVENTIONS = (*TRACED, "ptflops")  # every convention a run records, in report order

MIB = 1024**2


@dataclass
class LayerStats:
    """One row: a leaf module (torchstat convention) or any module that ran ops (complete convention)."""

    name: str
    type: str
    input_shape: tuple[int, ...]
    output_shape: tuple[int, ...]
    params: int
    flops: int
    madd: int
    memory_bytes: int  # bytes of the output (torchstat: output elements x 4, batch excluded)
    mem_read_bytes: int
    mem_write_bytes: int
    calls: int = 1  # torchstat keeps only the last call; the complete count sums them all
    supported: bool = True  # False: torchstat has no formula for this type (counts 0 FLOPs/MAdd/MemR+W)

    @property
    def memrw_bytes(self) -> int:
        return self.mem_read_bytes + self.mem_write_bytes


@dataclass
class ComplexityReport:
    convention: str  # "torchstat", "complete" or "ptflops"
    input_size: tuple[int, int, int]
    params: int
    flops: int
    madd: int
    memory_mb: float | None  # MiB, as torchstat prints "MB"; None where the counter has no memory figure
    mem_read_mb: float | None
    mem_write_mb: float | None
    layers: list[LayerStats] = field(default_factory=list)
    # Ops torchstat does not see (run outside any leaf module: torch.cat, +, F.*, views), aten name -> count.
    ignored_ops: dict[str, int] = field(default_factory=dict)
    # Leaf types torchstat has no formula for (their FLOPs/MAdd/MemR+W count 0), type -> number of modules.
    unsupported_layers: dict[str, int] = field(default_factory=dict)
    # Leaves called more than once, name -> calls (torchstat keeps the last call only).
    reused_layers: dict[str, int] = field(default_factory=dict)
    macs: int | None = None  # complete: multiply-accumulates of conv / linear / matmul ops; ptflops: its figure
    notes: str = ""

    @property
    def memrw_mb(self) -> float | None:
        if self.mem_read_mb is None or self.mem_write_mb is None:
            return None
        return self.mem_read_mb + self.mem_write_mb

    @property
    def params_m(self) -> float:
        return self.params / 1e6

    @property
    def flops_g(self) -> float:
        return self.flops / 1e9

    @property
    def madd_g(self) -> float:
        return self.madd / 1e9

    def to_dict(self, layers: bool = False) -> dict:
        out = {
            "convention": self.convention,
            "input_size": list(self.input_size),
            "params": self.params,
            "flops": self.flops,
            "madd": self.madd,
            "memory_mb": self.memory_mb,
            "mem_read_mb": self.mem_read_mb,
            "mem_write_mb": self.mem_write_mb,
            "memrw_mb": self.memrw_mb,
            "params_m": self.params_m,
            "flops_g": self.flops_g,
            "madd_g": self.madd_g,
            "ignored_ops": dict(self.ignored_ops),
            "unsupported_layers": dict(self.unsupported_layers),
            "reused_layers": dict(self.reused_layers),
            "notes": self.notes,
        }
        if self.macs is not None:
            out["macs"] = self.macs
            out["macs_g"] = self.macs / 1e9
        if layers:
            out["layers"] = [asdict(row) | {"memrw_bytes": row.memrw_bytes} for row in self.layers]
        return out
