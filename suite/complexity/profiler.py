"""One instrumented forward pass feeds two conventions: leaf hooks (torchstat), aten op stream (complete); the
third, ptflops, is ptflops' own counter run on the model (suite.complexity.ptflops_count)."""

from __future__ import annotations

import contextlib
import warnings
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

import torch
from torch import nn
from torch._subclasses.fake_tensor import FakeTensorMode
from torch.utils._python_dispatch import TorchDispatchMode

from suite.complexity.complete import NOTE as COMPLETE_NOTE
from suite.complexity.complete import op_cost
from suite.complexity.ptflops_count import count as ptflops_count
from suite.complexity.report import CONVENTIONS, MIB, TRACED, ComplexityReport, LayerStats
from suite.complexity.torchstat import leaf_stats

ROOT = "(model)"

TORCHSTAT_NOTE = ("torchstat 0.0.7 convention: leaf modules only, last call of a reused module, functional "
                  "ops invisible, unsupported leaf types count 0 (their outputs still add to Memory); "
                  "FLOPs/MAdd raw counts (printed in decimal G), Memory and MemR+W in MiB; "
                  "params of called leaves")


@dataclass
class _Trace:
    order: list[str]  # module names in named_modules order
    leaves: set[str]
    types: dict[str, str]
    leaf_rows: dict[str, LayerStats] = field(default_factory=dict)  # last call of each leaf
    calls: Counter = field(default_factory=Counter)
    shapes: dict[str, tuple[tuple[int, ...], tuple[int, ...]]] = field(default_factory=dict)
    ignored: Counter = field(default_factory=Counter)  # ops outside every leaf
    # complete convention, per innermost module: [macs, read, write]
    costs: dict[str, list[int]] = field(default_factory=dict)


class _OpStream(TorchDispatchMode):
    def __init__(self, trace: _Trace, stack: list[str]):
        super().__init__()
        self.trace, self.stack = trace, stack

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        out = func(*args, **kwargs)
        if getattr(func, "namespace", "") == "prim":
            return out  # metadata queries (prim.device under FakeTensorMode), not computation
        where = self.stack[-1] if self.stack else ROOT
        cost = op_cost(func, args, kwargs, out)
        if where not in self.trace.leaves:
            self.trace.ignored[cost.name] += 1
        acc = self.trace.costs.setdefault(where, [0, 0, 0])
        acc[0] += cost.macs
        acc[1] += cost.read_bytes
        acc[2] += cost.write_bytes
        return out


def _shape(x) -> tuple[int, ...]:
    return tuple(x.shape) if isinstance(x, torch.Tensor) else ()


def _example_input(model: nn.Module, input_size: tuple[int, int, int], fake: bool) -> torch.Tensor:
    ref: torch.Tensor | None = next(iter(model.parameters()), None)
    if ref is None:
        ref = next(iter(model.buffers()), None)
    device = ref.device if ref is not None else torch.device("cpu")
    dtype = ref.dtype if ref is not None and ref.is_floating_point() else torch.float32
    if fake:
        return torch.empty((1, *input_size), device=device, dtype=dtype)  # created inside FakeTensorMode
    gen = torch.Generator(device=device).manual_seed(0)  # never touch the global RNG
    return torch.rand((1, *input_size), generator=gen, device=device, dtype=dtype)


def _trace(model: nn.Module, input_size: tuple[int, int, int], *, fake: bool) -> _Trace:
    """One forward pass with hooks on every module and the op stream on.

    ``fake=True`` runs on FakeTensors: shapes, dtypes and the op sequence without computing anything
    (faster than computing for large networks at large inputs, see FAKE_ABOVE_MACS); the parameters stay
    real and untouched. Models whose control flow reads tensor
    values cannot run fake: the caller then retries with ``fake=False``.
    """
    named = list(model.named_modules())
    names = [n or ROOT for n, _ in named]
    trace = _Trace(names, {n or ROOT for n, m in named if next(m.children(), None) is None},
                   {n or ROOT: type(m).__name__ for n, m in named})
    stack: list[str] = []
    handles = []
    training = [(m, m.training) for m in model.modules()]

    def pre(name):
        def hook(module, args):
            stack.append(name)
        return hook

    def post(name, is_leaf):
        def hook(module, args, output):
            if stack and stack[-1] == name:
                stack.pop()
            trace.calls[name] += 1
            trace.shapes[name] = (_shape(args[0]) if args else (), _shape(output))
            if is_leaf:
                trace.leaf_rows[name] = leaf_stats(name, module, args, output)  # last call wins
        return hook

    try:
        for (_, module), name in zip(named, names, strict=True):
            handles.append(module.register_forward_pre_hook(pre(name)))
            handles.append(module.register_forward_hook(post(name, name in trace.leaves), always_call=True))
        model.eval()
        # no_grad, not inference_mode: under inference_mode composite ops (conv2d, linear) reach the op
        # stream undecomposed and the flop formulas (convolution, addmm) would not see them.
        with torch.no_grad(), contextlib.ExitStack() as modes:
            if fake:
                modes.enter_context(FakeTensorMode(allow_non_fake_inputs=True))
            x = _example_input(model, input_size, fake)
            modes.enter_context(_OpStream(trace, stack))
            model(x)
    finally:
        for h in handles:
            h.remove()
        for m, flag in training:
            m.training = flag
    return trace


