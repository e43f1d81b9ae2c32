"""What the Pi 4's torch 1.11 executes for one image: calls, multiply-accumulates by kind, bytes moved.

The model runs once here (batch 1, fp32, eval, CPU, zeros) under an aten-level dispatch trace, which sees every
convolution with its arguments whether a module or a functional call issued it; every traced op is then
*re-expanded the way the Pi runs it*, not the way this build does (facts and sources:
``../shared/reference/README.md``, "How PyTorch executes on the Pi"):

- the aarch64 wheels of torch 1.11 have no oneDNN, NNPACK only serves batches of 16 or more, XNNPACK
  convolutions exist only in mobile builds, and the NEON depthwise 3x3 kernel is compiled only where
  ``__ARM_NEON__`` is defined (32-bit ARM, not aarch64). So a batch-1 convolution is ``slow_conv2d``:
  im2col into a column buffer (skipped for a 1x1, stride 1, unpadded kernel, whose columns are the input
  itself), then one OpenBLAS GEMM of (C_out/g) x (C_in/g*kh*kw) by (C_in/g*kh*kw) x (H_out*W_out);
- a grouped or depthwise convolution runs **one such small convolution per group** (``_convolution``'s loop
  over ``groups``): a depthwise layer of C channels is C convolution calls, each with its own column buffer
  and output tensor, then one ``cat`` that copies the C outputs into the result. At batch 1 the input and
  weight slices are already contiguous, so their ``.contiguous()`` copies are free;
- OpenBLAS runs a GEMM on one thread when M*N*K <= 65536 * 4 (``SMP_THRESHOLD_MIN`` times the default
  ``GEMM_MULTITHREAD_THRESHOLD``), on all four cores above: that decides whether a call's MACs are
  "gemm" (multi-threaded, GEMM-friendly) or "small" (single-threaded, per-group or tiny);
- every other working op (batch norm, activations, adds, pools, cat, linear) is one call; views and aliases
  (flatten, eval-mode dropout) launch no kernel and move nothing.

Bytes moved = activations read and written by every call + weights read + im2col column buffers (written by
im2col, read by the GEMM) + the per-group outputs' copy into the concatenated result (read + write).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np
import torch
from torch import nn
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_flatten

FEATURES_VERSION = 2  # bump when a count changes meaning (the disk cache is also keyed by this file's bytes)
# OpenBLAS interface/gemm.c: one thread when m*n*k <= SMP_THRESHOLD_MIN (65536) * GEMM_MULTITHREAD_THRESHOLD (4).
OPENBLAS_SINGLE_THREAD_MNK = 65536 * 4
FLOAT_BYTES = 4
# What each candidate fit feature's coefficient is: the unit it is quoted in and its physical meaning.
FEATURE_UNITS = {
    "one": ("ms", "fixed cost per image (input handling and timing harness; the authors did not publish theirs)"),
    "kcalls": ("us per call", "per-call overhead of every call the Pi executes"),
    "kops": ("us per op", "per-op overhead of the ops the model issues (Python, dispatcher, allocation)"),
    "kgroup_calls": ("us per call", "cost of each per-group convolution call inside a grouped conv"),
    "gmacs": ("ms per GMAC", "inverse arithmetic rate, all MACs"),
    "gmacs_gemm": ("ms per GMAC", "inverse rate of multi-threaded OpenBLAS GEMMs"),
    "gmacs_small": ("ms per GMAC", "inverse rate of single-threaded small GEMMs (per-group convs, tiny layers)"),
    "mbytes": ("ms per MB", "inverse bandwidth, every byte moved"),
    "mbytes_weights": ("ms per MB", "inverse bandwidth of weights streamed from DRAM (read once per image)"),
    "mbytes_activations": ("ms per MB", "inverse bandwidth of activations, im2col buffers and copies"),
}
_CONV_OPS = ("conv2d", "convolution", "_convolution", "conv1d", "conv3d")
_GEMM_OPS = ("linear", "addmm", "mm", "bmm", "matmul", "baddbmm")


@dataclass(frozen=True)
class Features:
    """What the Pi executes for ``model`` at one input size (batch 1, fp32); counts, MACs and bytes."""

    input_size: tuple[int, int, int]
    conv_ops: int  # convolutions the model issues (each once, whatever its groups)
    conv_calls: int  # convolution calls as the Pi runs them: a grouped conv counts one per group
    group_copy_calls: int  # the cat that joins a grouped conv's per-group outputs (one per grouped conv)
    gemm_calls: int  # linear / matmul calls
    other_calls: int  # every other working op: batch norm, activations, adds, pools, cat, ...
    views: int  # aliasing ops (no kernel); reported, not fitted
    gemm_macs: int  # MACs in GEMMs OpenBLAS runs multi-threaded (M*N*K above its threshold)
    small_macs: int  # MACs in single-threaded small GEMMs: per-group convs and tiny layers
    grouped_macs: int  # of the above two, the MACs of grouped/depthwise convs (information)
    activation_bytes: int  # read + written by every call, weights excluded
    weight_bytes: int  # parameters and buffers read by the calls
    im2col_bytes: int  # column buffers: written by im2col, read by the GEMM
    copy_bytes: int  # per-group outputs copied into the concatenated result (read + write)

    @property
    def calls(self) -> int:
        return self.conv_calls + self.group_copy_calls + self.gemm_calls + self.other_calls

    @property
    def ops(self) -> int:
        """Working ops the model issues (through Python and the dispatcher): a grouped conv counts once."""
        return self.conv_ops + self.gemm_calls + self.other_calls

    @property
    def group_calls(self) -> int:
        """The calls a grouped conv adds inside aten: per-group convs beyond the one issued, plus the cat."""
        return self.conv_calls - self.conv_ops + self.group_copy_calls

    @property
    def macs(self) -> int:
        return self.gemm_macs + self.small_macs

    @property
    def bytes_moved(self) -> int:
        return self.activation_bytes + self.weight_bytes + self.im2col_bytes + self.copy_bytes

    def scaled(self) -> dict[str, float]:
        """Every candidate fit feature, in the unit its coefficient is quoted per (``FEATURE_UNITS``)."""
        return {"one": 1.0, "kcalls": self.calls / 1e3, "kops": self.ops / 1e3, "kgroup_calls": self.group_calls / 1e3,
                "gmacs": self.macs / 1e9, "gmacs_gemm": self.gemm_macs / 1e9, "gmacs_small": self.small_macs / 1e9,
                "mbytes": self.bytes_moved / 1e6, "mbytes_weights": self.weight_bytes / 1e6,
                "mbytes_activations": (self.activation_bytes + self.im2col_bytes + self.copy_bytes) / 1e6}

    def vector(self, names: Sequence[str]) -> np.ndarray:
        scaled = self.scaled()
        return np.array([scaled[n] for n in names], dtype=float)

    def to_dict(self) -> dict:
        return asdict(self) | {"input_size": list(self.input_size), "calls": self.calls, "macs": self.macs,
                               "bytes_moved": self.bytes_moved}

    @classmethod
    def from_dict(cls, d: dict) -> Features:
        names = [f for f in cls.__dataclass_fields__ if f != "input_size"]
        return cls(tuple(d["input_size"]), *(int(d[n]) for n in names))


def _storage(t: torch.Tensor) -> int:
    return t.untyped_storage().data_ptr()


def _nbytes(t: torch.Tensor) -> int:
    return t.numel() * t.element_size()


def _op_name(func) -> str:
    return func.overloadpacket.__name__


@dataclass
class _Counts:
    conv_ops: int = 0
    conv_calls: int = 0
    group_copy_calls: int = 0
    gemm_calls: int = 0
    other_calls: int = 0
    views: int = 0
    gemm_macs: int = 0
    small_macs: int = 0
    grouped_macs: int = 0
    activation_bytes: int = 0
    weight_bytes: int = 0
    im2col_bytes: int = 0
    copy_bytes: int = 0

    def add_gemm(self, m: int, n: int, k: int, calls: int = 1) -> None:
        """``calls`` GEMMs of (m x k) @ (k x n), each threaded or not by OpenBLAS's rule."""
        if m * n * k > OPENBLAS_SINGLE_THREAD_MNK:
            self.gemm_macs += calls * m * n * k
        else:
            self.small_macs += calls * m * n * k


