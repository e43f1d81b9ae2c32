"""The ptflops convention: ptflops' own ``get_model_complexity_info`` (pytorch backend, its defaults), called as is.

The suite does not re-implement ptflops; it calls it on one image of the requested size, silences its prints,
and leaves the model as it found it (ptflops adds methods and counters to the model and switches it to eval).
What ptflops 0.7 counts, read off its source and checked on tiny modules in tests/test_complexity.py:
- its figure is **MACs** (it prints "GMac"): conv k*k*C_in*C_out/groups per output position plus one per
  output element for a bias; Linear in*out (+ out with bias); BatchNorm/LayerNorm/GroupNorm one per input
  element (two when affine); ReLU/PReLU/ELU/LeakyReLU/ReLU6/GELU one per output element; pooling one per
  input element; Upsample one per output element;
- every call counts (a module reused N times counts N times);
- with its functional patching on (the default) also F.relu/elu/relu6/gelu/silu/pooling/softmax/interpolate
  and torch.add/mul/matmul/mm/bmm/addmm calls, one per element; so an nn.ReLU is counted twice (its hook and
  the F.relu it calls) and nn.SiLU once (through F.silu), while the ``+`` and ``*`` operators, torch.cat,
  Hardswish, Hardsigmoid and Sigmoid count 0;
- #Params = parameters that require grad; no memory figures.
"""

from __future__ import annotations

import contextlib
import io
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version

import torch
from torch import nn

from suite.complexity.report import ComplexityReport

# What ptflops attaches to the model it is given (0.7.x) and never removes.
_ROOT_ATTRS = ("start_flops_count", "stop_flops_count", "reset_flops_count", "compute_average_flops_cost",
               "__batch_counter__")
_HANDLES = ("__flops_handle__", "__batch_counter_handle__")


def _ptflops_version() -> str:
    try:
        return version("ptflops")
    except PackageNotFoundError:  # pragma: no cover - a dependency of the package
        return "?"


NOTE = (f"ptflops {_ptflops_version()} convention (its get_model_complexity_info, pytorch backend, defaults): "
        "macs = its figure (MACs, printed as GMac): conv/linear with bias, norm layers, ReLU-family, pooling, "
        "upsampling, every call; its patched functionals (F.relu, F.silu, pooling, softmax, interpolate) and "
        "torch.add/mul/matmul calls count one per element, so nn.ReLU counts twice and the + operator, "
        "torch.cat and Hardswish count 0; flops = madd = 2 x macs (as in the complete count); "
        "params = trainable parameters; no memory figures")


@dataclass
class PtflopsCount:
    report: ComplexityReport
    per_layer: str  # ptflops' own per-layer printout (the model's repr with its figures), "" unless asked


def _restore(model: nn.Module, added: list[str], training: list[tuple[nn.Module, bool]]) -> None:
    for module in model.modules():
        for attr in _HANDLES:  # ptflops removes its hooks itself; this covers a failure before it could
            handle = module.__dict__.pop(attr, None)
            if handle is not None:
                handle.remove()
    for attr in added:
        model.__dict__.pop(attr, None)
    for module, flag in training:
        module.training = flag


def count(model: nn.Module, input_size: tuple[int, int, int], *, per_layer: bool = False) -> PtflopsCount:
    """ptflops' MACs and #Params of ``model`` for one image of ``input_size``; RuntimeError when ptflops fails."""
    from ptflops import get_model_complexity_info

    c, h, w = (int(s) for s in input_size)
    input_size = (c, h, w)
    added = [a for a in _ROOT_ATTRS if a not in model.__dict__]
    training = [(m, m.training) for m in model.modules()]
    layers, chatter = io.StringIO(), io.StringIO()
    try:
        # ptflops reports a failed forward pass by printing and returning (None, None): keep its output
        with torch.no_grad(), contextlib.redirect_stdout(chatter), contextlib.redirect_stderr(chatter):
            macs, params = get_model_complexity_info(model, input_size, print_per_layer_stat=per_layer,
                                                     as_strings=False, ost=layers, verbose=False,
                                                     backend="pytorch")
    finally:
        _restore(model, added, training)
    if macs is None or params is None:
        lines = [line for line in chatter.getvalue().strip().splitlines() if line.strip()]
        raise RuntimeError(f"ptflops could not count this model: {lines[-1] if lines else 'no reason given'}")
    macs, params = int(macs), int(params)
    report = ComplexityReport(convention="ptflops", input_size=input_size, params=params, flops=2 * macs,
                              madd=2 * macs, memory_mb=None, mem_read_mb=None, mem_write_mb=None, macs=macs,
                              notes=NOTE)
    return PtflopsCount(report, layers.getvalue() if per_layer else "")