def _torchstat_report(model: nn.Module, trace: _Trace, input_size) -> ComplexityReport:
    rows = [trace.leaf_rows[n] for n in trace.order if n in trace.leaf_rows]
    for row in rows:
        row.calls = trace.calls[row.name]
    return ComplexityReport(
        convention="torchstat", input_size=tuple(input_size),
        params=sum(r.params for r in rows), flops=sum(r.flops for r in rows), madd=sum(r.madd for r in rows),
        memory_mb=sum(r.memory_bytes for r in rows) / MIB,
        mem_read_mb=sum(r.mem_read_bytes for r in rows) / MIB,
        mem_write_mb=sum(r.mem_write_bytes for r in rows) / MIB,
        layers=rows, ignored_ops=dict(sorted(trace.ignored.items())),
        unsupported_layers=dict(sorted(Counter(r.type for r in rows if not r.supported).items())),
        reused_layers={r.name: r.calls for r in rows if r.calls > 1},
        notes=TORCHSTAT_NOTE)


def _complete_report(model: nn.Module, trace: _Trace, input_size) -> ComplexityReport:
    modules = dict(model.named_modules())
    rows = []
    for name in trace.order:
        if name not in trace.costs:
            continue
        macs, read, write = trace.costs[name]
        module = modules["" if name == ROOT else name]
        params = sum(p.numel() for p in module._parameters.values() if p is not None)
        in_shape, out_shape = trace.shapes.get(name, ((), ()))
        rows.append(LayerStats(name, trace.types[name], in_shape[1:], out_shape[1:], params,
                               2 * macs, 2 * macs, write, read, write, calls=trace.calls[name]))
    macs = sum(trace.costs[n][0] for n in trace.costs)
    return ComplexityReport(
        convention="complete", input_size=tuple(input_size),
        params=sum(p.numel() for p in model.parameters()), flops=2 * macs, madd=2 * macs,
        memory_mb=sum(r.memory_bytes for r in rows) / MIB,
        mem_read_mb=sum(r.mem_read_bytes for r in rows) / MIB,
        mem_write_mb=sum(r.mem_write_bytes for r in rows) / MIB,
        layers=rows, macs=macs, notes=COMPLETE_NOTE)


def _check_size(input_size) -> tuple[int, int, int]:
    input_size = tuple(int(s) for s in input_size)
    if len(input_size) != 3:
        raise ValueError(f"input_size must be (C, H, W), got {input_size!r}")
    return input_size


def _check_conventions(conventions: Iterable[str]) -> tuple[str, ...]:
    conventions = tuple(conventions)
    for c in conventions:
        if c not in CONVENTIONS:
            raise ValueError(f"unknown convention {c!r}; choose from {', '.join(CONVENTIONS)}")
    return conventions


# A FakeTensor pass costs 0.4-2 s whatever the tensor sizes (its per-op dispatch); a real batch-1 pass costs its
# multiply-adds. A convolutional network does at most about 400 MACs per parameter at 224 x 224 (DenseNet-121 360,
# ResNets 165, MobileNets under 100), scaling with the pixels. On a 2-core Xeon, one thread (Dec 2026), the two
# passes cost the same near this bound (ResNeXt101-32x8d, bound 3.6e10: fake 0.65 s, real 0.55 s; DenseNet-161,
# 1.1e10: 1.5 s against 0.26 s): below it the real pass is the faster one.
FAKE_ABOVE_MACS = 4e10


def _mac_bound(model: nn.Module, input_size: tuple[int, int, int]) -> float:
    params = sum(p.numel() for p in model.parameters())
    return params * 400.0 * input_size[1] * input_size[2] / (224 * 224)


def _traced(model: nn.Module, input_size, conventions: tuple[str, ...]) -> dict[str, ComplexityReport]:
    if _mac_bound(model, input_size) <= FAKE_ABOVE_MACS:
        trace = _trace(model, input_size, fake=False)
    else:
        try:
            trace = _trace(model, input_size, fake=True)
        except Exception:  # data-dependent control flow, an op without a meta kernel...: compute for real
            trace = _trace(model, input_size, fake=False)
    builders = {"torchstat": _torchstat_report, "complete": _complete_report}
    return {c: builders[c](model, trace, input_size) for c in TRACED if c in conventions}


def profile_all(model: nn.Module, input_size=(3, 224, 224), *,
                conventions: Iterable[str] = CONVENTIONS) -> dict[str, ComplexityReport]:
    """Every convention asked for, in CONVENTIONS order: {"torchstat": ..., "complete": ..., "ptflops": ...}.

    torchstat and complete share one forward pass (on FakeTensors when the model allows it); ptflops runs
    its own real pass. A failure of ptflops alone leaves its entry out with a warning, so the other figures
    of a run are not lost; a forward pass that fails raises.
    """
    input_size = _check_size(input_size)
    conventions = _check_conventions(conventions)
    out = _traced(model, input_size, conventions) if set(conventions) & set(TRACED) else {}
    if "ptflops" in conventions:
        try:
            out["ptflops"] = ptflops_count(model, input_size).report
        except RuntimeError as exc:
            if not out:
                raise
            warnings.warn(f"{type(model).__name__}: no ptflops figures ({exc})", RuntimeWarning, stacklevel=2)
    return out


def profile(model: nn.Module, input_size=(3, 224, 224), *, convention: str = "torchstat") -> ComplexityReport:
    """Complexity of ``model`` for one image of ``input_size`` (batch 1), without changing the model.

    ``convention="torchstat"`` reproduces torchstat 0.0.7 (the papers' tables); ``"complete"`` counts every
    call and functional op; ``"ptflops"`` is ptflops' own count (MACs). Hooks are removed and train/eval
    flags restored even when the forward pass fails.
    """
    _check_conventions([convention])
    input_size = _check_size(input_size)
    if convention == "ptflops":
        return ptflops_count(model, input_size).report
    return _traced(model, input_size, (convention,))[convention]