def _conv(c: _Counts, x: torch.Tensor, w: torch.Tensor, out: torch.Tensor, stride, padding, groups: int) -> None:
    """A convolution as slow_conv2d runs it: per group, im2col (unless 1x1/s1/p0) then one GEMM."""
    g = int(groups)
    c_out, cin_g, *kernel = w.shape
    k = cin_g * int(np.prod(kernel))  # GEMM inner dimension (one column of the im2col buffer)
    batch = x.shape[0]
    n = int(np.prod(out.shape[2:]))  # output positions per image
    m = c_out // g
    unpadded = padding == "same" or _no_padding(padding)  # "same" pads a 1x1 kernel by nothing
    pointwise = all(s == 1 for s in kernel) and all(int(s) == 1 for s in _seq(stride)) and unpadded
    c.conv_ops += 1
    c.conv_calls += g  # slow_conv2d loops over the images inside one call
    c.add_gemm(m, n, k, calls=g * batch)
    if g > 1:
        c.grouped_macs += g * batch * m * n * k
        c.group_copy_calls += 1
        c.copy_bytes += 2 * _nbytes(out)  # per-group outputs read, the concatenation written
    if not pointwise:
        c.im2col_bytes += 2 * g * batch * k * n * FLOAT_BYTES  # column buffer written, then read by the GEMM
    c.activation_bytes += _nbytes(x) + _nbytes(out)


def _seq(v) -> tuple:
    return tuple(v) if isinstance(v, (list, tuple)) else (v,)


def _no_padding(padding) -> bool:
    if isinstance(padding, str):
        return padding == "valid"
    return all(int(p) == 0 for p in _seq(padding))


def _gemm(c: _Counts, name: str, args, out: torch.Tensor) -> None:
    tensors = [a for a in args if isinstance(a, torch.Tensor)]
    if name == "linear":
        x, w = tensors[0], tensors[1]
        m, k, n = w.shape[0], w.shape[1], x.numel() // x.shape[-1]
    elif name in ("addmm", "baddbmm"):
        x, w = tensors[1], tensors[2]
        m, k, n = x.shape[-2], x.shape[-1], w.shape[-1]
    else:
        x, w = tensors[0], tensors[1]
        m, k, n = x.shape[-2] if x.dim() > 1 else 1, x.shape[-1], w.shape[-1] if w.dim() > 1 else 1
    batches = max(1, out.numel() // max(1, m * n))
    c.gemm_calls += 1
    c.add_gemm(int(m), int(n), int(k), calls=int(batches))


class _PiTrace(TorchDispatchMode):
    """Counts, for each traced aten op, what the Pi's torch 1.11 executes for it (module docstring)."""

    def __init__(self, params: set[int]):
        super().__init__()
        self.params = params  # storages of parameters and buffers: weight traffic, not activations
        self.counts = _Counts()

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        out = func(*args, **kwargs)
        ins = [t for t in tree_flatten((args, kwargs))[0] if isinstance(t, torch.Tensor)]
        outs = [t for t in tree_flatten(out)[0] if isinstance(t, torch.Tensor)]
        in_storages = {_storage(t) for t in ins}
        if not outs or (torch.Tag.inplace not in func.tags and all(_storage(t) in in_storages for t in outs)):
            self.counts.views += 1  # views, flatten, eval-mode dropout alias their input: no kernel, no traffic
            return out
        c, name = self.counts, _op_name(func)
        weights = [t for t in ins if _storage(t) in self.params]
        c.weight_bytes += sum(_nbytes(t) for t in weights)
        if name in _CONV_OPS:
            stride, padding, groups = _conv_args(name, args, kwargs)
            _conv(c, args[0], args[1], outs[0], stride, padding, groups)
            return out
        c.activation_bytes += sum(_nbytes(t) for t in ins if _storage(t) not in self.params)
        c.activation_bytes += sum(_nbytes(t) for t in outs)
        if name in _GEMM_OPS:
            _gemm(c, name, args, outs[0])
        else:
            c.other_calls += 1
        return out


def _conv_args(name: str, args, kwargs) -> tuple:
    """(stride, padding, groups) of conv2d(x, w, b, stride, padding, dilation, groups) or
    convolution(x, w, b, stride, padding, dilation, transposed, output_padding, groups)."""
    full = list(args) + [None] * 9
    if name.startswith("conv") and name != "convolution":
        stride, padding, groups = full[3], full[4], full[6]
    else:
        stride, padding, groups = full[3], full[4], full[8]
    stride = kwargs.get("stride", stride if stride is not None else 1)
    padding = kwargs.get("padding", padding if padding is not None else 0)
    groups = kwargs.get("groups", groups if groups is not None else 1)
    return stride, padding, groups


def extract_features(model: nn.Module, input_size=(3, 32, 32)) -> Features:
    """Run ``model`` once on zeros of ``input_size`` (batch 1, CPU, eval) and count what the Pi executes.

    The model's train/eval flags are restored; it must be on the CPU.
    """
    input_size = tuple(int(s) for s in input_size)
    training = {m: m.training for m in model.modules()}
    params = {_storage(t) for t in (*model.parameters(), *model.buffers())}
    x = torch.zeros(1, *input_size)
    try:
        model.eval()
        with torch.inference_mode(), _PiTrace(params) as trace:
            model(x)
    finally:
        for m, mode in training.items():
            m.training = mode
    return Features(input_size, **asdict(trace.counts))
